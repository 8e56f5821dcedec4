// nng_stream_*, nng_stream_dialer_*, nng_stream_listener_*: shims over
// nnghttp::detail::stream, stream_dialer and stream_listener (every scheme:
// tcp, ipc, tls+tcp, and ws, wss through ws::make_any_dialer/_listener).
#include <nng/nng.h>

#include "capi/handles.hpp"
#include "stream/stream.hpp"
#include "websocket/ws_stream.hpp"

#include <cstring>

using namespace nnghttp::detail;
using nnghttp::detail::capi::from_c;

namespace {

stream* obj(nng_stream* s) { return reinterpret_cast<stream*>(s); }
stream_dialer* obj(nng_stream_dialer* d) { return reinterpret_cast<stream_dialer*>(d); }
stream_listener* obj(nng_stream_listener* l) { return reinterpret_cast<stream_listener*>(l); }

template <typename H, typename V> int get_as(H* h, const char* name, V* v, opt_type t) {
    std::size_t sz = sizeof(V);
    return obj(h)->get(name, opt_out{v, &sz, t});
}

template <typename H, typename V> int set_as(H* h, const char* name, const V& v, opt_type t) {
    return obj(h)->set(name, opt_in{&v, sizeof(V), t});
}

template <typename H> int get_string(H* h, const char* name, char** v) {
    return obj(h)->get(name, opt_out{v, nullptr, opt_type::string});
}

template <typename H> int set_string(H* h, const char* name, const char* v) {
    return obj(h)->set(name, opt_in{v, v == nullptr ? 0 : std::strlen(v) + 1, opt_type::string});
}

} // namespace

// The typed option calls are the same for all three kinds of object.
#define NNGHTTP_OPTION_SHIMS(pfx, H)                                                              \
    int pfx##_get(H* h, const char* n, void* v, size_t* sz) {                                     \
        return obj(h)->get(n, opt_out{v, sz, opt_type::opaque});                                  \
    }                                                                                             \
    int pfx##_set(H* h, const char* n, const void* v, size_t sz) {                                \
        return obj(h)->set(n, opt_in{v, sz, opt_type::opaque});                                   \
    }                                                                                             \
    int pfx##_get_bool(H* h, const char* n, bool* v) { return get_as(h, n, v, opt_type::boolean); } \
    int pfx##_get_int(H* h, const char* n, int* v) { return get_as(h, n, v, opt_type::int32); }   \
    int pfx##_get_ms(H* h, const char* n, nng_duration* v) { return get_as(h, n, v, opt_type::ms); } \
    int pfx##_get_size(H* h, const char* n, size_t* v) { return get_as(h, n, v, opt_type::size); } \
    int pfx##_get_uint64(H* h, const char* n, uint64_t* v) {                                      \
        return get_as(h, n, v, opt_type::uint64);                                                 \
    }                                                                                             \
    int pfx##_get_string(H* h, const char* n, char** v) { return get_string(h, n, v); }           \
    int pfx##_get_ptr(H* h, const char* n, void** v) { return get_as(h, n, v, opt_type::ptr); }   \
    int pfx##_get_addr(H* h, const char* n, nng_sockaddr* v) {                                    \
        return get_as(h, n, v, opt_type::sockaddr);                                               \
    }                                                                                             \
    int pfx##_set_bool(H* h, const char* n, bool v) { return set_as(h, n, v, opt_type::boolean); } \
    int pfx##_set_int(H* h, const char* n, int v) { return set_as(h, n, v, opt_type::int32); }    \
    int pfx##_set_ms(H* h, const char* n, nng_duration v) { return set_as(h, n, v, opt_type::ms); } \
    int pfx##_set_size(H* h, const char* n, size_t v) { return set_as(h, n, v, opt_type::size); } \
    int pfx##_set_uint64(H* h, const char* n, uint64_t v) {                                       \
        return set_as(h, n, v, opt_type::uint64);                                                 \
    }                                                                                             \
    int pfx##_set_string(H* h, const char* n, const char* v) { return set_string(h, n, v); }      \
    int pfx##_set_ptr(H* h, const char* n, void* v) { return set_as(h, n, v, opt_type::ptr); }    \
    int pfx##_set_addr(H* h, const char* n, const nng_sockaddr* v) {                              \
        return set_as(h, n, *v, opt_type::sockaddr);                                              \
    }

extern "C" {

// ---- streams ----

void nng_stream_free(nng_stream* s) {
    if (s != nullptr) {
        obj(s)->close();
        obj(s)->release();
    }
}

void nng_stream_close(nng_stream* s) { obj(s)->close(); }

void nng_stream_send(nng_stream* s, nng_aio* a) { obj(s)->send(from_c(a)); }

void nng_stream_recv(nng_stream* s, nng_aio* a) { obj(s)->recv(from_c(a)); }

NNGHTTP_OPTION_SHIMS(nng_stream, nng_stream)

// ---- dialers ----

int nng_stream_dialer_alloc_url(nng_stream_dialer** dp, const nng_url* url) {
    return capi::guard([&] {
        stream_dialer* d = nullptr;
        int rv = nnghttp::detail::ws::make_any_dialer(*url, d);
        if (rv == 0) {
            *dp = reinterpret_cast<nng_stream_dialer*>(d);
        }
        return rv;
    });
}

int nng_stream_dialer_alloc(nng_stream_dialer** dp, const char* addr) {
    nng_url* url = nullptr;
    int rv = nng_url_parse(&url, addr);
    if (rv == 0) {
        rv = nng_stream_dialer_alloc_url(dp, url);
        nng_url_free(url);
    }
    return rv;
}

void nng_stream_dialer_free(nng_stream_dialer* d) {
    if (d != nullptr) {
        obj(d)->close();
        obj(d)->release();
    }
}

void nng_stream_dialer_close(nng_stream_dialer* d) { obj(d)->close(); }

void nng_stream_dialer_dial(nng_stream_dialer* d, nng_aio* a) { obj(d)->dial(from_c(a)); }

NNGHTTP_OPTION_SHIMS(nng_stream_dialer, nng_stream_dialer)

// ---- listeners ----

int nng_stream_listener_alloc_url(nng_stream_listener** lp, const nng_url* url) {
    return capi::guard([&] {
        stream_listener* l = nullptr;
        int rv = nnghttp::detail::ws::make_any_listener(*url, l);
        if (rv == 0) {
            *lp = reinterpret_cast<nng_stream_listener*>(l);
        }
        return rv;
    });
}

int nng_stream_listener_alloc(nng_stream_listener** lp, const char* addr) {
    nng_url* url = nullptr;
    int rv = nng_url_parse(&url, addr);
    if (rv == 0) {
        rv = nng_stream_listener_alloc_url(lp, url);
        nng_url_free(url);
    }
    return rv;
}

void nng_stream_listener_free(nng_stream_listener* l) {
    if (l != nullptr) {
        obj(l)->close();
        obj(l)->release();
    }
}

void nng_stream_listener_close(nng_stream_listener* l) { obj(l)->close(); }

int nng_stream_listener_listen(nng_stream_listener* l) { return obj(l)->listen(); }

void nng_stream_listener_accept(nng_stream_listener* l, nng_aio* a) { obj(l)->accept(from_c(a)); }

NNGHTTP_OPTION_SHIMS(nng_stream_listener, nng_stream_listener)

} // extern "C"
