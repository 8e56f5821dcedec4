// TLS configuration (nng_tls_config underneath, OpenSSL 3 inside).
// Copies share one configuration (nng_tls_config_hold); it freezes once a
// connection has used it, after which setters throw errc::busy.
#pragma once

#include <nng/supplemental/tls/tls.h>
#include <nnghttp/config.hpp>

#include <string_view>

namespace nnghttp {

enum class tls_mode { client = NNG_TLS_MODE_CLIENT, server = NNG_TLS_MODE_SERVER };
enum class tls_auth {
    none = NNG_TLS_AUTH_MODE_NONE,
    optional = NNG_TLS_AUTH_MODE_OPTIONAL,
    required = NNG_TLS_AUTH_MODE_REQUIRED
};
enum class tls_version {
    v1_0 = NNG_TLS_1_0,
    v1_1 = NNG_TLS_1_1,
    v1_2 = NNG_TLS_1_2,
    v1_3 = NNG_TLS_1_3
};

class NNGHTTP_API tls_config {
  public:
    // Throws nnghttp::error.
    explicit tls_config(tls_mode m);
    tls_config(adopt_t, nng_tls_config* c) noexcept;
    ~tls_config();
    tls_config(const tls_config& o) noexcept;
    tls_config& operator=(const tls_config& o) noexcept;
    tls_config(tls_config&& o) noexcept;
    tls_config& operator=(tls_config&& o) noexcept;

    // Each throws nnghttp::error with NNG's code (errc::invalid for bad
    // PEM, errc::busy once used, ...), and returns *this for chaining.
    tls_config& server_name(std::string_view name);
    tls_config& ca_chain(std::string_view pem, std::string_view crl_pem = {});
    tls_config& own_cert(std::string_view cert_pem, std::string_view key_pem,
                         std::string_view password = {});
    tls_config& ca_file(std::string_view path);
    // One PEM file holding the certificate (chain) and its key.
    tls_config& cert_key_file(std::string_view path, std::string_view password = {});
    tls_config& auth_mode(tls_auth a);
    tls_config& version(tls_version min, tls_version max);
    // Beyond NNG: the cipher suites offered (client) or accepted (server),
    // in OpenSSL's syntax.  Default: ECDHE with AES-GCM or ChaCha20-Poly1305
    // at TLS 1.2 (no CBC), OpenSSL's TLS 1.3 suites.  errc::invalid for a
    // list that selects nothing (nothing changes then).
    tls_config& tls12_ciphers(std::string_view openssl_list);
    tls_config& tls13_ciphers(std::string_view openssl_suites); // "" for none

    nng_tls_config* native() const noexcept { return c_; }
    // Gives up this reference: the caller drops it with nng_tls_config_free.
    nng_tls_config* release() noexcept;

  private:
    nng_tls_config* c_ = nullptr;
};

} // namespace nnghttp
