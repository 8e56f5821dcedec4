// nng_http_handler_*: shims over nnghttp::detail::http::handler.  The built-in kinds
// (file, directory, static, redirect) only record what to serve; the server
// serves them.
#include "capi/handles.hpp"
#include "http/handler.hpp"

#include <new>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

using nnghttp::detail::capi::guard;
using nnghttp::detail::http::handler;

namespace {

handler* from_c(nng_http_handler* h) noexcept {
    return reinterpret_cast<handler*>(h);
}
nng_http_handler* to_c(handler* h) noexcept {
    return reinterpret_cast<nng_http_handler*>(h);
}

// Allocates a handler of kind k; setup fills in the rest before it is
// handed out.  NNG accepts any path here and refuses bad ones when the
// handler is added to a server; so do we.
template <typename Setup>
int make(nng_http_handler** out, handler::kind k, const char* path, handler::callback_fn cb,
         Setup&& setup) {
    if (out == nullptr) {
        return NNG_EINVAL;
    }
    return guard([&] {
        auto* h = new handler(k, path != nullptr ? path : "", cb);
        if (int rv = setup(*h); rv != 0) {
            h->release();
            return rv;
        }
        *out = to_c(h);
        return 0;
    });
}

} // namespace

extern "C" {

int nng_http_handler_alloc(nng_http_handler** out, const char* path, void (*cb)(nng_aio*)) {
    if (cb == nullptr) {
        return NNG_EINVAL; // NNG refuses it only when added; nothing could serve it
    }
    return make(out, handler::kind::custom, path, cb, [](handler&) { return 0; });
}

void nng_http_handler_free(nng_http_handler* h) {
    if (h != nullptr) {
        from_c(h)->release();
    }
}

int nng_http_handler_alloc_file(nng_http_handler** out, const char* path, const char* file) {
    if (file == nullptr) {
        return NNG_EINVAL;
    }
    return make(out, handler::kind::file, path, nullptr, [file](handler& h) {
        h.set_resource(file);
        h.collect_body(true, 0);
        return 0;
    });
}

int nng_http_handler_alloc_directory(nng_http_handler** out, const char* path, const char* dir) {
    if (dir == nullptr) {
        return NNG_EINVAL;
    }
    return make(out, handler::kind::directory, path, nullptr, [dir](handler& h) {
        h.set_resource(dir);
        h.collect_body(true, 0);
        return h.set_tree(true); // NNG: a directory owns its whole subtree
    });
}

int nng_http_handler_alloc_static(nng_http_handler** out, const char* path, const void* data,
                                  size_t size, const char* ctype) {
    if (data == nullptr && size > 0) {
        return NNG_EINVAL;
    }
    return make(out, handler::kind::static_data, path, nullptr, [&](handler& h) {
        h.set_resource(std::string(static_cast<const char*>(data), data != nullptr ? size : 0));
        h.set_content_type(ctype != nullptr ? ctype : "application/octet-stream");
        h.collect_body(true, 0);
        return 0;
    });
}

int nng_http_handler_alloc_redirect(nng_http_handler** out, const char* path, uint16_t status,
                                    const char* where) {
    if (where == nullptr) {
        return NNG_EINVAL;
    }
    if (status == 0) {
        status = NNG_HTTP_STATUS_STATUS_MOVED_PERMANENTLY;
    }
    // The man page asks for a 3xx code; anything else would not redirect.
    if (status < 300 || status > 399) {
        return NNG_EINVAL;
    }
    return make(out, handler::kind::redirect, path, nullptr, [&](handler& h) {
        h.set_resource(where);
        h.set_redirect_status(status);
        h.collect_body(false, 0);
        return h.set_method(nullptr); // every method is redirected
    });
}

int nng_http_handler_set_method(nng_http_handler* h, const char* method) {
    return h != nullptr ? guard([&] { return from_c(h)->set_method(method); }) : NNG_EINVAL;
}

int nng_http_handler_set_host(nng_http_handler* h, const char* host) {
    return h != nullptr ? guard([&] { return from_c(h)->set_host(host); }) : NNG_EINVAL;
}

int nng_http_handler_collect_body(nng_http_handler* h, bool want, size_t max) {
    if (h == nullptr) {
        return NNG_EINVAL;
    }
    from_c(h)->collect_body(want, max);
    return 0;
}

int nng_http_handler_set_tree(nng_http_handler* h) {
    return h != nullptr ? from_c(h)->set_tree(false) : NNG_EINVAL;
}

int nng_http_handler_set_tree_exclusive(nng_http_handler* h) {
    return h != nullptr ? from_c(h)->set_tree(true) : NNG_EINVAL;
}

int nng_http_handler_set_data(nng_http_handler* h, void* data, void (*dtor)(void*)) {
    return h != nullptr ? from_c(h)->set_data(data, dtor) : NNG_EINVAL;
}

void* nng_http_handler_get_data(nng_http_handler* h) {
    return h != nullptr ? from_c(h)->data() : nullptr;
}

} // extern "C"
