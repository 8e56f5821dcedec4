/*
 * Helpers shared by the WebSocket differential programs (tests/compat/ws/):
 * error names, aios with a timeout, whole transfers, connected pairs, an
 * echo thread, FNV-1a hashes and a normalised print of header blocks.
 * NNG's public API only.
 *
 * Output rules: nothing that varies between runs is printed.  Ports are
 * chosen by binding port 0 and are replaced by "PORT" wherever they could
 * appear in a printed string (mask()); the random Sec-WebSocket-Key and
 * the Sec-WebSocket-Accept derived from it are printed as their length;
 * results are printed by symbolic name ("ECLOSED"), 0 as "OK".
 */
#ifndef NNGHTTP_COMPAT_WS_COMMON_H
#define NNGHTTP_COMPAT_WS_COMMON_H

#include <nng/nng.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WAIT_MS 5000

static int failures;
static int cur_port; /* the port mask() hides */

static inline const char* errname(int rv) {
    static const char* const names[] = {
        [0] = "OK",
        [NNG_EINTR] = "EINTR",
        [NNG_ENOMEM] = "ENOMEM",
        [NNG_EINVAL] = "EINVAL",
        [NNG_EBUSY] = "EBUSY",
        [NNG_ETIMEDOUT] = "ETIMEDOUT",
        [NNG_ECONNREFUSED] = "ECONNREFUSED",
        [NNG_ECLOSED] = "ECLOSED",
        [NNG_EAGAIN] = "EAGAIN",
        [NNG_ENOTSUP] = "ENOTSUP",
        [NNG_EADDRINUSE] = "EADDRINUSE",
        [NNG_ESTATE] = "ESTATE",
        [NNG_ENOENT] = "ENOENT",
        [NNG_EPROTO] = "EPROTO",
        [NNG_EUNREACHABLE] = "EUNREACHABLE",
        [NNG_EADDRINVAL] = "EADDRINVAL",
        [NNG_EPERM] = "EPERM",
        [NNG_EMSGSIZE] = "EMSGSIZE",
        [NNG_ECONNABORTED] = "ECONNABORTED",
        [NNG_ECONNRESET] = "ECONNRESET",
        [NNG_ECANCELED] = "ECANCELED",
        [NNG_ENOFILES] = "ENOFILES",
        [NNG_ENOSPC] = "ENOSPC",
        [NNG_EEXIST] = "EEXIST",
        [NNG_EREADONLY] = "EREADONLY",
        [NNG_EWRITEONLY] = "EWRITEONLY",
        [NNG_ECRYPTO] = "ECRYPTO",
        [NNG_EPEERAUTH] = "EPEERAUTH",
        [NNG_ENOARG] = "ENOARG",
        [NNG_EAMBIGUOUS] = "EAMBIGUOUS",
        [NNG_EBADTYPE] = "EBADTYPE",
        [NNG_ECONNSHUT] = "ECONNSHUT",
    };
    static char bufs[4][64]; /* several may be in one printf */
    static int next;
    char* buf = bufs[next++ % 4];
    if (rv >= 0 && rv < (int)(sizeof names / sizeof names[0]) && names[rv] != NULL) {
        return names[rv];
    }
    if (rv == NNG_EINTERNAL) {
        return "EINTERNAL";
    }
    if ((rv & NNG_ESYSERR) != 0) {
        snprintf(buf, sizeof bufs[0], "ESYSERR+%d", rv & ~NNG_ESYSERR);
    } else if ((rv & NNG_ETRANERR) != 0) {
        snprintf(buf, sizeof bufs[0], "ETRANERR+%d", rv & ~NNG_ETRANERR);
    } else {
        snprintf(buf, sizeof bufs[0], "E?%d", rv);
    }
    return buf;
}

/* The receive that sees the peer break the protocol (a frame over the
 * limit, a reserved opcode, text to a binary-only stream...): NNG 1.5.2
 * fails it with NNG_ECLOSED, nng-http with NNG_EPROTO (NNG_EMSGSIZE for a
 * frame or message over the limit), as docs/compat.md records.  Either is
 * printed as "failed"; any other outcome by its name. */
static inline const char* failname(int rv) {
    if (rv == NNG_ECLOSED || rv == NNG_EPROTO || rv == NNG_EMSGSIZE) {
        return "failed";
    }
    return errname(rv);
}

static inline void put(const char* what, int rv) {
    printf("%s: rv=%s\n", what, errname(rv));
}

/* Prints the result; a result other than want counts as a failure. */
static inline void want(const char* what, int rv, int wanted) {
    put(what, rv);
    if (rv != wanted) {
        failures++;
    }
}

static inline void yesno(const char* what, bool v) {
    printf("%s: %s\n", what, v ? "yes" : "no");
}

/* s with every ":<cur_port>" written ":PORT" and CR, LF as \r, \n (static
 * buffer). */
static inline const char* mask(const char* s) {
    static char out[4096];
    char pat[16];
    snprintf(pat, sizeof pat, ":%d", cur_port);
    size_t n = 0, pl = strlen(pat);
    while (*s != '\0' && n + 8 < sizeof out) {
        if (cur_port > 0 && strncmp(s, pat, pl) == 0 && (s[pl] < '0' || s[pl] > '9')) {
            memcpy(out + n, ":PORT", 5);
            n += 5;
            s += pl;
        } else if (*s == '\r' || *s == '\n') {
            out[n++] = '\\';
            out[n++] = *s == '\r' ? 'r' : 'n';
            s++;
        } else {
            out[n++] = *s++;
        }
    }
    out[n] = '\0';
    return out;
}

static inline nng_aio* new_aio(int ms) {
    nng_aio* a = NULL;
    if (nng_aio_alloc(&a, NULL, NULL) != 0) {
        printf("nng_aio_alloc failed\n");
        exit(2);
    }
    nng_aio_set_timeout(a, ms);
    return a;
}

/* One send or receive of len bytes within ms; *count the bytes moved. */
static inline int xfer_ms(nng_stream* s, bool send, void* buf, size_t len, size_t* count, int ms) {
    nng_aio* a = new_aio(ms);
    nng_iov iov = {buf, len};
    nng_aio_set_iov(a, 1, &iov);
    if (send) {
        nng_stream_send(s, a);
    } else {
        nng_stream_recv(s, a);
    }
    nng_aio_wait(a);
    int rv = nng_aio_result(a);
    if (count != NULL) {
        *count = nng_aio_count(a);
    }
    nng_aio_free(a);
    return rv;
}

static inline int xfer(nng_stream* s, bool send, void* buf, size_t len, size_t* count) {
    return xfer_ms(s, send, buf, len, count, WAIT_MS);
}

/* Moves exactly len bytes in as many operations as it takes (each of at
 * most step bytes, 0 for no limit); *ops counts them. */
static inline int xfer_all(nng_stream* s, bool send, void* buf, size_t len, size_t step,
                           size_t* ops) {
    size_t done = 0, n_ops = 0;
    int rv = 0;
    while (done < len) {
        size_t want_n = len - done, n = 0;
        if (step != 0 && want_n > step) {
            want_n = step;
        }
        if ((rv = xfer(s, send, (uint8_t*)buf + done, want_n, &n)) != 0) {
            break;
        }
        if (n == 0 || ++n_ops > 1000000) {
            rv = NNG_EINTERNAL;
            break;
        }
        done += n;
    }
    if (ops != NULL) {
        *ops = n_ops;
    }
    return rv;
}

/* A listener on url, listening, its port in cur_port; exits on failure. */
static inline nng_stream_listener* listen_at(const char* url) {
    nng_stream_listener* l = NULL;
    int rv = nng_stream_listener_alloc(&l, url);
    if (rv == 0) {
        rv = nng_stream_listener_listen(l);
    }
    if (rv == 0) {
        rv = nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &cur_port);
    }
    if (rv != 0) {
        printf("listen on %s failed: rv=%s\n", url, errname(rv));
        exit(2);
    }
    return l;
}

/* A dialer for scheme://host:cur_port/path; exits on failure. */
static inline nng_stream_dialer* dialer_to(const char* scheme, const char* host, const char* path) {
    char url[256];
    snprintf(url, sizeof url, "%s://%s:%d%s", scheme, host, cur_port, path);
    nng_stream_dialer* d = NULL;
    int rv = nng_stream_dialer_alloc(&d, url);
    if (rv != 0) {
        printf("dialer alloc %s failed: rv=%s\n", mask(url), errname(rv));
        exit(2);
    }
    return d;
}

/* Accept on l and dial d at once; the streams (NULL on failure) and both
 * results.  The accept waits acc_ms, the dial WAIT_MS. */
static inline void dial_accept(nng_stream_listener* l, nng_stream_dialer* d, int acc_ms,
                               nng_stream** srv, nng_stream** cli, int* rv_acc, int* rv_dial) {
    nng_aio* acc = new_aio(acc_ms);
    nng_aio* dial = new_aio(WAIT_MS);
    if (l != NULL) {
        nng_stream_listener_accept(l, acc);
    }
    nng_stream_dialer_dial(d, dial);
    nng_aio_wait(dial);
    if (l != NULL) {
        nng_aio_wait(acc);
    }
    *rv_acc = l != NULL ? nng_aio_result(acc) : NNG_ENOENT;
    *rv_dial = nng_aio_result(dial);
    *srv = *rv_acc == 0 ? nng_aio_get_output(acc, 0) : NULL;
    *cli = *rv_dial == 0 ? nng_aio_get_output(dial, 0) : NULL;
    nng_aio_free(acc);
    nng_aio_free(dial);
}

/* Connects d to l; exits when either side fails. */
static inline void connect_pair(nng_stream_listener* l, nng_stream_dialer* d, nng_stream** srv,
                                nng_stream** cli) {
    int ra, rd;
    dial_accept(l, d, WAIT_MS, srv, cli, &ra, &rd);
    if (ra != 0 || rd != 0) {
        printf("connect failed: accept rv=%s dial rv=%s\n", errname(ra), errname(rd));
        exit(2);
    }
}

static inline void free_stream(nng_stream* s) {
    if (s != NULL) {
        nng_stream_close(s);
        nng_stream_free(s);
    }
}

static inline uint64_t fnv1a64(const uint8_t* p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 0x100000001b3ull;
    }
    return h;
}

static inline void fill(uint8_t* p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)((i * 131u + seed) ^ (i >> 9));
    }
}

/* ---- a thread that receives, or echoes, on one stream ------------------- */

struct worker {
    nng_stream* s;
    bool echo;    /* echo len bytes (0: until an error), else receive len */
    uint8_t* buf; /* receive: len bytes */
    size_t len;
    int rv;       /* how it ended */
    size_t total; /* bytes received */
    pthread_t thr;
};

static inline void* worker_main(void* arg) {
    struct worker* w = arg;
    if (!w->echo) {
        w->rv = xfer_all(w->s, false, w->buf, w->len, 0, NULL);
        w->total = w->rv == 0 ? w->len : 0;
        return NULL;
    }
    size_t cap = 1 << 18;
    uint8_t* b = malloc(cap);
    while (w->len == 0 || w->total < w->len) {
        size_t n = 0;
        if ((w->rv = xfer(w->s, false, b, cap, &n)) != 0) {
            break;
        }
        w->total += n;
        if ((w->rv = xfer_all(w->s, true, b, n, 0, NULL)) != 0) {
            break;
        }
    }
    free(b);
    return NULL;
}

static inline void worker_start(struct worker* w, nng_stream* s, bool echo, uint8_t* buf,
                                size_t len) {
    memset(w, 0, sizeof *w);
    w->s = s;
    w->echo = echo;
    w->buf = buf;
    w->len = len;
    if (pthread_create(&w->thr, NULL, worker_main, w) != 0) {
        printf("pthread_create failed\n");
        exit(2);
    }
}

static inline void worker_join(struct worker* w) {
    pthread_join(w->thr, NULL);
}

/* ---- header blocks ---------------------------------------------------- */

static inline int cmp_line(const void* a, const void* b) {
    return strcasecmp(*(char* const*)a, *(char* const*)b);
}

/* Prints a "Name: value\r\n..." block one header a line, sorted by name
 * (the order is not part of the contract), the port masked, the key and
 * accept values as their length; then whether every line ended in CRLF. */
static inline void put_headers(const char* what, const char* block) {
    char* copy = strdup(block);
    char* lines[64];
    int n = 0;
    bool crlf = true;
    for (char* p = copy; *p != '\0' && n < 64;) {
        char* e = strstr(p, "\r\n");
        if (e == NULL) {
            crlf = false;
            e = p + strlen(p);
        } else {
            *e = '\0';
            e += 2;
        }
        lines[n++] = p;
        p = e;
    }
    qsort(lines, (size_t)n, sizeof lines[0], cmp_line);
    printf("%s: %d headers, CRLF-terminated: %s\n", what, n, crlf ? "yes" : "no");
    for (int i = 0; i < n; i++) {
        const char* colon = strchr(lines[i], ':');
        size_t nl = colon != NULL ? (size_t)(colon - lines[i]) : strlen(lines[i]);
        if ((nl == 17 && strncasecmp(lines[i], "Sec-WebSocket-Key", nl) == 0) ||
            (nl == 20 && strncasecmp(lines[i], "Sec-WebSocket-Accept", nl) == 0)) {
            const char* v = colon + 1;
            while (*v == ' ') {
                v++;
            }
            printf("  %.*s: (%zu chars)\n", (int)nl, lines[i], strlen(v));
        } else {
            printf("  %s\n", mask(lines[i]));
        }
    }
    free(copy);
}

#endif /* NNGHTTP_COMPAT_WS_COMMON_H */
