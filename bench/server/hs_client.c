/*
 * hs_client: full TLS handshakes per second against an https server, for
 * bench/server/run_tls.sh.  Each connection does one full handshake (never
 * a resumption), sends one "GET PATH" with "Connection: close", reads the
 * whole answer, checks it, sends close_notify and closes; CONNS such
 * connections are kept in flight (non-blocking sockets, one epoll loop, one
 * thread) for SECONDS seconds.
 *
 * Usage: hs_client PORT CONNS SECONDS TLS PATH BODY
 *   TLS 1.2: TLS 1.2 only, cipher ECDHE-ECDSA-AES128-GCM-SHA256, group P-256
 *   TLS 1.3: TLS 1.3 only, cipher TLS_AES_128_GCM_SHA256, group X25519
 *   BODY: the answer's expected body; the status must be 200.
 *
 * Resumption is impossible by construction: the client's session cache is
 * off, it asks for no session tickets, and every connection gets a fresh
 * SSL object with no session set.  Every handshake is also checked with
 * SSL_session_reused() (counted as "resumed", expected 0).  The server's
 * certificate is not verified (as wrk does not); its signature over the
 * handshake is checked by TLS itself.
 *
 * Prints one line on stdout:
 *   HSRESULT handshakes duration_us p50_us p99_us errors resumed protocol cipher group cpu_us
 * where p50/p99 are the times from connect() to the whole answer, errors
 * counts connections that failed (connect, handshake, I/O, a wrong status
 * or body), protocol/cipher/group are the first handshake's, and cpu_us is
 * the client's own user+system CPU time over the run.  Details of the first few errors go to stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum state { CONNECTING, HANDSHAKE, WRITING, READING };

struct conn {
    int fd;
    SSL* ssl;
    enum state st;
    uint64_t started_ns;
    size_t sent;
    size_t got;
    char buf[4096];
};

static SSL_CTX* ctx;
static struct sockaddr_in addr;
static int ep;
static char request[512];
static size_t request_len;
static const char* want_body;
static uint64_t handshakes, errors, resumed;
static uint64_t* lat_us;
static size_t lat_n, lat_cap;
static char proto[32] = "none", cipher[64] = "none", group[32] = "none";

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fail(struct conn* c, const char* what) {
    unsigned long e = ERR_get_error();
    if (errors < 5) {
        char msg[256] = "";
        if (e != 0) {
            ERR_error_string_n(e, msg, sizeof msg);
        }
        fprintf(stderr, "hs_client: %s%s%s (errno %d)\n", what, e ? ": " : "", msg, errno);
    }
    ERR_clear_error();
    errors++;
    (void)c;
}

static void conn_close(struct conn* c) {
    if (c->ssl != NULL) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
    if (c->fd >= 0) {
        close(c->fd); /* also removes it from the epoll set */
        c->fd = -1;
    }
}

static void conn_open(struct conn* c) {
    struct epoll_event ev;
    int one = 1;

    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        perror("hs_client: socket");
        exit(1);
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->started_ns = now_ns();
    c->sent = c->got = 0;
    c->ssl = NULL;
    c->st = CONNECTING;
    if (connect(c->fd, (struct sockaddr*)&addr, sizeof addr) != 0 && errno != EINPROGRESS) {
        fail(c, "connect");
        conn_close(c);
        return;
    }
    ev.events = EPOLLOUT;
    ev.data.ptr = c;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        perror("hs_client: epoll_ctl");
        exit(1);
    }
}

static void want(struct conn* c, uint32_t events) {
    struct epoll_event ev;
    ev.events = events;
    ev.data.ptr = c;
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Waits as SSL asks (want read / want write); 0 on a real error. */
static int ssl_wait(struct conn* c, int r) {
    switch (SSL_get_error(c->ssl, r)) {
    case SSL_ERROR_WANT_READ:
        want(c, EPOLLIN);
        return 1;
    case SSL_ERROR_WANT_WRITE:
        want(c, EPOLLOUT);
        return 1;
    default:
        return 0;
    }
}

/* The answer is whole once the head is in and Content-Length bytes follow
 * it; returns 1 when whole and right, 0 while incomplete, -1 when wrong. */
static int answer_check(struct conn* c) {
    char* end;
    const char* p;
    size_t head, len;

    c->buf[c->got] = '\0';
    end = strstr(c->buf, "\r\n\r\n");
    if (end == NULL) {
        return c->got + 1 >= sizeof c->buf ? -1 : 0;
    }
    head = (size_t)(end - c->buf) + 4;
    p = strcasestr(c->buf, "\r\ncontent-length:");
    if (p == NULL || p > end) {
        return -1;
    }
    len = strtoul(p + 17, NULL, 10);
    if (c->got < head + len) {
        return c->got + 1 >= sizeof c->buf ? -1 : 0;
    }
    if (strncmp(c->buf, "HTTP/1.1 200 ", 13) != 0 || len != strlen(want_body) ||
        memcmp(c->buf + head, want_body, len) != 0) {
        return -1;
    }
    return 1;
}

static void record_first(struct conn* c) {
    if (strcmp(proto, "none") == 0) {
        int nid = SSL_get_negotiated_group(c->ssl);
        const char* g = nid > 0 ? OBJ_nid2sn(nid) : NULL;
        snprintf(proto, sizeof proto, "%s", SSL_get_version(c->ssl));
        snprintf(cipher, sizeof cipher, "%s", SSL_get_cipher_name(c->ssl));
        snprintf(group, sizeof group, "%s", g != NULL ? g : "unknown");
    }
}

/* Advances c as far as it can go; returns 1 when the connection is over
 * (done or failed). */
static int step(struct conn* c) {
    int r;
    for (;;) {
        switch (c->st) {
        case CONNECTING: {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0) {
                errno = err;
                fail(c, "connect");
                return 1;
            }
            c->ssl = SSL_new(ctx);
            if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1) {
                fail(c, "SSL_new");
                return 1;
            }
            SSL_set_connect_state(c->ssl);
            c->st = HANDSHAKE;
            break;
        }
        case HANDSHAKE:
            r = SSL_do_handshake(c->ssl);
            if (r != 1) {
                if (ssl_wait(c, r)) {
                    return 0;
                }
                fail(c, "handshake");
                return 1;
            }
            if (SSL_session_reused(c->ssl)) {
                resumed++;
            }
            record_first(c);
            c->st = WRITING;
            break;
        case WRITING:
            r = SSL_write(c->ssl, request + c->sent, (int)(request_len - c->sent));
            if (r <= 0) {
                if (ssl_wait(c, r)) {
                    return 0;
                }
                fail(c, "write");
                return 1;
            }
            c->sent += (size_t)r;
            if (c->sent == request_len) {
                c->st = READING;
            }
            break;
        case READING:
            r = SSL_read(c->ssl, c->buf + c->got, (int)(sizeof c->buf - 1 - c->got));
            if (r <= 0) {
                if (ssl_wait(c, r)) {
                    return 0;
                }
                fail(c, c->got ? "read (answer cut short)" : "read (no answer)");
                return 1;
            }
            c->got += (size_t)r;
            r = answer_check(c);
            if (r < 0) {
                fail(c, "wrong answer");
                return 1;
            }
            if (r > 0) {
                uint64_t us = (now_ns() - c->started_ns) / 1000u;
                if (lat_n == lat_cap) {
                    lat_cap = lat_cap ? lat_cap * 2 : 65536;
                    lat_us = realloc(lat_us, lat_cap * sizeof *lat_us);
                    if (lat_us == NULL) {
                        perror("hs_client: realloc");
                        exit(1);
                    }
                }
                lat_us[lat_n++] = us;
                handshakes++;
                SSL_shutdown(c->ssl); /* close_notify, not waiting for the peer's */
                return 1;
            }
            break;
        }
    }
}

static int cmp_u64(const void* a, const void* b) {
    uint64_t x = *(const uint64_t*)a, y = *(const uint64_t*)b;
    return x < y ? -1 : x > y;
}

static uint64_t percentile(double q) {
    size_t i;
    if (lat_n == 0) {
        return 0;
    }
    i = (size_t)(q * (double)(lat_n - 1) + 0.5);
    return lat_us[i];
}

int main(int argc, char** argv) {
    struct conn* conns;
    struct epoll_event evs[256];
    uint64_t start, deadline, stop, cpu_before_us, cpu_us;
    struct rusage ru;
    int nconns, i, tls13;

    if (argc != 7) {
        fprintf(stderr, "usage: %s PORT CONNS SECONDS TLS(1.2|1.3) PATH BODY\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)atoi(argv[1]));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    nconns = atoi(argv[2]);
    tls13 = strcmp(argv[4], "1.3") == 0;
    if (nconns < 1 || atof(argv[3]) <= 0 || (!tls13 && strcmp(argv[4], "1.2") != 0)) {
        fprintf(stderr, "hs_client: bad arguments\n");
        return 2;
    }
    request_len = (size_t)snprintf(request, sizeof request,
                                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                                   argv[5]);
    want_body = argv[6];

    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        fprintf(stderr, "hs_client: SSL_CTX_new failed\n");
        return 1;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    if (tls13) {
        if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1 ||
            SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1 ||
            SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256") != 1 ||
            SSL_CTX_set1_groups_list(ctx, "X25519") != 1) {
            fprintf(stderr, "hs_client: TLS 1.3 settings refused\n");
            return 1;
        }
    } else {
        if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
            SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION) != 1 ||
            SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256") != 1 ||
            SSL_CTX_set1_groups_list(ctx, "P-256") != 1) {
            fprintf(stderr, "hs_client: TLS 1.2 settings refused\n");
            return 1;
        }
    }

    ep = epoll_create1(EPOLL_CLOEXEC);
    conns = calloc((size_t)nconns, sizeof *conns);
    if (ep < 0 || conns == NULL) {
        perror("hs_client: setup");
        return 1;
    }
    getrusage(RUSAGE_SELF, &ru);
    cpu_before_us = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
                    (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    start = now_ns();
    deadline = start + (uint64_t)(atof(argv[3]) * 1e9);
    for (i = 0; i < nconns; i++) {
        conns[i].fd = -1;
        conn_open(&conns[i]);
    }
    for (;;) {
        uint64_t t = now_ns();
        int n, timeout_ms;
        if (t >= deadline) {
            break;
        }
        timeout_ms = (int)((deadline - t) / 1000000u) + 1;
        n = epoll_wait(ep, evs, (int)(sizeof evs / sizeof evs[0]), timeout_ms);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            perror("hs_client: epoll_wait");
            return 1;
        }
        for (i = 0; i < n; i++) {
            struct conn* c = evs[i].data.ptr;
            if (c->fd < 0) {
                continue;
            }
            if (step(c)) {
                conn_close(c);
                if (now_ns() < deadline) {
                    conn_open(c);
                }
            }
        }
        /* A connect() that failed at once left its slot closed. */
        for (i = 0; i < nconns; i++) {
            if (conns[i].fd < 0 && now_ns() < deadline) {
                conn_open(&conns[i]);
            }
        }
    }
    stop = now_ns();
    getrusage(RUSAGE_SELF, &ru);
    cpu_us = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000u +
             (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) - cpu_before_us;
    for (i = 0; i < nconns; i++) {
        conn_close(&conns[i]);
    }
    qsort(lat_us, lat_n, sizeof *lat_us, cmp_u64);
    printf("HSRESULT %llu %llu %llu %llu %llu %llu %s %s %s %llu\n", (unsigned long long)handshakes,
           (unsigned long long)((stop - start) / 1000u), (unsigned long long)percentile(0.50),
           (unsigned long long)percentile(0.99), (unsigned long long)errors,
           (unsigned long long)resumed, proto, cipher, group, (unsigned long long)cpu_us);
    free(lat_us);
    free(conns);
    SSL_CTX_free(ctx);
    return 0;
}
