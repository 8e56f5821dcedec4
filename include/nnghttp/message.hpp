// HTTP requests and responses (nng_http_req, nng_http_res underneath).
//
// Header names compare without regard to case; set_header replaces,
// add_header appends to a field of that name (", value", as NNG does),
// del_header removes.  A body is either copied in (set_body) or borrowed
// (borrow_body: the bytes must outlive every use of the message); both set
// Content-Length.
#pragma once

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

class NNGHTTP_API request {
  public:
    // GET, no URI yet, HTTP/1.1.
    request();
    // GET url.requri(), with a Host header for url.
    explicit request(const url& u);
    request(std::string_view method, const url& u);
    request(adopt_t, nng_http_req* r) noexcept;
    request(borrow_t, nng_http_req* r) noexcept;
    ~request();
    request(request&& o) noexcept;
    request& operator=(request&& o) noexcept;

    std::string_view method() const noexcept;
    request& set_method(std::string_view m);
    std::string_view uri() const noexcept;
    request& set_uri(std::string_view u);
    std::string_view version() const noexcept;
    request& set_version(std::string_view v);

    std::optional<std::string_view> header(std::string_view name) const noexcept;
    request& set_header(std::string_view name, std::string_view value);
    request& add_header(std::string_view name, std::string_view value);
    bool del_header(std::string_view name) noexcept;
    std::vector<header_field> headers() const;

    std::span<const std::byte> body() const noexcept;
    std::string_view body_text() const noexcept;
    request& set_body(std::string_view data);
    request& set_body(std::span<const std::byte> data);
    request& borrow_body(std::span<const std::byte> data) noexcept;

    nng_http_req* native() const noexcept { return r_; }
    // Whether this object frees the C handle (false for a borrowed one).
    bool owned() const noexcept { return owned_; }
    // Gives up ownership: the caller frees it with nng_http_req_free.
    nng_http_req* release() noexcept;

  private:
    nng_http_req* r_ = nullptr;
    bool owned_ = true;
};

class NNGHTTP_API response {
  public:
    // 200 OK, HTTP/1.1, no body.
    response();
    explicit response(std::uint16_t status);
    response(std::uint16_t status, std::string_view body, std::string_view content_type = "text/plain");
    response(adopt_t, nng_http_res* r) noexcept;
    response(borrow_t, nng_http_res* r) noexcept;
    ~response();
    response(response&& o) noexcept;
    response& operator=(response&& o) noexcept;

    // The error page a server sends for status, with details (escaped) in it.
    static response error_page(std::uint16_t status, std::string_view details = {});

    std::uint16_t status() const noexcept;
    response& set_status(std::uint16_t s) noexcept;
    // The reason set, else the standard phrase for the status.
    std::string_view reason() const noexcept;
    response& set_reason(std::string_view r);
    std::string_view version() const noexcept;
    response& set_version(std::string_view v);

    std::optional<std::string_view> header(std::string_view name) const noexcept;
    response& set_header(std::string_view name, std::string_view value);
    response& add_header(std::string_view name, std::string_view value);
    bool del_header(std::string_view name) noexcept;
    std::vector<header_field> headers() const;

    std::span<const std::byte> body() const noexcept;
    std::string_view body_text() const noexcept;
    response& set_body(std::string_view data);
    response& set_body(std::span<const std::byte> data);
    response& borrow_body(std::span<const std::byte> data) noexcept;

    nng_http_res* native() const noexcept { return r_; }
    // Whether this object frees the C handle (false for a borrowed one).
    bool owned() const noexcept { return owned_; }
    nng_http_res* release() noexcept;

  private:
    nng_http_res* r_ = nullptr;
    bool owned_ = true;
};

} // namespace nnghttp
