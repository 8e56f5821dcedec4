/*
 * nng-http: the core of NNG 1.x's public C API.
 *
 * This header declares, with NNG 1.5's names, types, layouts and values, the
 * parts of <nng/nng.h> that nng-http implements: errors, memory, durations,
 * scatter/gather vectors, socket addresses, asynchronous I/O handles (aio),
 * URLs, and byte streams with their dialers and listeners.  A program written
 * against those parts of NNG compiles unchanged against this header.
 *
 * The scalability protocols (nng_socket and friends) are not part of
 * nng-http and are deliberately not declared, so that a program using them
 * fails at compile time rather than at link time.
 *
 * This header is plain C (C99 or later); nothing in it is C++.
 */
#ifndef NNG_NNG_H
#define NNG_NNG_H

#ifdef __cplusplus
extern "C" {
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef NNG_DECL
#if defined(__GNUC__) || defined(__clang__)
#define NNG_DECL extern __attribute__((visibility("default")))
#else
#define NNG_DECL extern
#endif
#endif

/* The NNG API version this header is compatible with. */
#define NNG_MAJOR_VERSION 1
#define NNG_MINOR_VERSION 5
#define NNG_PATCH_VERSION 2
#define NNG_RELEASE_SUFFIX ""

/* Longest name carried in an inproc or IPC address, including the NUL. */
#define NNG_MAXADDRLEN (128)

/* A duration in milliseconds, or one of the NNG_DURATION_* values. */
typedef int32_t nng_duration;

#define NNG_DURATION_INFINITE (-1) /* never time out */
#define NNG_DURATION_DEFAULT (-2)  /* the object's own default */
#define NNG_DURATION_ZERO (0)      /* fail at once if not done at once */

typedef struct nng_aio nng_aio;

/* ---- socket addresses (layout identical to NNG 1.5) ---- */

struct nng_sockaddr_inproc {
    uint16_t sa_family;
    char sa_name[NNG_MAXADDRLEN];
};

struct nng_sockaddr_path {
    uint16_t sa_family;
    char sa_path[NNG_MAXADDRLEN];
};

/* sa_port and sa_addr are in network byte order. */
struct nng_sockaddr_in6 {
    uint16_t sa_family;
    uint16_t sa_port;
    uint8_t sa_addr[16];
    uint32_t sa_scope;
};

struct nng_sockaddr_in {
    uint16_t sa_family;
    uint16_t sa_port;
    uint32_t sa_addr;
};

struct nng_sockaddr_zt {
    uint16_t sa_family;
    uint64_t sa_nwid;
    uint64_t sa_nodeid;
    uint32_t sa_port;
};

/* A Linux abstract socket name: sa_len bytes, no leading NUL. */
struct nng_sockaddr_abstract {
    uint16_t sa_family;
    uint16_t sa_len;
    uint8_t sa_name[107];
};

/* Large enough for every address above; its size never changes. */
struct nng_sockaddr_storage {
    uint16_t sa_family;
    uint64_t sa_pad[16];
};

typedef struct nng_sockaddr_inproc nng_sockaddr_inproc;
typedef struct nng_sockaddr_path nng_sockaddr_path;
typedef struct nng_sockaddr_path nng_sockaddr_ipc;
typedef struct nng_sockaddr_in nng_sockaddr_in;
typedef struct nng_sockaddr_in6 nng_sockaddr_in6;
typedef struct nng_sockaddr_zt nng_sockaddr_zt;
typedef struct nng_sockaddr_abstract nng_sockaddr_abstract;
typedef struct nng_sockaddr_storage nng_sockaddr_storage;

typedef union nng_sockaddr {
    uint16_t s_family;
    nng_sockaddr_ipc s_ipc;
    nng_sockaddr_inproc s_inproc;
    nng_sockaddr_in6 s_in6;
    nng_sockaddr_in s_in;
    nng_sockaddr_zt s_zt;
    nng_sockaddr_abstract s_abstract;
    nng_sockaddr_storage s_storage;
} nng_sockaddr;

enum nng_sockaddr_family {
    NNG_AF_UNSPEC = 0,
    NNG_AF_INPROC = 1,
    NNG_AF_IPC = 2,
    NNG_AF_INET = 3,
    NNG_AF_INET6 = 4,
    NNG_AF_ZT = 5,
    NNG_AF_ABSTRACT = 6
};

/* ---- scatter/gather ---- */

typedef struct nng_iov {
    void* iov_buf;
    size_t iov_len;
} nng_iov;

/* ---- library lifetime, errors, memory ---- */

/* Releases global resources.  Call only when no other nng call can run. */
NNG_DECL void nng_fini(void);

/* A readable text for an NNG_E* value (or a system/transport error). */
NNG_DECL const char* nng_strerror(int);

/* The version of the NNG API implemented, "1.5.2". */
NNG_DECL const char* nng_version(void);

NNG_DECL void* nng_alloc(size_t);
NNG_DECL void nng_free(void*, size_t);
NNG_DECL char* nng_strdup(const char*);
NNG_DECL void nng_strfree(char*);

/* ---- asynchronous I/O ---- */

/*
 * An aio carries one operation at a time.  The callback passed to
 * nng_aio_alloc runs exactly once per started operation, on a worker thread,
 * never inside the call that started the operation.
 */
NNG_DECL int nng_aio_alloc(nng_aio**, void (*)(void*), void*);
NNG_DECL void nng_aio_free(nng_aio*);
/* Like nng_aio_free, but done later on a background thread. */
NNG_DECL void nng_aio_reap(nng_aio*);
/* Aborts with NNG_ECANCELED, waits for the callback, refuses new work. */
NNG_DECL void nng_aio_stop(nng_aio*);
NNG_DECL int nng_aio_result(nng_aio*);
NNG_DECL size_t nng_aio_count(nng_aio*);
NNG_DECL void nng_aio_cancel(nng_aio*);
NNG_DECL void nng_aio_abort(nng_aio*, int);
NNG_DECL void nng_aio_wait(nng_aio*);
/* Inputs and outputs have indices 0 to 3; others give NNG_EINVAL. */
NNG_DECL int nng_aio_set_input(nng_aio*, unsigned, void*);
NNG_DECL void* nng_aio_get_input(nng_aio*, unsigned);
NNG_DECL int nng_aio_set_output(nng_aio*, unsigned, void*);
NNG_DECL void* nng_aio_get_output(nng_aio*, unsigned);
NNG_DECL void nng_aio_set_timeout(nng_aio*, nng_duration);
/* Copies up to 8 vectors into the aio; more gives NNG_EINVAL. */
NNG_DECL int nng_aio_set_iov(nng_aio*, unsigned, const nng_iov*);

/* For I/O providers: begin, defer (with a cancel function), finish. */
typedef void (*nng_aio_cancelfn)(nng_aio*, void*, int);
NNG_DECL bool nng_aio_begin(nng_aio*);
NNG_DECL void nng_aio_finish(nng_aio*, int);
NNG_DECL void nng_aio_defer(nng_aio*, nng_aio_cancelfn, void*);

/* Completes the aio with 0 after msec, or NNG_ETIMEDOUT if its timeout
 * is shorter. */
NNG_DECL void nng_sleep_aio(nng_duration, nng_aio*);

/* ---- errors (values identical to NNG 1.5) ---- */

enum nng_errno_enum {
    NNG_EINTR = 1,
    NNG_ENOMEM = 2,
    NNG_EINVAL = 3,
    NNG_EBUSY = 4,
    NNG_ETIMEDOUT = 5,
    NNG_ECONNREFUSED = 6,
    NNG_ECLOSED = 7,
    NNG_EAGAIN = 8,
    NNG_ENOTSUP = 9,
    NNG_EADDRINUSE = 10,
    NNG_ESTATE = 11,
    NNG_ENOENT = 12,
    NNG_EPROTO = 13,
    NNG_EUNREACHABLE = 14,
    NNG_EADDRINVAL = 15,
    NNG_EPERM = 16,
    NNG_EMSGSIZE = 17,
    NNG_ECONNABORTED = 18,
    NNG_ECONNRESET = 19,
    NNG_ECANCELED = 20,
    NNG_ENOFILES = 21,
    NNG_ENOSPC = 22,
    NNG_EEXIST = 23,
    NNG_EREADONLY = 24,
    NNG_EWRITEONLY = 25,
    NNG_ECRYPTO = 26,
    NNG_EPEERAUTH = 27,
    NNG_ENOARG = 28,
    NNG_EAMBIGUOUS = 29,
    NNG_EBADTYPE = 30,
    NNG_ECONNSHUT = 31,
    NNG_EINTERNAL = 1000,
    /* NNG_ESYSERR + errno: an operating system error. */
    NNG_ESYSERR = 0x10000000,
    /* NNG_ETRANERR + code: a transport-specific error. */
    NNG_ETRANERR = 0x20000000
};

/* ---- option names (strings identical to NNG 1.5) ---- */

#define NNG_OPT_SOCKNAME "socket-name"
#define NNG_OPT_RECVBUF "recv-buffer"
#define NNG_OPT_SENDBUF "send-buffer"
#define NNG_OPT_RECVTIMEO "recv-timeout"
#define NNG_OPT_SENDTIMEO "send-timeout"
#define NNG_OPT_LOCADDR "local-address"
#define NNG_OPT_REMADDR "remote-address"
#define NNG_OPT_URL "url"
#define NNG_OPT_RECVMAXSZ "recv-size-max"
#define NNG_OPT_RECONNMINT "reconnect-time-min"
#define NNG_OPT_RECONNMAXT "reconnect-time-max"

#define NNG_OPT_TLS_CONFIG "tls-config"
#define NNG_OPT_TLS_AUTH_MODE "tls-authmode"
#define NNG_OPT_TLS_CERT_KEY_FILE "tls-cert-key-file"
#define NNG_OPT_TLS_CA_FILE "tls-ca-file"
#define NNG_OPT_TLS_SERVER_NAME "tls-server-name"
#define NNG_OPT_TLS_VERIFIED "tls-verified"

/* bool: disable Nagle's algorithm (default true). */
#define NNG_OPT_TCP_NODELAY "tcp-nodelay"
/* bool: enable TCP keep-alive probes (default false). */
#define NNG_OPT_TCP_KEEPALIVE "tcp-keepalive"
/* int, read-only on listeners: the port actually bound. */
#define NNG_OPT_TCP_BOUND_PORT "tcp-bound-port"

#define NNG_OPT_IPC_SECURITY_DESCRIPTOR "ipc:security-descriptor"
/* int, listeners, before listen: the file mode of the socket path. */
#define NNG_OPT_IPC_PERMISSIONS "ipc:permissions"
/* uint64, read-only, IPC streams: the peer's credentials. */
#define NNG_OPT_IPC_PEER_UID "ipc:peer-uid"
#define NNG_OPT_IPC_PEER_GID "ipc:peer-gid"
#define NNG_OPT_IPC_PEER_PID "ipc:peer-pid"
#define NNG_OPT_IPC_PEER_ZONEID "ipc:peer-zoneid"

/* WebSocket options (ws://, wss:// streams, dialers and listeners). */
/* string: every request field as "Name: value" lines ending in CRLF
 * (dialers: set, the extra fields to send; streams: get). */
#define NNG_OPT_WS_REQUEST_HEADERS "ws:request-headers"
/* string: the same for the response (listeners: set; streams: get). */
#define NNG_OPT_WS_RESPONSE_HEADERS "ws:response-headers"
/* prefix: append a field name for one response field (listeners: set;
 * streams: get). */
#define NNG_OPT_WS_RESPONSE_HEADER "ws:response-header:"
/* prefix: the same for one request field (dialers: set; streams: get). */
#define NNG_OPT_WS_REQUEST_HEADER "ws:request-header:"
/* string, streams, read-only: the request target the client sent. */
#define NNG_OPT_WS_REQUEST_URI "ws:request-uri"
/* size: the largest message one send sends (default 65536, 0: no limit). */
#define NNG_OPT_WS_SENDMAXFRAME "ws:txframe-max"
/* size: the largest frame accepted (default 1 MiB, 0: no limit). */
#define NNG_OPT_WS_RECVMAXFRAME "ws:rxframe-max"
/* string: the subprotocols (Sec-WebSocket-Protocol), comma-separated. */
#define NNG_OPT_WS_PROTOCOL "ws:protocol"
/* bool: send text messages instead of binary ones. */
#define NNG_OPT_WS_SEND_TEXT "ws:send-text"
/* bool: accept text messages (else one fails the connection, 1003). */
#define NNG_OPT_WS_RECV_TEXT "ws:recv-text"
/* nng-http extensions (NNG has none of these).  Keepalive for ws:// and
 * wss:// streams, as nng_duration in milliseconds, on dialers, listeners
 * and their streams' endpoints before they connect: a ping after
 * NNG_OPT_WS_PING_INTERVAL without a byte from the peer while a receive
 * waits; NNG_OPT_WS_PONG_TIMEOUT more without one (0: the interval) fail
 * the connection with close code 1011 and the receive with NNG_ETIMEDOUT.
 * 0 (the default) turns keepalive off. */
#define NNG_OPT_WS_PING_INTERVAL "ws:ping-interval"
#define NNG_OPT_WS_PONG_TIMEOUT "ws:pong-timeout"
/* nng-http extension: permessage-deflate (RFC 7692) for ws:// and wss://
 * streams, bool, false by default.  A dialer offers it, a listener accepts
 * offers it can honour; a stream reads whether it was agreed.  Limits
 * (NNG_OPT_RECVMAXSZ) apply to the inflated size. */
#define NNG_OPT_WS_DEFLATE "ws:deflate"

/* ---- URLs ---- */

typedef struct nng_url {
    char* u_rawurl;   /* the text as given, never NULL */
    char* u_scheme;   /* never NULL */
    char* u_userinfo; /* NULL when absent */
    /* For path schemes (ipc, unix, abstract, inproc) host, hostname, port
     * and requri are NULL and the path is everything after "//". */
    char* u_host;     /* hostname with ":port" when a port is known */
    char* u_hostname; /* "" when absent */
    char* u_port;     /* "" when absent and the scheme has no default */
    char* u_path;     /* "" when absent */
    char* u_query;    /* without '?', NULL when absent */
    char* u_fragment; /* without '#', NULL when absent */
    char* u_requri;   /* path with query and fragment, "" when absent */
} nng_url;

NNG_DECL int nng_url_parse(nng_url**, const char*);
NNG_DECL void nng_url_free(nng_url*);
NNG_DECL int nng_url_clone(nng_url**, const nng_url*);

/* ---- byte streams ---- */

typedef struct nng_stream nng_stream;
typedef struct nng_stream_dialer nng_stream_dialer;
typedef struct nng_stream_listener nng_stream_listener;

NNG_DECL void nng_stream_free(nng_stream*);
NNG_DECL void nng_stream_close(nng_stream*);
NNG_DECL void nng_stream_send(nng_stream*, nng_aio*);
NNG_DECL void nng_stream_recv(nng_stream*, nng_aio*);
NNG_DECL int nng_stream_get(nng_stream*, const char*, void*, size_t*);
NNG_DECL int nng_stream_get_bool(nng_stream*, const char*, bool*);
NNG_DECL int nng_stream_get_int(nng_stream*, const char*, int*);
NNG_DECL int nng_stream_get_ms(nng_stream*, const char*, nng_duration*);
NNG_DECL int nng_stream_get_size(nng_stream*, const char*, size_t*);
NNG_DECL int nng_stream_get_uint64(nng_stream*, const char*, uint64_t*);
NNG_DECL int nng_stream_get_string(nng_stream*, const char*, char**);
NNG_DECL int nng_stream_get_ptr(nng_stream*, const char*, void**);
NNG_DECL int nng_stream_get_addr(nng_stream*, const char*, nng_sockaddr*);
NNG_DECL int nng_stream_set(nng_stream*, const char*, const void*, size_t);
NNG_DECL int nng_stream_set_bool(nng_stream*, const char*, bool);
NNG_DECL int nng_stream_set_int(nng_stream*, const char*, int);
NNG_DECL int nng_stream_set_ms(nng_stream*, const char*, nng_duration);
NNG_DECL int nng_stream_set_size(nng_stream*, const char*, size_t);
NNG_DECL int nng_stream_set_uint64(nng_stream*, const char*, uint64_t);
NNG_DECL int nng_stream_set_string(nng_stream*, const char*, const char*);
NNG_DECL int nng_stream_set_ptr(nng_stream*, const char*, void*);
NNG_DECL int nng_stream_set_addr(nng_stream*, const char*, const nng_sockaddr*);

NNG_DECL int nng_stream_dialer_alloc(nng_stream_dialer**, const char*);
NNG_DECL int nng_stream_dialer_alloc_url(nng_stream_dialer**, const nng_url*);
NNG_DECL void nng_stream_dialer_free(nng_stream_dialer*);
NNG_DECL void nng_stream_dialer_close(nng_stream_dialer*);
NNG_DECL void nng_stream_dialer_dial(nng_stream_dialer*, nng_aio*);
NNG_DECL int nng_stream_dialer_get(nng_stream_dialer*, const char*, void*, size_t*);
NNG_DECL int nng_stream_dialer_get_bool(nng_stream_dialer*, const char*, bool*);
NNG_DECL int nng_stream_dialer_get_int(nng_stream_dialer*, const char*, int*);
NNG_DECL int nng_stream_dialer_get_ms(nng_stream_dialer*, const char*, nng_duration*);
NNG_DECL int nng_stream_dialer_get_size(nng_stream_dialer*, const char*, size_t*);
NNG_DECL int nng_stream_dialer_get_uint64(nng_stream_dialer*, const char*, uint64_t*);
NNG_DECL int nng_stream_dialer_get_string(nng_stream_dialer*, const char*, char**);
NNG_DECL int nng_stream_dialer_get_ptr(nng_stream_dialer*, const char*, void**);
NNG_DECL int nng_stream_dialer_get_addr(nng_stream_dialer*, const char*, nng_sockaddr*);
NNG_DECL int nng_stream_dialer_set(nng_stream_dialer*, const char*, const void*, size_t);
NNG_DECL int nng_stream_dialer_set_bool(nng_stream_dialer*, const char*, bool);
NNG_DECL int nng_stream_dialer_set_int(nng_stream_dialer*, const char*, int);
NNG_DECL int nng_stream_dialer_set_ms(nng_stream_dialer*, const char*, nng_duration);
NNG_DECL int nng_stream_dialer_set_size(nng_stream_dialer*, const char*, size_t);
NNG_DECL int nng_stream_dialer_set_uint64(nng_stream_dialer*, const char*, uint64_t);
NNG_DECL int nng_stream_dialer_set_string(nng_stream_dialer*, const char*, const char*);
NNG_DECL int nng_stream_dialer_set_ptr(nng_stream_dialer*, const char*, void*);
NNG_DECL int nng_stream_dialer_set_addr(nng_stream_dialer*, const char*, const nng_sockaddr*);

NNG_DECL int nng_stream_listener_alloc(nng_stream_listener**, const char*);
NNG_DECL int nng_stream_listener_alloc_url(nng_stream_listener**, const nng_url*);
NNG_DECL void nng_stream_listener_free(nng_stream_listener*);
NNG_DECL void nng_stream_listener_close(nng_stream_listener*);
NNG_DECL int nng_stream_listener_listen(nng_stream_listener*);
NNG_DECL void nng_stream_listener_accept(nng_stream_listener*, nng_aio*);
NNG_DECL int nng_stream_listener_get(nng_stream_listener*, const char*, void*, size_t*);
NNG_DECL int nng_stream_listener_get_bool(nng_stream_listener*, const char*, bool*);
NNG_DECL int nng_stream_listener_get_int(nng_stream_listener*, const char*, int*);
NNG_DECL int nng_stream_listener_get_ms(nng_stream_listener*, const char*, nng_duration*);
NNG_DECL int nng_stream_listener_get_size(nng_stream_listener*, const char*, size_t*);
NNG_DECL int nng_stream_listener_get_uint64(nng_stream_listener*, const char*, uint64_t*);
NNG_DECL int nng_stream_listener_get_string(nng_stream_listener*, const char*, char**);
NNG_DECL int nng_stream_listener_get_ptr(nng_stream_listener*, const char*, void**);
NNG_DECL int nng_stream_listener_get_addr(nng_stream_listener*, const char*, nng_sockaddr*);
NNG_DECL int nng_stream_listener_set(nng_stream_listener*, const char*, const void*, size_t);
NNG_DECL int nng_stream_listener_set_bool(nng_stream_listener*, const char*, bool);
NNG_DECL int nng_stream_listener_set_int(nng_stream_listener*, const char*, int);
NNG_DECL int nng_stream_listener_set_ms(nng_stream_listener*, const char*, nng_duration);
NNG_DECL int nng_stream_listener_set_size(nng_stream_listener*, const char*, size_t);
NNG_DECL int nng_stream_listener_set_uint64(nng_stream_listener*, const char*, uint64_t);
NNG_DECL int nng_stream_listener_set_string(nng_stream_listener*, const char*, const char*);
NNG_DECL int nng_stream_listener_set_ptr(nng_stream_listener*, const char*, void*);
NNG_DECL int nng_stream_listener_set_addr(nng_stream_listener*, const char*,
                                          const nng_sockaddr*);

#ifdef __cplusplus
}
#endif

#endif /* NNG_NNG_H */
