// A TLS stream over any byte stream, on OpenSSL 3 with memory BIOs: the
// engine never touches a socket; ciphertext moves between the BIOs and the
// underlying stream through two internal aios, so the TLS stream keeps the
// aio contract of every stream (stream.hpp) and runs on the same loops.
//
//   user send -> SSL_write -> wbio -> (flush) -> underlying send
//   underlying recv -> rbio -> SSL_read -> user recv
//
// The handshake runs on the first operation (or at once with start()).
// Backpressure: SSL_write is not called while more than 64 KiB of
// ciphertext waits to be sent.  A stream parked between requests
// (wait_readable) gives OpenSSL's record buffers back, and holds only a
// small receive buffer of its own (see the members).  Errors: a handshake the peer fails to
// authenticate gives NNG_EPEERAUTH, any other TLS failure NNG_ECRYPTO; both
// close the stream.  A close_notify from the peer reads as NNG_ECONNSHUT;
// closing sends ours.
#pragma once

#include "core/aio.hpp"
#include "stream/stream.hpp"
#include "tls/config.hpp"

#include <memory>
#include <mutex>
#include <string>

typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace nnghttp::detail::tls {

class tls_stream final : public stream {
  public:
    // Takes over one reference to under; holds cfg.  For a client, name is
    // the server name sent (SNI) and verified ("" for neither).
    static int create(ref_ptr<stream> under, config& cfg, const std::string& name,
                      tls_stream*& out);

    // Starts the handshake without waiting for an operation (servers).
    void start();

    void send(aio* a) override;
    void recv(aio* a) override;
    void close() override;
    int get(std::string_view name, const opt_out& out) override;
    int set(std::string_view name, const opt_in& in) override;
    void send_file(aio* a, const file_span& f) override;
    // A receive of up to len plaintext bytes into buf through an aio of
    // our own; what the engine has decrypted already completes it at once.
    bool wait_readable(ready_fn fn, void* arg, char* buf, std::size_t len) override;
    // Bytes of the buffers the stream holds beyond its own fixed size
    // (ciphertext buffers and the engine's memory BIOs; not OpenSSL's
    // record buffers): what an idle connection keeps (tests).
    std::size_t buffer_bytes();

  private:
    tls_stream(ref_ptr<stream> under, config& cfg, SSL* ssl);
    ~tls_stream() override;
    void destroy() noexcept override;

    void submit(aio* a, bool is_send);
    void pump(aio_list& done);
    void fail_all(int rv, aio_list& done);
    int ssl_error(int ret);
    static void rx_cb(void* arg);
    static void tx_cb(void* arg);
    static void wake_cb(void* arg);
    static void cancel(aio* a, void* arg, int err);

    std::mutex mtx_;
    ref_ptr<stream> under_;
    config* cfg_;
    SSL* ssl_;
    BIO* rbio_; // ciphertext in (owned by ssl_)
    BIO* wbio_; // ciphertext out (owned by ssl_)
    bool hs_done_ = false;
    bool closed_ = false;
    int err_ = 0; // sticky: every operation fails with it
    aio_queue rdq_, wrq_;
    // underlying I/O
    aio rx_, tx_;
    aio wake_; // wait_readable's receive
    ready_fn wake_fn_ = nullptr;
    void* wake_arg_ = nullptr;
    bool rx_busy_ = false, tx_busy_ = false;
    int rx_err_ = 0; // the underlying stream's receive side ended with this
    // Buffers: an idle connection holds only small_in_.  Ciphertext is
    // received into small_in_ until a receive fills it, then into netin_
    // (16 KiB, allocated then) until a receive fits small_in_ again, when
    // netin_ is freed.  Ciphertext out goes through a per-thread scratch
    // buffer and, when the socket takes it all at once (the usual case),
    // needs nothing else; the rest waits in netout_, which is freed when
    // everything has been sent.
    void start_rx();
    void flush_out();
    void send_close_notify();
    void trim_bios();
    static constexpr std::size_t net_size = 16 * 1024;
    static constexpr std::size_t small_size = 2048;
    std::unique_ptr<char[]> netin_, netout_;
    bool rx_big_ = false; // this receive goes into netin_
    std::size_t out_len_ = 0, out_off_ = 0;
    char small_in_[small_size];
};

} // namespace nnghttp::detail::tls
