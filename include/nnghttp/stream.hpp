// Byte streams (nng_stream, nng_stream_dialer, nng_stream_listener):
// tcp://, tls+tcp://, ipc://.  Reads and writes move at least one byte.
#pragma once

#include <nng/nng.h>
#include <nnghttp/config.hpp>
#include <nnghttp/task.hpp>

#include <cstddef>
#include <span>
#include <string_view>

namespace nnghttp {

class aio;
class tls_config;

class NNGHTTP_API stream {
  public:
    stream() noexcept = default;
    stream(adopt_t, nng_stream* s) noexcept : s_(s) {}
    ~stream();
    stream(stream&& o) noexcept;
    stream& operator=(stream&& o) noexcept;

    explicit operator bool() const noexcept { return s_ != nullptr; }

    // Coroutines: the count of bytes moved (at least one).
    op<std::size_t> send(std::span<const std::byte> data);
    op<std::size_t> recv(std::span<std::byte> buf);
    // Callback style: the buffers are the aio's (aio::set_buffer).
    void send(aio& a);
    void recv(aio& a);
    // Pending operations fail with errc::closed.
    void close() noexcept;

    nng_stream* native() const noexcept { return s_; }
    nng_stream* release() noexcept;

  private:
    nng_stream* s_ = nullptr;
};

class NNGHTTP_API stream_dialer {
  public:
    // Throws nnghttp::error (errc::not_supported for an unknown scheme).
    explicit stream_dialer(std::string_view url);
    stream_dialer(adopt_t, nng_stream_dialer* d) noexcept : d_(d) {}
    ~stream_dialer();
    stream_dialer(stream_dialer&& o) noexcept;
    stream_dialer& operator=(stream_dialer&& o) noexcept;

    // tls+tcp:// only.
    void set_tls(const tls_config& cfg);
    op<stream> dial();
    void close() noexcept;

    nng_stream_dialer* native() const noexcept { return d_; }

  private:
    nng_stream_dialer* d_ = nullptr;
};

class NNGHTTP_API stream_listener {
  public:
    explicit stream_listener(std::string_view url);
    stream_listener(adopt_t, nng_stream_listener* l) noexcept : l_(l) {}
    ~stream_listener();
    stream_listener(stream_listener&& o) noexcept;
    stream_listener& operator=(stream_listener&& o) noexcept;

    void set_tls(const tls_config& cfg);
    // Binds (throws nnghttp::error, e.g. errc::address_in_use).
    void listen();
    // The bound TCP port (after listen(); useful with port 0).
    std::uint16_t port() const;
    op<stream> accept();
    void close() noexcept;

    nng_stream_listener* native() const noexcept { return l_; }

  private:
    nng_stream_listener* l_ = nullptr;
};

} // namespace nnghttp
