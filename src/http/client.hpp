// The HTTP client behind nng_http_client and nng_http_conn_transact.
//
// client: a dialer for one URL's host and port (the name is resolved on
// each connect, asynchronously).  connect() hands back a new conn in the
// aio's output 0; transact() runs one exchange on a fresh connection that
// it closes afterwards (and, as NNG does, asks the server to close it too
// with "Connection: close" on the request).
//
// transact(conn, ...): writes the request (head and body in one gathered
// write), reads the response head, then its body by the framing the head
// gives (RFC 9112 section 6.3):
//   * none for a HEAD request and for 204 and 304 responses;
//   * 1xx interim responses (100 Continue, 103 Early Hints) are read and
//     skipped, the final response is returned; 101 is returned as is;
//   * Content-Length: exactly that many bytes;
//   * chunked: decoded (extensions ignored, trailers read and dropped);
//   * neither (an HTTP/1.0-style response): until the server closes.
// A body over the limit (default_response_limit, settable) fails the
// transaction with NNG_EMSGSIZE and closes the connection, before the
// memory is taken.  Any error leaves the connection closed (NNG: the caller
// should close it), except NNG_EINVAL for a request without a URI.

#pragma once

#include "core/aio.hpp"
#include "core/ref_counted.hpp"
#include "http/conn.hpp"
#include "http/message.hpp"
#include "http/parser.hpp"
#include "stream/stream.hpp"

#include <cstddef>
#include <memory>
#include <mutex>
#include <nng/nng.h>
#include <string>
#include <string_view>

namespace nnghttp::detail::http {

inline constexpr std::size_t default_response_limit = std::size_t{256} << 20; // 256 MiB

class client final : public ref_counted {
  public:
    // NNG_EADDRINVAL for a URL that is not http(s) or ws(s) (a final '4'
    // or '6' on the scheme pins the address family).  An https (wss)
    // client starts with a default client TLS config (peer verified, the
    // URL's host as server name).
    static int create(const nng_url& url, client*& out);

    // https only (http: NNG_ENOTSUP), as NNG: through the dialer's
    // NNG_OPT_TLS_CONFIG.
    int set_tls(void* cfg);
    int get_tls(void*& cfg);

    // The options of the dialer underneath (tcp, or tls+tcp), with its
    // error codes: what a ws:// dialer passes on.
    int get(std::string_view name, const opt_out& out);
    int set(std::string_view name, const opt_in& in);

    void connect(aio* a);
    void transact(request& req, response& res, aio* a);

    void set_response_limit(std::size_t n) noexcept { limit_ = n; }
    std::size_t response_limit() const noexcept { return limit_; }

  private:
    explicit client(stream_dialer* d) : dialer_(d) {}
    ~client() override;

    stream_dialer* dialer_;
    std::size_t limit_ = default_response_limit;
};

// nng_http_conn_transact.
void transact(conn& c, request& req, response& res, aio* a,
              std::size_t limit = default_response_limit);

// The streaming path (C++ API), for bodies too large for memory: after
// read_res completed on c, reads the body by the framing of that head into
// the caller's buffer, piece by piece, in constant memory (one 16 KiB
// buffer for chunked bodies).  Each read() fills the aio's first vector
// with the next body bytes (at least one) and completes with the count; at
// the end of the body it completes with count 0 and done() is true.  One
// read at a time; the reader must outlive it.  Errors (and cancellation)
// close the conn, as for transact.
class body_reader {
  public:
    explicit body_reader(conn& c);
    ~body_reader();
    body_reader(const body_reader&) = delete;
    body_reader& operator=(const body_reader&) = delete;

    void read(aio* a);
    bool done() const noexcept { return done_; }

  private:
    static void inner_cb(void* arg);
    static void cancel(aio* a, void* arg, int err);
    // With mtx_ held: serves user_ from what is here, or starts a read.
    // Returns true when user_ is to be completed (outcome set).
    bool serve();
    void raw_read();

    std::mutex mtx_;
    conn* c_;
    body_kind kind_;
    std::uint64_t remaining_ = 0; // length: bytes still to come
    bool done_ = false;
    aio* user_ = nullptr;
    bool raw_pending_ = false; // inner_ reads raw chunked bytes into buf_
    aio inner_;
    // chunked
    chunk_decoder chunks_;
    std::unique_ptr<char[]> buf_;
    std::size_t used_ = 0, have_ = 0;       // undecoded bytes: [used_, have_)
    const char* pdata_ = nullptr;            // decoded, not yet delivered
    std::size_t plen_ = 0;
    static constexpr std::size_t buf_size = 16 * 1024;
};

} // namespace nnghttp::detail::http
