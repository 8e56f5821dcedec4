// A TLS stream over any byte stream, on OpenSSL 3: the engine never
// touches a socket.  Its one BIO (a method of ours) reads ciphertext from
// the stream's receive buffer and appends what the engine writes to the
// stream's send buffer; ciphertext moves between those buffers and the
// underlying stream through two internal aios, so the TLS stream keeps the
// aio contract of every stream (stream.hpp) and runs on the same loops.
//
//   user send -> SSL_write -> fill_ -> (flush) -> underlying send
//   underlying recv -> small_in_ / netin_ -> SSL_read -> user recv
//
// The handshake runs on the first operation (or at once with start()).
// A send completes once the underlying stream has taken all the
// ciphertext its plaintext became, as a socket's send completes once the
// kernel has its bytes: a caller that closes the stream as soon as its
// last send completes loses nothing.  Backpressure: SSL_write is not
// called while more than 64 KiB of ciphertext waits to be sent.  A stream
// parked between requests (wait_readable) gives OpenSSL's record buffers
// back, and holds only a small receive buffer of its own (see the
// members).  Errors: a handshake the peer fails to authenticate gives
// NNG_EPEERAUTH, any other TLS failure NNG_ECRYPTO; both close the stream.
// A close_notify from the peer reads as NNG_ECONNSHUT; closing sends ours.
#pragma once

#include "core/aio.hpp"
#include "stream/stream.hpp"
#include "tls/config.hpp"

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

typedef struct ssl_st SSL;
typedef struct bio_st BIO;
typedef struct bio_method_st BIO_METHOD;

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
    void last_send() noexcept override;
    // Bytes of the buffers the stream holds beyond its own fixed size
    // (ciphertext buffers; not OpenSSL's record buffers): what an idle
    // connection keeps (tests).
    std::size_t buffer_bytes();

  private:
    tls_stream(ref_ptr<stream> under, config& cfg, SSL* ssl);
    ~tls_stream() override;
    void destroy() noexcept override;

    void submit(aio* a, bool is_send);
    void pump(aio_list& done);
    void fail_all(int rv, aio_list& done);
    void settle_sent(aio_list& done);
    int ssl_error(int e);
    static void rx_cb(void* arg);
    static void tx_cb(void* arg);
    static void wake_cb(void* arg);
    static void cancel(aio* a, void* arg, int err);

    std::mutex mtx_;
    ref_ptr<stream> under_;
    config* cfg_;
    SSL* ssl_;
    BIO* bio_; // the engine's BIO, both ways (owned by ssl_)
    bool hs_done_ = false;
    // The engine has taken every byte of ciphertext it was given and asked
    // for more (a handshake step or a read said SSL_ERROR_WANT_READ): no
    // handshake step or read can move until a receive brings news, so pump()
    // makes none (each would cost an engine call that finds nothing).  A
    // server starts so: it cannot speak before the ClientHello.
    bool starved_ = false;
    bool closed_ = false;
    bool last_send_ = false;   // the next send is the last (last_send())
    bool notify_sent_ = false; // our close_notify is written
    int err_ = 0; // sticky: every operation fails with it
    aio_queue rdq_, wrq_;
    // Sends whose plaintext the engine has taken, each waiting for its
    // ciphertext to go to the underlying stream (prov_tag: the value
    // made_ had once it was written; settle_sent completes it when gone_
    // reaches that).  Counts wrap, and are compared as differences.
    aio_queue sentq_;
    std::uintptr_t made_ = 0; // ciphertext the engine has written, in all
    std::uintptr_t gone_ = 0; // of which the underlying stream has taken
    // underlying I/O
    aio rx_, tx_;
    aio wake_; // wait_readable's receive
    ready_fn wake_fn_ = nullptr;
    void* wake_arg_ = nullptr;
    bool rx_busy_ = false, tx_busy_ = false;
    int rx_err_ = 0; // the underlying stream's receive side ended with this
    // Ciphertext out: a buffer that grows as the engine writes to it.
    class out_buf {
      public:
        out_buf() = default;
        ~out_buf();
        out_buf(const out_buf&) = delete;
        out_buf& operator=(const out_buf&) = delete;
        bool append(const char* p, std::size_t n) noexcept; // false: no memory
        void release() noexcept;
        void swap(out_buf& o) noexcept;
        char* data() const noexcept { return data_; }
        std::size_t cap() const noexcept { return cap_; }
        std::size_t len = 0; // bytes written
        std::size_t off = 0; // of which sent
      private:
        char* data_ = nullptr;
        std::size_t cap_ = 0;
    };

    // The engine's BIO method (bio_method()) and its calls.
    static BIO_METHOD* bio_method();
    static int bio_read(BIO* b, char* out, std::size_t len, std::size_t* got);
    static int bio_write(BIO* b, const char* in, std::size_t len, std::size_t* put);
    static long bio_ctrl(BIO* b, int cmd, long num, void* ptr);

    // Buffers: an idle connection holds small_in_ and at most small_size
    // bytes of fill_.  Ciphertext is received into small_in_ until a
    // receive fills it, then into netin_ (16 KiB, allocated then) until a
    // receive fits small_in_ again, when netin_ is freed; the engine reads
    // it from there (in_buf_, bytes in_off_ to in_len_).  What the engine
    // writes goes into fill_, which flush_out() hands to the socket at once
    // (the usual case, and fill_ is kept for the next flight) or, for what
    // the socket does not take, swaps into flight_ for an asynchronous
    // send while the engine writes on into a fresh fill_.  flight_ is freed
    // when its send is done; a fill_ that grew past small_size, once it is
    // empty and the stream waits for its peer (trim_out).
    void start_rx();
    void flush_out();
    void send_close_notify();
    bool write_close_notify();
    void trim_out();
    std::size_t pending_out() const noexcept { return fill_.len + (flight_.len - flight_.off); }
    static constexpr std::size_t net_size = 16 * 1024;
    static constexpr std::size_t small_size = 2048;
    std::unique_ptr<char[]> netin_;
    bool rx_big_ = false; // the next receive goes into netin_
    char* in_buf_ = nullptr;
    std::size_t in_off_ = 0, in_len_ = 0;
    std::size_t rx_cap_ = 0; // room the receive in flight was given
    out_buf fill_, flight_;
    char small_in_[small_size];
};

} // namespace nnghttp::detail::tls
