// nng_http_server_* and nng_http_hijack: shims over nnghttp::detail::http::server.
#include "capi/handles.hpp"
#include "capi/http_handles.hpp"
#include "http/handler.hpp"
#include "http/server.hpp"

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

using nnghttp::detail::capi::guard;
using nnghttp::detail::http::handler;
using nnghttp::detail::http::server;

namespace {
server* from_c(nng_http_server* s) noexcept {
    return reinterpret_cast<server*>(s);
}
handler* from_c(nng_http_handler* h) noexcept {
    return reinterpret_cast<handler*>(h);
}
} // namespace

extern "C" {

int nng_http_server_hold(nng_http_server** out, const nng_url* url) {
    if (out == nullptr || url == nullptr) {
        return NNG_EINVAL;
    }
    return guard([&] {
        server* s = nullptr;
        int rv = server::hold(*url, s);
        if (rv == 0) {
            *out = reinterpret_cast<nng_http_server*>(s);
        }
        return rv;
    });
}

void nng_http_server_release(nng_http_server* s) {
    if (s != nullptr) {
        nnghttp::detail::http::server_release(from_c(s));
    }
}

int nng_http_server_start(nng_http_server* s) {
    return s != nullptr ? guard([&] { return from_c(s)->start(); }) : NNG_EINVAL;
}

void nng_http_server_stop(nng_http_server* s) {
    if (s != nullptr) {
        from_c(s)->stop();
    }
}

int nng_http_server_add_handler(nng_http_server* s, nng_http_handler* h) {
    if (s == nullptr || h == nullptr) {
        return NNG_EINVAL;
    }
    return guard([&] { return from_c(s)->add_handler(*from_c(h)); });
}

int nng_http_server_del_handler(nng_http_server* s, nng_http_handler* h) {
    if (s == nullptr || h == nullptr) {
        return NNG_EINVAL;
    }
    return guard([&] { return from_c(s)->del_handler(*from_c(h)); });
}

int nng_http_server_set_tls(nng_http_server* s, struct nng_tls_config* cfg) {
    if (s == nullptr) {
        return NNG_EINVAL;
    }
    return from_c(s)->set_tls(reinterpret_cast<nnghttp::detail::tls::config*>(cfg));
}
int nng_http_server_get_tls(nng_http_server* s, struct nng_tls_config** cfg) {
    if (s == nullptr || cfg == nullptr) {
        return NNG_EINVAL;
    }
    nnghttp::detail::tls::config* c = nullptr;
    int rv = from_c(s)->get_tls(c);
    if (rv == 0) {
        *cfg = reinterpret_cast<struct nng_tls_config*>(c);
    }
    return rv;
}

int nng_http_server_get_addr(nng_http_server* s, nng_sockaddr* sa) {
    return (s != nullptr && sa != nullptr) ? from_c(s)->get_addr(*sa) : NNG_EINVAL;
}

int nng_http_server_set_error_page(nng_http_server* s, uint16_t status, const char* html) {
    if (s == nullptr || html == nullptr) {
        return NNG_EINVAL;
    }
    return guard([&] { return from_c(s)->set_error_page(status, html); });
}

int nng_http_server_set_error_file(nng_http_server* s, uint16_t status, const char* path) {
    if (s == nullptr || path == nullptr) {
        return NNG_EINVAL;
    }
    return guard([&] { return from_c(s)->set_error_file(status, path); });
}

int nng_http_server_res_error(nng_http_server* s, nng_http_res* res) {
    if (s == nullptr || res == nullptr) {
        return NNG_EINVAL;
    }
    return guard([&] {
        from_c(s)->res_error(*nnghttp::detail::capi::from_c(res));
        return 0;
    });
}

int nng_http_hijack(nng_http_conn* c) {
    if (c == nullptr) {
        return NNG_EINVAL;
    }
    nnghttp::detail::capi::from_c(c)->hijack();
    return 0;
}

} // extern "C"
