// HTTP requests and responses (nng_http_req, nng_http_res underneath).
//
// Header names compare without regard to case; set_header replaces,
// add_header appends to a field of that name (", value", as NNG does),
// del_header removes.  A body is either copied in (set_body) or borrowed
// (borrow_body: the bytes must outlive every use of the message); both set
// Content-Length.
#pragma once

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nnghttp/config.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nnghttp {

class url;

using header_field = std::pair<std::string_view, std::string_view>;

// What requests and responses share: the version, headers, body, and
// ownership of the C handle.  D is request or response, H its C handle;
// the two are instantiated in the library, nowhere else.
template <class D, class H>
class NNGHTTP_API message_base {
  public:
    std::string_view version() const noexcept;
    D& set_version(std::string_view v);

    std::optional<std::string_view> header(std::string_view name) const noexcept;
    D& set_header(std::string_view name, std::string_view value);
    D& add_header(std::string_view name, std::string_view value);
    bool del_header(std::string_view name) noexcept;
    std::vector<header_field> headers() const;

    std::span<const std::byte> body() const noexcept;
    std::string_view body_text() const noexcept;
    D& set_body(std::string_view data);
    D& set_body(std::span<const std::byte> data);
    D& borrow_body(std::span<const std::byte> data) noexcept;

    H* native() const noexcept { return h_; }
    // Whether this object frees the C handle (false for a borrowed one).
    bool owned() const noexcept { return owned_; }
    // Gives up ownership: the caller frees the handle (nng_http_req_free,
    // nng_http_res_free).
    H* release() noexcept;

  protected:
    message_base(H* h, bool owned) noexcept : h_(h), owned_(owned) {}
    ~message_base();
    message_base(message_base&& o) noexcept;
    message_base& operator=(message_base&& o) noexcept;

    H* h_ = nullptr;
    bool owned_ = true;
};

class request;
class response;
extern template class NNGHTTP_API message_base<request, nng_http_req>;
extern template class NNGHTTP_API message_base<response, nng_http_res>;

class NNGHTTP_API request : public message_base<request, nng_http_req> {
  public:
    // GET, no URI yet, HTTP/1.1.
    request();
    // GET url.requri(), with a Host header for url.
    explicit request(const url& u);
    request(std::string_view method, const url& u);
    request(adopt_t, nng_http_req* r) noexcept;
    request(borrow_t, nng_http_req* r) noexcept;

    std::string_view method() const noexcept;
    request& set_method(std::string_view m);
    std::string_view uri() const noexcept;
    request& set_uri(std::string_view u);
};

class NNGHTTP_API response : public message_base<response, nng_http_res> {
  public:
    // 200 OK, HTTP/1.1, no body.
    response();
    explicit response(std::uint16_t status);
    response(std::uint16_t status, std::string_view body, std::string_view content_type = "text/plain");
    response(adopt_t, nng_http_res* r) noexcept;
    response(borrow_t, nng_http_res* r) noexcept;

    // The error page a server sends for status, with details (escaped) in it.
    static response error_page(std::uint16_t status, std::string_view details = {});

    std::uint16_t status() const noexcept;
    response& set_status(std::uint16_t s) noexcept;
    // The reason set, else the standard phrase for the status.
    std::string_view reason() const noexcept;
    response& set_reason(std::string_view r);
};

} // namespace nnghttp
