// nng_tls_config_* and nng_tls_engine_*: shims over nnghttp::detail::tls::config.
// An nng_tls_config handle is the config object itself; hold and free are
// its reference count.
#include "capi/handles.hpp"
#include "tls/config.hpp"

#include <cstring>
#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

using nnghttp::detail::capi::guard;
using nnghttp::detail::tls::auth;
using nnghttp::detail::tls::config;
using nnghttp::detail::tls::mode;

namespace {

config* from_c(nng_tls_config* c) noexcept {
    return reinterpret_cast<config*>(c);
}
nng_tls_config* to_c(config* c) noexcept {
    return reinterpret_cast<nng_tls_config*>(c);
}

// The value a C caller passed for one of the TLS enums.  C allows any int
// there, but in C++ loading a value outside the enumerators' range is
// undefined (UBSan reports it), so the bytes are read as an int.
template <typename E> int raw_value(const E& e) noexcept {
    static_assert(sizeof(E) == sizeof(int));
    int v;
    std::memcpy(&v, &e, sizeof v);
    return v;
}

} // namespace

extern "C" {

int nng_tls_config_alloc(nng_tls_config** out, nng_tls_mode m) {
    // NNG takes any mode other than NNG_TLS_MODE_SERVER for a client; the
    // man page lists NNG_EINVAL for an invalid one, and so do we.
    int mv = raw_value(m);
    if (out == nullptr || (mv != NNG_TLS_MODE_CLIENT && mv != NNG_TLS_MODE_SERVER)) {
        return NNG_EINVAL;
    }
    return guard([&] {
        config* c = nullptr;
        int rv = config::create(mv == NNG_TLS_MODE_SERVER ? mode::server : mode::client, c);
        if (rv == 0) {
            *out = to_c(c);
        }
        return rv;
    });
}

void nng_tls_config_hold(nng_tls_config* c) {
    if (c != nullptr) {
        from_c(c)->add_ref();
    }
}

void nng_tls_config_free(nng_tls_config* c) {
    if (c != nullptr) {
        from_c(c)->release();
    }
}

int nng_tls_config_server_name(nng_tls_config* c, const char* name) {
    if (c == nullptr) {
        return NNG_EINVAL;
    }
    return guard([&] { return from_c(c)->set_server_name(name); });
}

int nng_tls_config_ca_chain(nng_tls_config* c, const char* chain, const char* crl) {
    if (c == nullptr) {
        return NNG_EINVAL;
    }
    return guard([&] { return from_c(c)->set_ca_chain(chain, crl); });
}

int nng_tls_config_own_cert(nng_tls_config* c, const char* cert, const char* key,
                            const char* pass) {
    if (c == nullptr) {
        return NNG_EINVAL;
    }
    return guard([&] { return from_c(c)->set_own_cert(cert, key, pass); });
}

// Declared in NNG's tls.h, defined only by its build without TLS (which
// answers NNG_ENOTSUP); with a TLS engine NNG 1.x has no such symbols.
int nng_tls_config_key(nng_tls_config*, const uint8_t*, size_t) {
    return NNG_ENOTSUP;
}

int nng_tls_config_pass(nng_tls_config*, const char*) {
    return NNG_ENOTSUP;
}

int nng_tls_config_auth_mode(nng_tls_config* c, nng_tls_auth_mode a) {
    if (c == nullptr) {
        return NNG_EINVAL;
    }
    // An out-of-range value reaches the config as such and is refused there
    // (after the NNG_EBUSY check, in NNG's order).
    return guard([&] { return from_c(c)->set_auth_mode(static_cast<auth>(raw_value(a))); });
}

int nng_tls_config_ca_file(nng_tls_config* c, const char* path) {
    if (c == nullptr) {
        return NNG_EINVAL;
    }
    return guard([&] { return from_c(c)->set_ca_file(path); });
}

int nng_tls_config_cert_key_file(nng_tls_config* c, const char* path, const char* pass) {
    if (c == nullptr) {
        return NNG_EINVAL;
    }
    return guard([&] { return from_c(c)->set_cert_key_file(path, pass); });
}

int nng_tls_config_version(nng_tls_config* c, nng_tls_version min_version,
                           nng_tls_version max_version) {
    if (c == nullptr) {
        return NNG_EINVAL;
    }
    return guard([&] {
        return from_c(c)->set_version(raw_value(min_version), raw_value(max_version));
    });
}

const char* nng_tls_engine_name(void) {
    return "openssl";
}

const char* nng_tls_engine_description(void) {
    nnghttp::detail::tls::init_openssl();
    return OpenSSL_version(OPENSSL_VERSION);
}

bool nng_tls_engine_fips_mode(void) {
    nnghttp::detail::tls::init_openssl();
    return EVP_default_properties_is_fips_enabled(nullptr) != 0;
}

} // extern "C"
