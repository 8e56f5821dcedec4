// nng_http_client_* and nng_http_conn_transact: shims over
// nnghttp::detail::http::client and http::transact.
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "capi/handles.hpp"
#include "capi/http_handles.hpp"
#include "http/client.hpp"

using nnghttp::detail::capi::from_c;
using nnghttp::detail::capi::guard;
using nnghttp::detail::http::client;

namespace {
client* cl(nng_http_client* c) noexcept {
    return reinterpret_cast<client*>(c);
}

// A NULL argument fails through the aio, as every asynchronous error does.
bool refuse_null(nnghttp::detail::aio* a, bool bad) {
    if (!bad) {
        return false;
    }
    if (a->begin()) {
        a->finish(NNG_EINVAL, 0);
    }
    return true;
}
} // namespace

extern "C" {

int nng_http_client_alloc(nng_http_client** out, const nng_url* url) {
    if (out == nullptr || url == nullptr) {
        return NNG_EINVAL;
    }
    return guard([&] {
        client* c = nullptr;
        int rv = client::create(*url, c);
        if (rv == 0) {
            *out = reinterpret_cast<nng_http_client*>(c);
        }
        return rv;
    });
}

void nng_http_client_free(nng_http_client* c) {
    if (c != nullptr) {
        cl(c)->release();
    }
}

int nng_http_client_set_tls(nng_http_client* c, struct nng_tls_config* cfg) {
    if (c == nullptr) {
        return NNG_EINVAL;
    }
    return cl(c)->set_tls(cfg);
}

int nng_http_client_get_tls(nng_http_client* c, struct nng_tls_config** cfg) {
    if (c == nullptr || cfg == nullptr) {
        return NNG_EINVAL;
    }
    void* p = nullptr;
    int rv = cl(c)->get_tls(p);
    if (rv == 0) {
        *cfg = static_cast<struct nng_tls_config*>(p);
    }
    return rv;
}

void nng_http_client_connect(nng_http_client* c, nng_aio* a) {
    nnghttp::detail::aio* ap = from_c(a);
    if (ap == nullptr || refuse_null(ap, c == nullptr)) {
        return;
    }
    cl(c)->connect(ap);
}

void nng_http_conn_transact(nng_http_conn* c, nng_http_req* req, nng_http_res* res, nng_aio* a) {
    nnghttp::detail::aio* ap = from_c(a);
    if (ap == nullptr || refuse_null(ap, c == nullptr || req == nullptr || res == nullptr)) {
        return;
    }
    nnghttp::detail::http::transact(*from_c(c), *from_c(req), *from_c(res), ap);
}

void nng_http_client_transact(nng_http_client* c, nng_http_req* req, nng_http_res* res, nng_aio* a) {
    nnghttp::detail::aio* ap = from_c(a);
    if (ap == nullptr || refuse_null(ap, c == nullptr || req == nullptr || res == nullptr)) {
        return;
    }
    cl(c)->transact(*from_c(req), *from_c(res), ap);
}

} // extern "C"
