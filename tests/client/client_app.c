/*
 * client_app: runs a script of HTTP client transactions through NNG's public
 * C API (nng_http_client_* and nng_http_conn_transact) and prints a
 * normalized transcript, so that the same program built against NNG 1.5.2
 * and against nng-http can be compared line by line.
 *
 * Usage: client_app [-f SCRIPT] [LINE...]
 *
 * Each LINE (or each line of SCRIPT, "-" for stdin) is one command; blank
 * lines and lines starting with '#' are skipped.  Words are separated by
 * spaces; "double quotes" group words (with \" and \\ inside).
 *
 *   conn METHOD URL [OPTION...]    nng_http_conn_transact on the current
 *                                  connection; the first one (or one to a
 *                                  different scheme, host:port or TLS
 *                                  options, or after "close") connects with
 *                                  nng_http_client_connect
 *   client METHOD URL [OPTION...]  nng_http_client_transact (a connection
 *                                  of its own, closed afterwards)
 *   connect URL [timeout=MS] [TLS OPTION...]
 *                                  nng_http_client_connect only, then close
 *   close                          closes the current connection
 *   sleep MS                       pauses
 *
 * Options:
 *   H:Name:value     a request header (set; a second one with the same name
 *                    is added); the value may start after spaces
 *   body=TEXT        request body TEXT
 *   body=@FILE       request body read from FILE
 *   body-len=N       request body of N deterministic bytes
 *   version=V        request version (default HTTP/1.1)
 *   timeout=MS       aio timeout for this command (default 5000)
 *   show=Name        also print this response header
 *
 * TLS options (https:// URLs; conn, client and connect).  With any of them
 * the client gets a configuration of its own (nng_tls_config_alloc with
 * NNG_TLS_MODE_CLIENT, then nng_http_client_set_tls); without any it keeps
 * the one nng_http_client_alloc made for the URL.
 *   ca=FILE          nng_tls_config_ca_file
 *   server-name=NAME nng_tls_config_server_name
 *   auth=MODE        nng_tls_config_auth_mode: none, optional or required
 * An error while setting them up prints "tls: N NAME (text)" and is the
 * command's result.
 *
 * Transcript, per command: "== " and the command with the URL reduced to its
 * request URI (no host, no port) and file options (body=@, ca=) to the file's
 * name; "connect: ..." when a connection is made;
 * "result: 0" or "result: N NAME (strerror)"; on success the status line,
 * the selected headers (Content-Type, Content-Length, Transfer-Encoding,
 * Connection, X-Test, and show=), the body length with its SHA-256, and the
 * body as text if it is short and printable.  Nothing depends on time or
 * ports.  Elapsed milliseconds go to stderr ("time: N ms") for the runner.
 *
 * Exit status: 0 when the script ran (transaction errors are part of the
 * transcript), 2 for a bad script or a failure outside the transactions.
 */
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/tls/tls.h>
#include <nng/supplemental/util/platform.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS 5000
#define MAX_WORDS 64
#define MAX_LINE 8192
#define TEXT_LIMIT 80

/* ---- SHA-256 (FIPS 180-4), small and byte-oriented ---- */

typedef struct {
    uint32_t h[8];
    uint64_t total;
    unsigned char block[64];
    size_t used;
} sha256_ctx;

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

static uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32 - n)); }

static void sha256_init(sha256_ctx* c) {
    static const uint32_t init[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                     0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, init, sizeof init);
    c->total = 0;
    c->used = 0;
}

static void sha256_block(sha256_ctx* c, const unsigned char* p) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++) {
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    }
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3];
    uint32_t e = c->h[4], f = c->h[5], g = c->h[6], h = c->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +
                      sha256_k[i] + w[i];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = cc;
        cc = b;
        b = a;
        a = t1 + t2;
    }
    c->h[0] += a;
    c->h[1] += b;
    c->h[2] += cc;
    c->h[3] += d;
    c->h[4] += e;
    c->h[5] += f;
    c->h[6] += g;
    c->h[7] += h;
}

static void sha256_update(sha256_ctx* c, const unsigned char* p, size_t n) {
    c->total += n;
    if (c->used > 0) {
        size_t take = 64 - c->used < n ? 64 - c->used : n;
        memcpy(c->block + c->used, p, take);
        c->used += take;
        p += take;
        n -= take;
        if (c->used < 64) {
            return;
        }
        sha256_block(c, c->block);
        c->used = 0;
    }
    for (; n >= 64; p += 64, n -= 64) {
        sha256_block(c, p);
    }
    memcpy(c->block, p, n);
    c->used = n;
}

static void sha256_hex(sha256_ctx* c, char out[65]) {
    uint64_t bits = c->total * 8;
    unsigned char pad[72] = {0x80};
    size_t padlen = (c->used < 56 ? 56 : 120) - c->used;
    for (int i = 0; i < 8; i++) {
        pad[padlen + i] = (unsigned char)(bits >> (56 - 8 * i));
    }
    sha256_update(c, pad, padlen + 8);
    for (int i = 0; i < 8; i++) {
        sprintf(out + 8 * i, "%08x", (unsigned)c->h[i]);
    }
}

/* ---- errors ---- */

static const char* error_name(int rv) {
    static const char* names[] = {
        "0",            "NNG_EINTR",        "NNG_ENOMEM",     "NNG_EINVAL",      "NNG_EBUSY",
        "NNG_ETIMEDOUT", "NNG_ECONNREFUSED", "NNG_ECLOSED",   "NNG_EAGAIN",      "NNG_ENOTSUP",
        "NNG_EADDRINUSE", "NNG_ESTATE",     "NNG_ENOENT",     "NNG_EPROTO",      "NNG_EUNREACHABLE",
        "NNG_EADDRINVAL", "NNG_EPERM",      "NNG_EMSGSIZE",   "NNG_ECONNABORTED", "NNG_ECONNRESET",
        "NNG_ECANCELED", "NNG_ENOFILES",    "NNG_ENOSPC",     "NNG_EEXIST",      "NNG_EREADONLY",
        "NNG_EWRITEONLY", "NNG_ECRYPTO",    "NNG_EPEERAUTH",  "NNG_ENOARG",      "NNG_EAMBIGUOUS",
        "NNG_EBADTYPE",  "NNG_ECONNSHUT"};
    if (rv >= 0 && rv < (int)(sizeof names / sizeof names[0])) {
        return names[rv];
    }
    if (rv == NNG_EINTERNAL) {
        return "NNG_EINTERNAL";
    }
    if (rv & NNG_ESYSERR) {
        return "NNG_ESYSERR";
    }
    if (rv & NNG_ETRANERR) {
        return "NNG_ETRANERR";
    }
    return "unknown";
}

static void print_result(const char* what, int rv) {
    if (rv == 0) {
        printf("%s: 0\n", what);
    } else {
        printf("%s: %d %s (%s)\n", what, rv, error_name(rv), nng_strerror(rv));
    }
}

/* ---- script words ---- */

/* Splits line into words in place (quotes group, \" and \\ escape inside
 * quotes).  Returns the number of words, -1 if there are too many or a
 * quote is not closed. */
static int split_words(char* line, char** words) {
    int n = 0;
    char* r = line;
    while (*r != '\0') {
        while (*r == ' ' || *r == '\t' || *r == '\r' || *r == '\n') {
            r++;
        }
        if (*r == '\0') {
            break;
        }
        if (n == MAX_WORDS) {
            return -1;
        }
        char* w = r;
        words[n++] = w;
        int quoted = 0;
        while (*r != '\0' && (quoted || (*r != ' ' && *r != '\t' && *r != '\r' && *r != '\n'))) {
            if (*r == '"') {
                quoted = !quoted;
                r++;
            } else if (quoted && *r == '\\' && (r[1] == '"' || r[1] == '\\')) {
                *w++ = r[1];
                r += 2;
            } else {
                *w++ = *r++;
            }
        }
        if (quoted) {
            return -1;
        }
        if (*r != '\0') {
            r++;
        }
        *w = '\0';
    }
    return n;
}

static int read_file(const char* path, char** data, size_t* len) {
    FILE* f = fopen(path, "rb");
    if (f == NULL) {
        return -1;
    }
    size_t cap = 4096, n = 0;
    char* buf = malloc(cap);
    size_t got;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char* bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf == NULL) {
        return -1;
    }
    *data = buf;
    *len = n;
    return 0;
}

/* ---- TLS options ---- */

typedef struct {
    const char* ca;          /* ca=, or NULL */
    const char* server_name; /* server-name=, or NULL */
    const char* auth;        /* auth=, or NULL */
} tls_options;

/* Takes w if it is a TLS option.  Returns 1 if it was, 0 if not, -1 for a
 * bad auth= value. */
static int tls_option(const char* w, tls_options* t) {
    if (strncmp(w, "ca=", 3) == 0) {
        t->ca = w + 3;
    } else if (strncmp(w, "server-name=", 12) == 0) {
        t->server_name = w + 12;
    } else if (strncmp(w, "auth=", 5) == 0) {
        t->auth = w + 5;
        if (strcmp(t->auth, "none") != 0 && strcmp(t->auth, "optional") != 0 &&
            strcmp(t->auth, "required") != 0) {
            return -1;
        }
    } else {
        return 0;
    }
    return 1;
}

static int tls_given(const tls_options* t) {
    return t->ca != NULL || t->server_name != NULL || t->auth != NULL;
}

/* Gives cl a TLS configuration made from t (when t has any option).  Prints
 * "tls: ..." on failure.  Returns 0 or the error. */
static int apply_tls(nng_http_client* cl, const tls_options* t) {
    if (!tls_given(t)) {
        return 0;
    }
    nng_tls_config* cfg = NULL;
    int rv = nng_tls_config_alloc(&cfg, NNG_TLS_MODE_CLIENT);
    if (rv == 0 && t->ca != NULL) {
        rv = nng_tls_config_ca_file(cfg, t->ca);
    }
    if (rv == 0 && t->server_name != NULL) {
        rv = nng_tls_config_server_name(cfg, t->server_name);
    }
    if (rv == 0 && t->auth != NULL) {
        nng_tls_auth_mode mode = strcmp(t->auth, "none") == 0       ? NNG_TLS_AUTH_MODE_NONE
                                 : strcmp(t->auth, "optional") == 0 ? NNG_TLS_AUTH_MODE_OPTIONAL
                                                                    : NNG_TLS_AUTH_MODE_REQUIRED;
        rv = nng_tls_config_auth_mode(cfg, mode);
    }
    if (rv == 0) {
        rv = nng_http_client_set_tls(cl, cfg);
    }
    if (cfg != NULL) {
        nng_tls_config_free(cfg); /* the client holds its own reference */
    }
    if (rv != 0) {
        print_result("tls", rv);
    }
    return rv;
}

/* ---- state ---- */

static nng_http_client* cur_client = NULL;
static nng_http_conn* cur_conn = NULL;
static char cur_base[1024]; /* scheme://host:port and TLS options of cur_conn */

static void close_current(void) {
    if (cur_conn != NULL) {
        nng_http_conn_close(cur_conn);
        cur_conn = NULL;
    }
    if (cur_client != NULL) {
        nng_http_client_free(cur_client);
        cur_client = NULL;
    }
    cur_base[0] = '\0';
}

/* The key of a connection: where it goes and with which TLS options. */
static void base_of(const nng_url* u, const tls_options* t, char* out, size_t n) {
    snprintf(out, n, "%s://%s:%s ca=%s server-name=%s auth=%s", u->u_scheme, u->u_hostname,
             u->u_port, t->ca ? t->ca : "-", t->server_name ? t->server_name : "-",
             t->auth ? t->auth : "-");
}

/* Prints "== " and the words, each URL reduced to its request URI. */
static void print_command(char** words, int n) {
    printf("==");
    for (int i = 0; i < n; i++) {
        const char* w = words[i];
        if (strncmp(w, "http://", 7) == 0 || strncmp(w, "https://", 8) == 0) {
            nng_url* u = NULL;
            if (nng_url_parse(&u, w) == 0) {
                printf(" %s", u->u_requri);
                nng_url_free(u);
                continue;
            }
        }
        if ((strncmp(w, "body=@", 6) == 0 || strncmp(w, "ca=", 3) == 0) &&
            strrchr(w, '/') != NULL) {
            /* no temporary paths */
            printf(" %.*s%s", w[0] == 'b' ? 6 : 3, w, strrchr(w, '/') + 1);
            continue;
        }
        if (strpbrk(w, " \"\\") != NULL) {
            printf(" \"");
            for (const char* c = w; *c != '\0'; c++) {
                if (*c == '"' || *c == '\\') {
                    putchar('\\');
                }
                putchar(*c);
            }
            printf("\"");
        } else {
            printf(" %s", w);
        }
    }
    printf("\n");
}

static nng_time started;

static void start_clock(void) { started = nng_clock(); }

static void report_time(void) {
    fprintf(stderr, "time: %llu ms\n", (unsigned long long)(nng_clock() - started));
}

/* ---- response printing ---- */

static void print_text(const unsigned char* p, size_t n) {
    printf("text: \"");
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = p[i];
        if (ch == '\n') {
            printf("\\n");
        } else if (ch == '\r') {
            printf("\\r");
        } else if (ch == '\t') {
            printf("\\t");
        } else if (ch == '"' || ch == '\\') {
            printf("\\%c", ch);
        } else {
            putchar(ch);
        }
    }
    printf("\"\n");
}

static int is_text(const unsigned char* p, size_t n) {
    if (n > TEXT_LIMIT) {
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if ((p[i] < 0x20 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t') || p[i] >= 0x7f) {
            return 0;
        }
    }
    return 1;
}

static void print_response(nng_http_res* res, char** shows, int nshows) {
    static const char* selected[] = {"Content-Type", "Content-Length", "Transfer-Encoding",
                                     "Connection", "X-Test"};
    const char* reason = nng_http_res_get_reason(res);
    const char* version = nng_http_res_get_version(res);
    printf("status: %s %u %s\n", version ? version : "(null)", (unsigned)nng_http_res_get_status(res),
           reason ? reason : "(null)");
    for (size_t i = 0; i < sizeof selected / sizeof selected[0]; i++) {
        const char* v = nng_http_res_get_header(res, selected[i]);
        if (v != NULL) {
            printf("  %s: %s\n", selected[i], v);
        }
    }
    for (int i = 0; i < nshows; i++) {
        const char* v = nng_http_res_get_header(res, shows[i]);
        printf("  %s: %s\n", shows[i], v ? v : "(absent)");
    }
    void* data = NULL;
    size_t len = 0;
    nng_http_res_get_data(res, &data, &len);
    sha256_ctx c;
    char hex[65];
    sha256_init(&c);
    if (len > 0) {
        sha256_update(&c, data, len);
    }
    sha256_hex(&c, hex);
    printf("body: %zu sha256:%s\n", len, hex);
    if (len > 0 && is_text(data, len)) {
        print_text(data, len);
    }
}

/* ---- commands ---- */

/* Waits for a connection for u's host and port into cur_conn (reusing the
 * current one when it goes to the same place).  Returns 0 or the error. */
static int ensure_conn(const nng_url* u, const tls_options* t, nng_aio* aio) {
    char base[sizeof cur_base];
    base_of(u, t, base, sizeof base);
    if (cur_conn != NULL && strcmp(base, cur_base) == 0) {
        return 0;
    }
    close_current();
    int rv = nng_http_client_alloc(&cur_client, u);
    if (rv != 0) {
        cur_client = NULL;
        print_result("connect", rv);
        return rv;
    }
    if ((rv = apply_tls(cur_client, t)) != 0) {
        close_current();
        return rv;
    }
    nng_http_client_connect(cur_client, aio);
    nng_aio_wait(aio);
    rv = nng_aio_result(aio);
    print_result("connect", rv);
    if (rv != 0) {
        close_current();
        return rv;
    }
    cur_conn = nng_aio_get_output(aio, 0);
    snprintf(cur_base, sizeof cur_base, "%s", base);
    return 0;
}

/* Fills body from a body option.  Returns 0, or -1 for a bad option. */
static int body_option(const char* w, char** body, size_t* len) {
    free(*body);
    *body = NULL;
    *len = 0;
    if (strncmp(w, "body=@", 6) == 0) {
        if (read_file(w + 6, body, len) != 0) {
            fprintf(stderr, "client_app: cannot read %s\n", w + 6);
            return -1;
        }
        return 0;
    }
    if (strncmp(w, "body=", 5) == 0) {
        *len = strlen(w + 5);
        *body = malloc(*len + 1);
        if (*body == NULL) {
            return -1;
        }
        memcpy(*body, w + 5, *len + 1);
        return 0;
    }
    /* body-len=N */
    char* end = NULL;
    unsigned long long n = strtoull(w + 9, &end, 10);
    if (end == w + 9 || *end != '\0') {
        return -1;
    }
    *len = (size_t)n;
    *body = malloc(*len + 1);
    if (*body == NULL) {
        return -1;
    }
    for (size_t i = 0; i < *len; i++) {
        (*body)[i] = (char)('a' + (i * 7 + i / 26) % 26);
    }
    return 0;
}

/* conn or client: one transaction.  Returns 0, or -1 for a bad line. */
static int do_transact(char** words, int n, nng_aio* aio) {
    int is_conn = strcmp(words[0], "conn") == 0;
    if (n < 3) {
        return -1;
    }
    const char* method = words[1];
    const char* url_text = words[2];
    nng_duration timeout = DEFAULT_TIMEOUT_MS;
    const char* version = NULL;
    char* shows[MAX_WORDS];
    int nshows = 0;
    char* body = NULL;
    size_t body_len = 0;
    int have_body = 0;
    tls_options tls = {NULL, NULL, NULL};

    nng_url* u = NULL;
    if (nng_url_parse(&u, url_text) != 0) {
        fprintf(stderr, "client_app: bad URL %s\n", url_text);
        return -1;
    }
    nng_http_req* req = NULL;
    nng_http_res* res = NULL;
    int rv;
    if ((rv = nng_http_req_alloc(&req, u)) != 0 || (rv = nng_http_res_alloc(&res)) != 0 ||
        (rv = nng_http_req_set_method(req, method)) != 0) {
        fprintf(stderr, "client_app: request: %s\n", nng_strerror(rv));
        goto bad;
    }
    for (int i = 3; i < n; i++) {
        const char* w = words[i];
        if (strncmp(w, "H:", 2) == 0) {
            char name[256];
            const char* colon = strchr(w + 2, ':');
            if (colon == NULL || (size_t)(colon - (w + 2)) >= sizeof name) {
                goto bad;
            }
            memcpy(name, w + 2, (size_t)(colon - (w + 2)));
            name[colon - (w + 2)] = '\0';
            const char* value = colon + 1;
            while (*value == ' ') {
                value++;
            }
            if (nng_http_req_get_header(req, name) != NULL && strcmp(name, "Host") != 0) {
                rv = nng_http_req_add_header(req, name, value);
            } else {
                rv = nng_http_req_set_header(req, name, value);
            }
            if (rv != 0) {
                fprintf(stderr, "client_app: header %s: %s\n", name, nng_strerror(rv));
                goto bad;
            }
        } else if (strncmp(w, "body=", 5) == 0 || strncmp(w, "body-len=", 9) == 0) {
            if (body_option(w, &body, &body_len) != 0) {
                goto bad;
            }
            have_body = 1;
        } else if (strncmp(w, "version=", 8) == 0) {
            version = w + 8;
        } else if (strncmp(w, "timeout=", 8) == 0) {
            timeout = (nng_duration)atoi(w + 8);
        } else if (strncmp(w, "show=", 5) == 0) {
            shows[nshows++] = (char*)w + 5;
        } else if ((rv = tls_option(w, &tls)) != 0) {
            if (rv < 0) {
                fprintf(stderr, "client_app: bad option %s\n", w);
                goto bad;
            }
        } else {
            fprintf(stderr, "client_app: unknown option %s\n", w);
            goto bad;
        }
    }
    if (version != NULL && (rv = nng_http_req_set_version(req, version)) != 0) {
        fprintf(stderr, "client_app: version: %s\n", nng_strerror(rv));
        goto bad;
    }
    if (have_body && (rv = nng_http_req_copy_data(req, body, body_len)) != 0) {
        fprintf(stderr, "client_app: body: %s\n", nng_strerror(rv));
        goto bad;
    }

    print_command(words, n);
    nng_aio_set_timeout(aio, timeout);
    start_clock();
    if (is_conn) {
        rv = ensure_conn(u, &tls, aio);
        if (rv == 0) {
            nng_http_conn_transact(cur_conn, req, res, aio);
            nng_aio_wait(aio);
            rv = nng_aio_result(aio);
        }
    } else {
        nng_http_client* cl = NULL;
        if ((rv = nng_http_client_alloc(&cl, u)) == 0) {
            if ((rv = apply_tls(cl, &tls)) == 0) {
                nng_http_client_transact(cl, req, res, aio);
                nng_aio_wait(aio);
                rv = nng_aio_result(aio);
            }
            nng_http_client_free(cl);
        }
    }
    report_time();
    print_result("result", rv);
    if (rv == 0) {
        print_response(res, shows, nshows);
    }
    fflush(stdout);
    nng_http_req_free(req);
    nng_http_res_free(res);
    nng_url_free(u);
    free(body);
    return 0;

bad:
    if (req != NULL) {
        nng_http_req_free(req);
    }
    if (res != NULL) {
        nng_http_res_free(res);
    }
    nng_url_free(u);
    free(body);
    return -1;
}

static int do_connect(char** words, int n, nng_aio* aio) {
    if (n < 2) {
        return -1;
    }
    nng_duration timeout = DEFAULT_TIMEOUT_MS;
    tls_options tls = {NULL, NULL, NULL};
    for (int i = 2; i < n; i++) {
        if (strncmp(words[i], "timeout=", 8) == 0) {
            timeout = (nng_duration)atoi(words[i] + 8);
        } else if (tls_option(words[i], &tls) != 1) {
            return -1;
        }
    }
    nng_url* u = NULL;
    if (nng_url_parse(&u, words[1]) != 0) {
        fprintf(stderr, "client_app: bad URL %s\n", words[1]);
        return -1;
    }
    print_command(words, n);
    nng_http_client* cl = NULL;
    int rv;
    start_clock();
    if ((rv = nng_http_client_alloc(&cl, u)) == 0 && (rv = apply_tls(cl, &tls)) != 0) {
        nng_http_client_free(cl);
    } else if (rv == 0) {
        nng_aio_set_timeout(aio, timeout);
        nng_http_client_connect(cl, aio);
        nng_aio_wait(aio);
        rv = nng_aio_result(aio);
        if (rv == 0) {
            nng_http_conn_close(nng_aio_get_output(aio, 0));
        }
        nng_http_client_free(cl);
    }
    report_time();
    print_result("result", rv);
    fflush(stdout);
    nng_url_free(u);
    return 0;
}

static int run_line(char* line, nng_aio* aio) {
    char* words[MAX_WORDS];
    int n = split_words(line, words);
    if (n < 0) {
        return -1;
    }
    if (n == 0 || words[0][0] == '#') {
        return 0;
    }
    if (strcmp(words[0], "conn") == 0 || strcmp(words[0], "client") == 0) {
        return do_transact(words, n, aio);
    }
    if (strcmp(words[0], "connect") == 0) {
        return do_connect(words, n, aio);
    }
    if (strcmp(words[0], "close") == 0 && n == 1) {
        print_command(words, n);
        close_current();
        return 0;
    }
    if (strcmp(words[0], "sleep") == 0 && n == 2) {
        nng_msleep((nng_duration)atoi(words[1]));
        return 0;
    }
    return -1;
}

static int run_script_file(const char* path, nng_aio* aio) {
    FILE* f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "client_app: cannot open %s\n", path);
        return -1;
    }
    char line[MAX_LINE];
    int rv = 0;
    while (rv == 0 && fgets(line, sizeof line, f) != NULL) {
        char copy[MAX_LINE];
        snprintf(copy, sizeof copy, "%s", line);
        if ((rv = run_line(line, aio)) != 0) {
            fprintf(stderr, "client_app: bad line: %s", copy);
        }
    }
    if (f != stdin) {
        fclose(f);
    }
    return rv;
}

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IOLBF, 0); /* a hang still shows how far it got */
    nng_aio* aio = NULL;
    int rv = nng_aio_alloc(&aio, NULL, NULL);
    if (rv != 0) {
        fprintf(stderr, "client_app: aio: %s\n", nng_strerror(rv));
        return 2;
    }
    int status = 0;
    for (int i = 1; i < argc && status == 0; i++) {
        if (strcmp(argv[i], "-f") == 0 && i + 1 < argc) {
            status = run_script_file(argv[++i], aio);
        } else {
            char line[MAX_LINE];
            snprintf(line, sizeof line, "%s", argv[i]);
            if ((status = run_line(line, aio)) != 0) {
                fprintf(stderr, "client_app: bad line: %s\n", argv[i]);
            }
        }
    }
    close_current();
    nng_aio_free(aio);
    return status == 0 ? 0 : 2;
}
