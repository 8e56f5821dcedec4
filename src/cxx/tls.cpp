// nnghttp::tls_config over the core's TLS configuration.
#include <nnghttp/error.hpp>
#include <nnghttp/tls.hpp>

#include "tls/config.hpp"

#include <string>
#include <utility>

namespace nnghttp {

namespace {
detail::tls::config* core(nng_tls_config* c) noexcept { return reinterpret_cast<detail::tls::config*>(c); }
// The core takes C strings: an empty view is "none" where NNG takes NULL.
std::string str(std::string_view v) { return std::string(v); }
} // namespace

tls_config::tls_config(tls_mode m) {
    detail::tls::config* c = nullptr;
    check(detail::tls::config::create(m == tls_mode::server ? detail::tls::mode::server
                                                            : detail::tls::mode::client,
                                      c),
          "nnghttp::tls_config");
    c_ = reinterpret_cast<nng_tls_config*>(c);
}

tls_config::tls_config(adopt_t, nng_tls_config* c) noexcept : c_(c) {}

tls_config::~tls_config() {
    if (c_ != nullptr) {
        core(c_)->release();
    }
}

tls_config::tls_config(const tls_config& o) noexcept : c_(o.c_) {
    if (c_ != nullptr) {
        core(c_)->add_ref();
    }
}

tls_config& tls_config::operator=(const tls_config& o) noexcept {
    tls_config copy(o);
    std::swap(c_, copy.c_);
    return *this;
}

tls_config::tls_config(tls_config&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}

tls_config& tls_config::operator=(tls_config&& o) noexcept {
    std::swap(c_, o.c_);
    return *this;
}

tls_config& tls_config::server_name(std::string_view name) {
    check(core(c_)->set_server_name(str(name).c_str()), "tls_config::server_name");
    return *this;
}

tls_config& tls_config::ca_chain(std::string_view pem, std::string_view crl_pem) {
    std::string p = str(pem), c = str(crl_pem);
    check(core(c_)->set_ca_chain(p.c_str(), crl_pem.empty() ? nullptr : c.c_str()), "tls_config::ca_chain");
    return *this;
}

tls_config& tls_config::own_cert(std::string_view cert_pem, std::string_view key_pem,
                                 std::string_view password) {
    std::string c = str(cert_pem), k = str(key_pem), p = str(password);
    check(core(c_)->set_own_cert(c.c_str(), k.c_str(), password.empty() ? nullptr : p.c_str()),
          "tls_config::own_cert");
    return *this;
}

tls_config& tls_config::ca_file(std::string_view path) {
    check(core(c_)->set_ca_file(str(path).c_str()), "tls_config::ca_file");
    return *this;
}

tls_config& tls_config::cert_key_file(std::string_view path, std::string_view password) {
    std::string f = str(path), p = str(password);
    check(core(c_)->set_cert_key_file(f.c_str(), password.empty() ? nullptr : p.c_str()),
          "tls_config::cert_key_file");
    return *this;
}

tls_config& tls_config::auth_mode(tls_auth a) {
    check(core(c_)->set_auth_mode(static_cast<detail::tls::auth>(static_cast<int>(a))),
          "tls_config::auth_mode");
    return *this;
}

tls_config& tls_config::version(tls_version min, tls_version max) {
    check(core(c_)->set_version(static_cast<int>(min), static_cast<int>(max)), "tls_config::version");
    return *this;
}

tls_config& tls_config::tls12_ciphers(std::string_view list) {
    check(core(c_)->set_ciphers(str(list).c_str(), nullptr), "tls_config::tls12_ciphers");
    return *this;
}

tls_config& tls_config::tls13_ciphers(std::string_view list) {
    check(core(c_)->set_ciphers(nullptr, str(list).c_str()), "tls_config::tls13_ciphers");
    return *this;
}

nng_tls_config* tls_config::release() noexcept { return std::exchange(c_, nullptr); }

} // namespace nnghttp
