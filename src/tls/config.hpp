// nng_tls_config on OpenSSL 3: one SSL_CTX per configuration.
//
// Interface agreed between the TLS streams (src/tls/stream.*) and the
// configuration object (src/tls/config.cpp, src/capi/tls_c.cpp).  A config
// is reference counted (nng_tls_config_hold / _free).  Once a stream has
// used it (freeze()), every setter fails with NNG_EBUSY, as in NNG.
//
// Cipher suites (beyond NNG, which has no such setting): by default only
// AEAD suites with forward secrecy, both ways (what a client offers and
// what a server accepts): at TLS 1.2 ECDHE with AES-GCM or
// ChaCha20-Poly1305 (default_tls12_ciphers), at TLS 1.3 OpenSSL's own
// three, all AEAD.  OpenSSL's default would add CBC suites, static RSA key
// exchange and DHE at TLS 1.2.  set_ciphers changes either list.
#pragma once

#include "core/ref_counted.hpp"

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>

#include <nng/nng.h>

typedef struct ssl_ctx_st SSL_CTX; // OpenSSL's, without its headers here

namespace nnghttp::detail::tls {

enum class mode { client = 0, server = 1 };

// The TLS 1.2 suites a configuration starts with, in OpenSSL's cipher list
// syntax (preferred first: AES-128-GCM, then AES-256-GCM, then
// ChaCha20-Poly1305; an ECDSA and an RSA variant of each, for either kind
// of server key).
inline constexpr const char* default_tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Initialises OpenSSL once, without its exit-time cleanup (see config.cpp).
void init_openssl() noexcept;
enum class auth { none = 0, optional = 1, required = 2 };

class config final : public ref_counted {
  public:
    // NNG_ENOMEM, or NNG_ECRYPTO if OpenSSL cannot make a context.
    static int create(mode m, config*& out);

    mode role() const noexcept { return mode_; }
    // The SSL_CTX streams are made from; freezes the configuration.
    SSL_CTX* use() noexcept;
    bool frozen() const noexcept;

    // The nng_tls_config_* setters; NNG's error codes.
    int set_server_name(const char* name);
    int set_ca_chain(const char* pem_chain, const char* pem_crl);
    int set_own_cert(const char* pem_cert, const char* pem_key, const char* pass);
    int set_auth_mode(auth a);
    int set_ca_file(const char* path);
    int set_cert_key_file(const char* path, const char* pass);
    int set_version(int min_version, int max_version); // 0x301..0x304
    // The suites for TLS 1.2 and below (tls12, OpenSSL's cipher list
    // syntax, e.g. default_tls12_ciphers) and for TLS 1.3 (tls13, OpenSSL's
    // TLS 1.3 suite list, "" for none); null leaves a list as it is.
    // NNG_EINVAL if both are null, if tls12 selects no suite or a list does
    // not parse; neither changes then.  NNG_EBUSY once used.
    int set_ciphers(const char* tls12, const char* tls13);

    // For client streams: the name to send (SNI) and to verify ("" = none).
    std::string server_name() const;
    auth auth_mode() const;

  private:
    config(mode m, SSL_CTX* ctx);
    ~config() override;

    mutable std::mutex mtx_;
    mode mode_;
    SSL_CTX* ctx_;
    std::string server_name_;
    auth auth_;
    bool frozen_ = false;
};

} // namespace nnghttp::detail::tls
