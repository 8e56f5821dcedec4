// nnghttp::url: a parsed URL, exactly as nng_url_parse parses it (same
// fields, same defaults: "80" for http, "443" for https, the canonical
// request URI).  A value type.
#pragma once

#include <nng/nng.h>
#include <nnghttp/config.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace nnghttp {

class NNGHTTP_API url {
  public:
    // Throws nnghttp::error (errc::invalid) for text NNG would reject.
    explicit url(std::string_view text);
    // A copy of a C URL's fields.
    explicit url(const nng_url& u);
    // std::nullopt where the constructor would throw.
    static std::optional<url> parse(std::string_view text);

    const std::string& text() const noexcept { return raw_; }
    const std::string& scheme() const noexcept { return scheme_; }
    const std::string& userinfo() const noexcept { return userinfo_; }
    // host[:port] as written; hostname() is without the port (and without
    // brackets for an IPv6 literal).
    const std::string& host() const noexcept { return host_; }
    const std::string& hostname() const noexcept { return hostname_; }
    const std::string& port() const noexcept { return port_; }
    const std::string& path() const noexcept { return path_; }
    const std::string& query() const noexcept { return query_; }
    const std::string& fragment() const noexcept { return fragment_; }
    // path[?query][#fragment], what goes on a request line.
    const std::string& requri() const noexcept { return requri_; }

    // A new C URL with the same text; free it with nng_url_free.
    nng_url* to_c() const;

  private:
    url() = default;
    std::string raw_, scheme_, userinfo_, host_, hostname_, port_, path_, query_, fragment_, requri_;
};

} // namespace nnghttp
