/*
 * Option helpers for ws_options.c: one call on a stream dialer, listener
 * or stream, printed as one line "<object> <operation> "<option>": rv=NAME
 * [value=...]".  Strings are printed with the port masked (mask()), the
 * Sec-WebSocket-Key and -Accept values as their length, addresses as their
 * family and whether the port is zero.
 */
#ifndef NNGHTTP_COMPAT_WS_OPTS_H
#define NNGHTTP_COMPAT_WS_OPTS_H

#include "ws_common.h"

enum kind { K_DIALER, K_LISTENER, K_STREAM };
struct obj {
    enum kind k;
    void* p;
    const char* name;
};

#define CALL(o, fn, ...)                                                                           \
    ((o)->k == K_DIALER     ? nng_stream_dialer_##fn((nng_stream_dialer*)(o)->p, __VA_ARGS__)      \
     : (o)->k == K_LISTENER ? nng_stream_listener_##fn((nng_stream_listener*)(o)->p, __VA_ARGS__)  \
                            : nng_stream_##fn((nng_stream*)(o)->p, __VA_ARGS__))

static void res(const struct obj* o, const char* op, const char* opt, int rv) {
    printf("%s %s \"%s\": rv=%s", o->name, op, opt, errname(rv));
}

static void g_size(const struct obj* o, const char* opt) {
    size_t v = 0;
    int rv = CALL(o, get_size, opt, &v);
    res(o, "get_size", opt, rv);
    rv == 0 ? printf(" value=%zu\n", v) : printf("\n");
}
static void g_bool(const struct obj* o, const char* opt) {
    bool v = false;
    int rv = CALL(o, get_bool, opt, &v);
    res(o, "get_bool", opt, rv);
    rv == 0 ? printf(" value=%s\n", v ? "true" : "false") : printf("\n");
}
/* Only the result: for values that differ on purpose. */
static void g_bool_rv(const struct obj* o, const char* opt) {
    bool v = false;
    res(o, "get_bool (value not compared)", opt, CALL(o, get_bool, opt, &v));
    printf("\n");
}
static void g_int(const struct obj* o, const char* opt) {
    int v = 0;
    int rv = CALL(o, get_int, opt, &v);
    res(o, "get_int", opt, rv);
    printf("\n");
}
static void g_string(const struct obj* o, const char* opt) {
    char* v = NULL;
    int rv = CALL(o, get_string, opt, &v);
    res(o, "get_string", opt, rv);
    if (rv == 0) {
        if (strcasecmp(opt, NNG_OPT_WS_REQUEST_HEADER "Sec-WebSocket-Key") == 0 ||
            strcasecmp(opt, NNG_OPT_WS_RESPONSE_HEADER "Sec-WebSocket-Accept") == 0) {
            printf(" value=(%zu chars)\n", strlen(v));
        } else {
            printf(" value=\"%s\"\n", mask(v));
        }
        nng_strfree(v);
    } else {
        printf("\n");
    }
}
static void g_headers(const struct obj* o, const char* opt) {
    char* v = NULL;
    int rv = CALL(o, get_string, opt, &v);
    res(o, "get_string", opt, rv);
    printf("\n");
    if (rv == 0) {
        put_headers("  value", v);
        nng_strfree(v);
    }
}
static void g_opaque(const struct obj* o, const char* opt, size_t bufsz) {
    char buf[64] = {0};
    size_t sz = bufsz;
    int rv = CALL(o, get, opt, buf, &sz);
    char what[32];
    snprintf(what, sizeof what, "get(opaque %zu)", bufsz);
    res(o, what, opt, rv);
    printf(" size=%zu\n", sz);
}
static void g_addr(const struct obj* o, const char* opt) {
    nng_sockaddr sa;
    memset(&sa, 0, sizeof sa);
    int rv = CALL(o, get_addr, opt, &sa);
    res(o, "get_addr", opt, rv);
    if (rv == 0) {
        printf(" family=%s port=%s\n",
               sa.s_family == NNG_AF_UNSPEC  ? "unspec"
               : sa.s_family == NNG_AF_INET  ? "inet"
               : sa.s_family == NNG_AF_INET6 ? "inet6"
                                             : "other",
               sa.s_family == NNG_AF_INET && sa.s_in.sa_port != 0 ? "nonzero" : "zero");
    } else {
        printf("\n");
    }
}
static void s_size(const struct obj* o, const char* opt, size_t v) {
    char what[48];
    snprintf(what, sizeof what, "set_size(%zu)", v);
    res(o, what, opt, CALL(o, set_size, opt, v));
    printf("\n");
}
static void s_bool(const struct obj* o, const char* opt, bool v) {
    res(o, v ? "set_bool(true)" : "set_bool(false)", opt, CALL(o, set_bool, opt, v));
    printf("\n");
}
static void s_int(const struct obj* o, const char* opt, int v) {
    char what[32];
    snprintf(what, sizeof what, "set_int(%d)", v);
    res(o, what, opt, CALL(o, set_int, opt, v));
    printf("\n");
}
static void s_string(const struct obj* o, const char* opt, const char* v) {
    char what[160];
    snprintf(what, sizeof what, "set_string(\"%s\")", v);
    res(o, mask(what), opt, CALL(o, set_string, opt, v));
    printf("\n");
}
static void s_opaque(const struct obj* o, const char* opt, const void* v, size_t n) {
    char what[32];
    snprintf(what, sizeof what, "set(opaque %zu)", n);
    res(o, what, opt, CALL(o, set, opt, v, n));
    printf("\n");
}

#endif /* NNGHTTP_COMPAT_WS_OPTS_H */
