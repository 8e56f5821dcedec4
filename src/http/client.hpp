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
#include <nng/nng.h>
#include <string>

namespace nnghttp::http {

inline constexpr std::size_t default_response_limit = std::size_t{256} << 20; // 256 MiB

class client final : public ref_counted {
  public:
    // NNG_EADDRINVAL for a URL that is not http(s); NNG_ENOTSUP for https
    // until TLS is supported.
    static int create(const nng_url& url, client*& out);

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

} // namespace nnghttp::http
