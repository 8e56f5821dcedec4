/*
 * nng-http: NNG 1.x's HTTP framework API (<nng/supplemental/http/http.h>).
 *
 * Same names, types and values as NNG 1.3 through 1.9, so a program written
 * for NNG's HTTP API builds against either.  Include <nng/nng.h> first, as
 * with NNG.  Behaviour follows NNG's manual pages; docs/compat.md lists the
 * places where nng-http deliberately differs.
 */
#ifndef NNG_SUPPLEMENTAL_HTTP_HTTP_H
#define NNG_SUPPLEMENTAL_HTTP_HTTP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque TLS configuration (<nng/supplemental/tls/tls.h>). */
struct nng_tls_config;

/* Status codes.  The names, including NNG's own spellings
 * (NNG_HTTP_STATUS_STATUS_MOVED_PERMANENTLY, ..._HTTP_VERSION_NOT_SUPP),
 * are NNG's. */
enum nng_http_status {
    /* 1xx: informational */
    NNG_HTTP_STATUS_CONTINUE = 100,
    NNG_HTTP_STATUS_SWITCHING = 101,
    NNG_HTTP_STATUS_PROCESSING = 102,
    /* 2xx: success */
    NNG_HTTP_STATUS_OK = 200,
    NNG_HTTP_STATUS_CREATED = 201,
    NNG_HTTP_STATUS_ACCEPTED = 202,
    NNG_HTTP_STATUS_NOT_AUTHORITATIVE = 203,
    NNG_HTTP_STATUS_NO_CONTENT = 204,
    NNG_HTTP_STATUS_RESET_CONTENT = 205,
    NNG_HTTP_STATUS_PARTIAL_CONTENT = 206,
    NNG_HTTP_STATUS_MULTI_STATUS = 207,
    NNG_HTTP_STATUS_ALREADY_REPORTED = 208,
    NNG_HTTP_STATUS_IM_USED = 226,
    /* 3xx: redirection */
    NNG_HTTP_STATUS_MULTIPLE_CHOICES = 300,
    NNG_HTTP_STATUS_STATUS_MOVED_PERMANENTLY = 301,
    NNG_HTTP_STATUS_FOUND = 302,
    NNG_HTTP_STATUS_SEE_OTHER = 303,
    NNG_HTTP_STATUS_NOT_MODIFIED = 304,
    NNG_HTTP_STATUS_USE_PROXY = 305,
    NNG_HTTP_STATUS_TEMPORARY_REDIRECT = 307,
    NNG_HTTP_STATUS_PERMANENT_REDIRECT = 308,
    /* 4xx: client errors */
    NNG_HTTP_STATUS_BAD_REQUEST = 400,
    NNG_HTTP_STATUS_UNAUTHORIZED = 401,
    NNG_HTTP_STATUS_PAYMENT_REQUIRED = 402,
    NNG_HTTP_STATUS_FORBIDDEN = 403,
    NNG_HTTP_STATUS_NOT_FOUND = 404,
    NNG_HTTP_STATUS_METHOD_NOT_ALLOWED = 405,
    NNG_HTTP_STATUS_NOT_ACCEPTABLE = 406,
    NNG_HTTP_STATUS_PROXY_AUTH_REQUIRED = 407,
    NNG_HTTP_STATUS_REQUEST_TIMEOUT = 408,
    NNG_HTTP_STATUS_CONFLICT = 409,
    NNG_HTTP_STATUS_GONE = 410,
    NNG_HTTP_STATUS_LENGTH_REQUIRED = 411,
    NNG_HTTP_STATUS_PRECONDITION_FAILED = 412,
    NNG_HTTP_STATUS_PAYLOAD_TOO_LARGE = 413,
    NNG_HTTP_STATUS_ENTITY_TOO_LONG = 414,
    NNG_HTTP_STATUS_UNSUPPORTED_MEDIA_TYPE = 415,
    NNG_HTTP_STATUS_RANGE_NOT_SATISFIABLE = 416,
    NNG_HTTP_STATUS_EXPECTATION_FAILED = 417,
    NNG_HTTP_STATUS_TEAPOT = 418,
    NNG_HTTP_STATUS_UNPROCESSABLE_ENTITY = 422,
    NNG_HTTP_STATUS_LOCKED = 423,
    NNG_HTTP_STATUS_FAILED_DEPENDENCY = 424,
    NNG_HTTP_STATUS_UPGRADE_REQUIRED = 426,
    NNG_HTTP_STATUS_PRECONDITION_REQUIRED = 428,
    NNG_HTTP_STATUS_TOO_MANY_REQUESTS = 429,
    NNG_HTTP_STATUS_HEADERS_TOO_LARGE = 431,
    NNG_HTTP_STATUS_UNAVAIL_LEGAL_REASONS = 451,
    /* 5xx: server errors */
    NNG_HTTP_STATUS_INTERNAL_SERVER_ERROR = 500,
    NNG_HTTP_STATUS_NOT_IMPLEMENTED = 501,
    NNG_HTTP_STATUS_BAD_GATEWAY = 502,
    NNG_HTTP_STATUS_SERVICE_UNAVAILABLE = 503,
    NNG_HTTP_STATUS_GATEWAY_TIMEOUT = 504,
    NNG_HTTP_STATUS_HTTP_VERSION_NOT_SUPP = 505,
    NNG_HTTP_STATUS_VARIANT_ALSO_NEGOTIATES = 506,
    NNG_HTTP_STATUS_INSUFFICIENT_STORAGE = 507,
    NNG_HTTP_STATUS_LOOP_DETECTED = 508,
    NNG_HTTP_STATUS_NOT_EXTENDED = 510,
    NNG_HTTP_STATUS_NETWORK_AUTH_REQUIRED = 511
};

/* ---- Requests ---- */

typedef struct nng_http_req nng_http_req;

/* A new GET request for HTTP/1.1.  With a URL, its request URI and Host
 * header are taken from it; the URL may be NULL. */
NNG_DECL int nng_http_req_alloc(nng_http_req **, const nng_url *);
NNG_DECL void nng_http_req_free(nng_http_req *);
/* Back to the freshly allocated state (no URL). */
NNG_DECL void nng_http_req_reset(nng_http_req *);
NNG_DECL const char *nng_http_req_get_method(nng_http_req *);
NNG_DECL const char *nng_http_req_get_version(nng_http_req *);
NNG_DECL const char *nng_http_req_get_uri(nng_http_req *);
NNG_DECL int nng_http_req_set_method(nng_http_req *, const char *);
NNG_DECL int nng_http_req_set_version(nng_http_req *, const char *);
NNG_DECL int nng_http_req_set_uri(nng_http_req *, const char *);
/* Header names compare without regard to case.  set replaces, add appends
 * to an existing value (comma separated), del gives NNG_ENOENT when absent,
 * get gives NULL when absent. */
NNG_DECL int nng_http_req_set_header(nng_http_req *, const char *, const char *);
NNG_DECL int nng_http_req_add_header(nng_http_req *, const char *, const char *);
NNG_DECL int nng_http_req_del_header(nng_http_req *, const char *);
NNG_DECL const char *nng_http_req_get_header(nng_http_req *, const char *);
/* The body.  set_data refers to the caller's memory, which must outlive
 * its use; copy_data keeps a copy.  Both set Content-Length. */
NNG_DECL int nng_http_req_set_data(nng_http_req *, const void *, size_t);
NNG_DECL int nng_http_req_copy_data(nng_http_req *, const void *, size_t);
NNG_DECL void nng_http_req_get_data(nng_http_req *, void **, size_t *);

/* ---- Responses ---- */

typedef struct nng_http_res nng_http_res;

/* A new "200 OK" HTTP/1.1 response. */
NNG_DECL int nng_http_res_alloc(nng_http_res **);
/* A response with the given status and a small HTML body describing it. */
NNG_DECL int nng_http_res_alloc_error(nng_http_res **, uint16_t);
NNG_DECL void nng_http_res_free(nng_http_res *);
NNG_DECL void nng_http_res_reset(nng_http_res *);
NNG_DECL uint16_t nng_http_res_get_status(nng_http_res *);
NNG_DECL int nng_http_res_set_status(nng_http_res *, uint16_t);
/* The reason phrase: the one set, else the standard one for the status. */
NNG_DECL const char *nng_http_res_get_reason(nng_http_res *);
NNG_DECL int nng_http_res_set_reason(nng_http_res *, const char *);
NNG_DECL int nng_http_res_set_header(nng_http_res *, const char *, const char *);
NNG_DECL int nng_http_res_add_header(nng_http_res *, const char *, const char *);
NNG_DECL int nng_http_res_del_header(nng_http_res *, const char *);
NNG_DECL const char *nng_http_res_get_header(nng_http_res *, const char *);
NNG_DECL int nng_http_res_set_version(nng_http_res *, const char *);
NNG_DECL const char *nng_http_res_get_version(nng_http_res *);
NNG_DECL void nng_http_res_get_data(nng_http_res *, void **, size_t *);
NNG_DECL int nng_http_res_set_data(nng_http_res *, const void *, size_t);
NNG_DECL int nng_http_res_copy_data(nng_http_res *, const void *, size_t);

/* ---- Connections ---- */

typedef struct nng_http_conn nng_http_conn;

/* Closes the connection; pending and later operations fail with
 * NNG_ECLOSED.  Also frees a connection from nng_http_client_connect. */
NNG_DECL void nng_http_conn_close(nng_http_conn *);
/* Reads into the aio's iov: read completes after some bytes, read_all when
 * every byte of the iov is filled (or on error; nng_aio_count tells). */
NNG_DECL void nng_http_conn_read(nng_http_conn *, nng_aio *);
NNG_DECL void nng_http_conn_read_all(nng_http_conn *, nng_aio *);
/* Writes the aio's iov: write completes after some bytes, write_all when
 * every byte is written (or on error; nng_aio_count tells). */
NNG_DECL void nng_http_conn_write(nng_http_conn *, nng_aio *);
NNG_DECL void nng_http_conn_write_all(nng_http_conn *, nng_aio *);
/* Writes a whole message: head and body (the data set on it). */
NNG_DECL void nng_http_conn_write_req(nng_http_conn *, nng_http_req *, nng_aio *);
NNG_DECL void nng_http_conn_write_res(nng_http_conn *, nng_http_res *, nng_aio *);
/* Reads a message head (not its body) into the given message. */
NNG_DECL void nng_http_conn_read_req(nng_http_conn *, nng_http_req *, nng_aio *);
NNG_DECL void nng_http_conn_read_res(nng_http_conn *, nng_http_res *, nng_aio *);

/* ---- Server handlers ---- */

typedef struct nng_http_handler nng_http_handler;

/* A handler for requests under the path: the callback gets an aio whose
 * input 0 is the request, 1 the handler, 2 the connection, and sets output
 * 0 to its response (or takes the connection with nng_http_hijack). */
NNG_DECL int nng_http_handler_alloc(nng_http_handler **, const char *, void (*)(nng_aio *));
NNG_DECL void nng_http_handler_free(nng_http_handler *);
/* Serves one file; the content type may be NULL (guessed from the name). */
NNG_DECL int nng_http_handler_alloc_file(nng_http_handler **, const char *, const char *);
/* Serves the given bytes with the given content type. */
NNG_DECL int nng_http_handler_alloc_static(nng_http_handler **, const char *, const void *,
                                           size_t, const char *);
/* Answers with a redirect (status 301, 302, 303, 307 or 308; 0 is 301) to
 * the location. */
NNG_DECL int nng_http_handler_alloc_redirect(nng_http_handler **, const char *, uint16_t,
                                             const char *);
/* Serves a directory tree. */
NNG_DECL int nng_http_handler_alloc_directory(nng_http_handler **, const char *, const char *);
/* NULL matches every method; the default is GET. */
NNG_DECL int nng_http_handler_set_method(nng_http_handler *, const char *);
NNG_DECL int nng_http_handler_set_host(nng_http_handler *, const char *);
/* Whether the server reads the request body (up to the size) before
 * calling the handler. */
NNG_DECL int nng_http_handler_collect_body(nng_http_handler *, bool, size_t);
/* Also match paths below the handler's path. */
NNG_DECL int nng_http_handler_set_tree(nng_http_handler *);
NNG_DECL int nng_http_handler_set_tree_exclusive(nng_http_handler *);
NNG_DECL int nng_http_handler_set_data(nng_http_handler *, void *, void (*)(void *));
NNG_DECL void *nng_http_handler_get_data(nng_http_handler *);

/* ---- Servers ---- */

typedef struct nng_http_server nng_http_server;

/* Finds or creates the (reference counted) server for the URL's address. */
NNG_DECL int nng_http_server_hold(nng_http_server **, const nng_url *);
NNG_DECL void nng_http_server_release(nng_http_server *);
NNG_DECL int nng_http_server_start(nng_http_server *);
NNG_DECL void nng_http_server_stop(nng_http_server *);
NNG_DECL int nng_http_server_add_handler(nng_http_server *, nng_http_handler *);
NNG_DECL int nng_http_server_del_handler(nng_http_server *, nng_http_handler *);
NNG_DECL int nng_http_server_set_tls(nng_http_server *, struct nng_tls_config *);
NNG_DECL int nng_http_server_get_tls(nng_http_server *, struct nng_tls_config **);
NNG_DECL int nng_http_server_get_addr(nng_http_server *, nng_sockaddr *);
/* Custom error pages, as HTML text or from a file. */
NNG_DECL int nng_http_server_set_error_page(nng_http_server *, uint16_t, const char *);
NNG_DECL int nng_http_server_set_error_file(nng_http_server *, uint16_t, const char *);
/* Gives the response the server's error body for its status. */
NNG_DECL int nng_http_server_res_error(nng_http_server *, nng_http_res *);
/* Takes the connection away from the server (inside a handler). */
NNG_DECL int nng_http_hijack(nng_http_conn *);

/* ---- Clients ---- */

typedef struct nng_http_client nng_http_client;

NNG_DECL int nng_http_client_alloc(nng_http_client **, const nng_url *);
NNG_DECL void nng_http_client_free(nng_http_client *);
NNG_DECL int nng_http_client_set_tls(nng_http_client *, struct nng_tls_config *);
NNG_DECL int nng_http_client_get_tls(nng_http_client *, struct nng_tls_config **);
/* Connects; output 0 of the aio is the new nng_http_conn. */
NNG_DECL void nng_http_client_connect(nng_http_client *, nng_aio *);
/* Sends the request and reads the response, body included. */
NNG_DECL void nng_http_conn_transact(nng_http_conn *, nng_http_req *, nng_http_res *, nng_aio *);
/* Connects, transacts once, and closes. */
NNG_DECL void nng_http_client_transact(nng_http_client *, nng_http_req *, nng_http_res *,
                                       nng_aio *);

#ifdef __cplusplus
}
#endif

#endif /* NNG_SUPPLEMENTAL_HTTP_HTTP_H */
