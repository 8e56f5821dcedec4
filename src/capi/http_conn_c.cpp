// nng_http_conn_*: shims over nnghttp::detail::http::conn.
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "capi/handles.hpp"
#include "capi/http_handles.hpp"
#include "http/conn.hpp"

using nnghttp::detail::capi::from_c;

namespace {

// An operation on a NULL connection or message fails through its aio, as
// every asynchronous error does.
template <typename F> void with_conn(nng_http_conn* c, nng_aio* a, F&& f) {
    nnghttp::detail::aio* ap = from_c(a);
    if (ap == nullptr) {
        return;
    }
    if (c == nullptr) {
        if (ap->begin()) {
            ap->finish(NNG_EINVAL, 0);
        }
        return;
    }
    f(*from_c(c), ap);
}

} // namespace

extern "C" {

void nng_http_conn_close(nng_http_conn* c) {
    if (c != nullptr) {
        auto* cp = from_c(c);
        cp->close();
        cp->release();
    }
}

void nng_http_conn_read(nng_http_conn* c, nng_aio* a) {
    with_conn(c, a, [](auto& conn, auto* ap) { conn.read(ap); });
}

void nng_http_conn_read_all(nng_http_conn* c, nng_aio* a) {
    with_conn(c, a, [](auto& conn, auto* ap) { conn.read_all(ap); });
}

void nng_http_conn_write(nng_http_conn* c, nng_aio* a) {
    with_conn(c, a, [](auto& conn, auto* ap) { conn.write(ap); });
}

void nng_http_conn_write_all(nng_http_conn* c, nng_aio* a) {
    with_conn(c, a, [](auto& conn, auto* ap) { conn.write_all(ap); });
}

void nng_http_conn_read_req(nng_http_conn* c, nng_http_req* req, nng_aio* a) {
    with_conn(req != nullptr ? c : nullptr, a,
              [req](auto& conn, auto* ap) { conn.read_req(*from_c(req), ap); });
}

void nng_http_conn_read_res(nng_http_conn* c, nng_http_res* res, nng_aio* a) {
    with_conn(res != nullptr ? c : nullptr, a,
              [res](auto& conn, auto* ap) { conn.read_res(*from_c(res), ap); });
}

void nng_http_conn_write_req(nng_http_conn* c, nng_http_req* req, nng_aio* a) {
    with_conn(req != nullptr ? c : nullptr, a,
              [req](auto& conn, auto* ap) { conn.write_req(*from_c(req), ap); });
}

void nng_http_conn_write_res(nng_http_conn* c, nng_http_res* res, nng_aio* a) {
    with_conn(res != nullptr ? c : nullptr, a,
              [res](auto& conn, auto* ap) { conn.write_res(*from_c(res), ap); });
}

} // extern "C"
