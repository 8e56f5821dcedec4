// nng_tls_config on OpenSSL 3: one SSL_CTX per configuration.
//
// Interface agreed between the TLS streams (src/tls/stream.*) and the
// configuration object (src/tls/config.cpp, src/capi/tls_c.cpp).  A config
// is reference counted (nng_tls_config_hold / _free).  Once a stream has
// used it (freeze()), every setter fails with NNG_EBUSY, as in NNG.
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
