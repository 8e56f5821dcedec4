// nng_http_req_* and nng_http_res_*: shims over nnghttp::detail::http::request and
// response.
//
// Arguments NNG would crash on (a NULL message, name or value) give
// NNG_EINVAL here.  Text containing CR or LF is refused with NNG_EINVAL:
// written out, it would let a caller's data forge header fields or whole
// messages (NNG 1.5.2 stores it; docs/compat.md).
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "capi/handles.hpp"
#include "capi/http_handles.hpp"
#include "core/url.hpp"
#include "http/message.hpp"

#include <cstring>

using nnghttp::detail::capi::guard;
using nnghttp::detail::http::message;
using nnghttp::detail::http::request;
using nnghttp::detail::http::response;

using nnghttp::detail::capi::from_c;
using nnghttp::detail::capi::to_c;

namespace {

bool has_line_break(const char* s) noexcept {
    return s != nullptr && std::strpbrk(s, "\r\n") != nullptr;
}

// Valid text for a message field: NULL (where allowed), or no CR/LF.
bool field_ok(const char* s, bool null_ok) noexcept {
    return s == nullptr ? null_ok : !has_line_break(s);
}

int set_header(message* m, const char* name, const char* value, bool add) {
    if (m == nullptr || !field_ok(name, false) || !field_ok(value, false) ||
        std::strchr(name, ':') != nullptr) {
        return NNG_EINVAL;
    }
    return guard([&] {
        if (add) {
            m->headers().add(name, value);
        } else {
            m->headers().set(name, value);
        }
        return 0;
    });
}

int del_header(message* m, const char* name) {
    if (m == nullptr || name == nullptr) {
        return NNG_EINVAL;
    }
    return m->headers().remove(name) ? 0 : NNG_ENOENT;
}

const char* get_header(message* m, const char* name) {
    return (m == nullptr || name == nullptr) ? nullptr : m->get_header(name);
}

int set_version(message* m, const char* v) {
    if (m == nullptr || !field_ok(v, true)) {
        return NNG_EINVAL;
    }
    return guard([&] {
        m->set_version(v);
        return 0;
    });
}

int set_data(message* m, const void* data, size_t size, bool copy) {
    if (m == nullptr || (data == nullptr && size > 0)) {
        return NNG_EINVAL;
    }
    return guard([&] {
        if (copy) {
            m->copy_data(data, size);
        } else {
            m->set_data(data, size);
        }
        return 0;
    });
}

void get_data(message* m, void** data, size_t* size) {
    if (data != nullptr) {
        *data = m != nullptr ? m->body().data() : nullptr;
    }
    if (size != nullptr) {
        *size = m != nullptr ? m->body().size() : 0;
    }
}

} // namespace

extern "C" {

// ---- requests ----

int nng_http_req_alloc(nng_http_req** out, const nng_url* url) {
    if (out == nullptr) {
        return NNG_EINVAL;
    }
    return guard([&] {
        auto req = std::make_unique<request>();
        if (url != nullptr) {
            // The request URI and a Host header from the URL; the port only
            // when it is not the scheme's default (as NNG does).
            req->set_uri(url->u_requri != nullptr ? url->u_requri : "/");
            std::string_view dflt =
                url->u_scheme != nullptr ? nnghttp::detail::default_port(url->u_scheme) : "";
            const char* host = (url->u_port != nullptr && dflt == url->u_port)
                                   ? url->u_hostname
                                   : url->u_host;
            if (host != nullptr) {
                req->headers().add("Host", host);
            }
        }
        *out = to_c(req.release());
        return 0;
    });
}

void nng_http_req_free(nng_http_req* req) { delete from_c(req); }

void nng_http_req_reset(nng_http_req* req) {
    if (req != nullptr) {
        from_c(req)->reset();
    }
}

const char* nng_http_req_get_method(nng_http_req* req) {
    return req != nullptr ? from_c(req)->method() : nullptr;
}

const char* nng_http_req_get_version(nng_http_req* req) {
    return req != nullptr ? from_c(req)->version() : nullptr;
}

const char* nng_http_req_get_uri(nng_http_req* req) {
    return req != nullptr ? from_c(req)->uri() : nullptr;
}

int nng_http_req_set_method(nng_http_req* req, const char* m) {
    if (req == nullptr || !field_ok(m, true)) {
        return NNG_EINVAL;
    }
    return guard([&] {
        from_c(req)->set_method(m);
        return 0;
    });
}

int nng_http_req_set_version(nng_http_req* req, const char* v) {
    return set_version(req != nullptr ? from_c(req) : nullptr, v);
}

int nng_http_req_set_uri(nng_http_req* req, const char* u) {
    if (req == nullptr || !field_ok(u, true)) {
        return NNG_EINVAL;
    }
    return guard([&] {
        from_c(req)->set_uri(u);
        return 0;
    });
}

int nng_http_req_set_header(nng_http_req* req, const char* n, const char* v) {
    return set_header(req != nullptr ? from_c(req) : nullptr, n, v, false);
}

int nng_http_req_add_header(nng_http_req* req, const char* n, const char* v) {
    return set_header(req != nullptr ? from_c(req) : nullptr, n, v, true);
}

int nng_http_req_del_header(nng_http_req* req, const char* n) {
    return del_header(req != nullptr ? from_c(req) : nullptr, n);
}

const char* nng_http_req_get_header(nng_http_req* req, const char* n) {
    return get_header(req != nullptr ? from_c(req) : nullptr, n);
}

int nng_http_req_set_data(nng_http_req* req, const void* d, size_t n) {
    return set_data(req != nullptr ? from_c(req) : nullptr, d, n, false);
}

int nng_http_req_copy_data(nng_http_req* req, const void* d, size_t n) {
    return set_data(req != nullptr ? from_c(req) : nullptr, d, n, true);
}

void nng_http_req_get_data(nng_http_req* req, void** d, size_t* n) {
    get_data(req != nullptr ? from_c(req) : nullptr, d, n);
}

// ---- responses ----

int nng_http_res_alloc(nng_http_res** out) {
    if (out == nullptr) {
        return NNG_EINVAL;
    }
    return guard([&] {
        *out = to_c(new response());
        return 0;
    });
}

int nng_http_res_alloc_error(nng_http_res** out, uint16_t status) {
    if (out == nullptr) {
        return NNG_EINVAL;
    }
    return guard([&] {
        auto res = std::make_unique<response>();
        nnghttp::detail::http::make_error(*res, status);
        *out = to_c(res.release());
        return 0;
    });
}

void nng_http_res_free(nng_http_res* res) { delete from_c(res); }

void nng_http_res_reset(nng_http_res* res) {
    if (res != nullptr) {
        from_c(res)->reset();
    }
}

uint16_t nng_http_res_get_status(nng_http_res* res) {
    return res != nullptr ? from_c(res)->status() : 0;
}

int nng_http_res_set_status(nng_http_res* res, uint16_t status) {
    if (res == nullptr) {
        return NNG_EINVAL;
    }
    from_c(res)->set_status(status);
    return 0;
}

const char* nng_http_res_get_reason(nng_http_res* res) {
    return res != nullptr ? from_c(res)->reason() : nullptr;
}

int nng_http_res_set_reason(nng_http_res* res, const char* r) {
    if (res == nullptr || !field_ok(r, true)) {
        return NNG_EINVAL;
    }
    return guard([&] {
        from_c(res)->set_reason(r);
        return 0;
    });
}

int nng_http_res_set_header(nng_http_res* res, const char* n, const char* v) {
    return set_header(res != nullptr ? from_c(res) : nullptr, n, v, false);
}

int nng_http_res_add_header(nng_http_res* res, const char* n, const char* v) {
    return set_header(res != nullptr ? from_c(res) : nullptr, n, v, true);
}

int nng_http_res_del_header(nng_http_res* res, const char* n) {
    return del_header(res != nullptr ? from_c(res) : nullptr, n);
}

const char* nng_http_res_get_header(nng_http_res* res, const char* n) {
    return get_header(res != nullptr ? from_c(res) : nullptr, n);
}

int nng_http_res_set_version(nng_http_res* res, const char* v) {
    return set_version(res != nullptr ? from_c(res) : nullptr, v);
}

const char* nng_http_res_get_version(nng_http_res* res) {
    return res != nullptr ? from_c(res)->version() : nullptr;
}

void nng_http_res_get_data(nng_http_res* res, void** d, size_t* n) {
    get_data(res != nullptr ? from_c(res) : nullptr, d, n);
}

int nng_http_res_set_data(nng_http_res* res, const void* d, size_t n) {
    return set_data(res != nullptr ? from_c(res) : nullptr, d, n, false);
}

int nng_http_res_copy_data(nng_http_res* res, const void* d, size_t n) {
    return set_data(res != nullptr ? from_c(res) : nullptr, d, n, true);
}

} // extern "C"
