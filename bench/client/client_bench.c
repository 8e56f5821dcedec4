/*
 * client_bench: GETs of one small route through NNG's public HTTP client
 * API.  The same source is built against nng-http and against Debian's NNG
 * 1.5.2; bench/client/run.sh runs both against nginx, next to wrk.
 *
 *   client_bench loop  SECONDS URL [BODY]
 *       one connection (nng_http_client_connect), then
 *       nng_http_conn_transact + nng_aio_wait in a loop on it
 *   client_bench async SECONDS URL CONNS [BODY]
 *       CONNS connections, each driven by its own aio whose callback
 *       starts the next transaction: no threads besides the library's
 *
 * Every transaction gets a fresh response (NNG 1.5.2 cannot read a second
 * answer into a response it has already parsed); the request is made once
 * per connection.  An answer counts as done when its status is 200 and its
 * body is BODY (default "Hello, world!"); anything else, or a failed aio,
 * is an error.  After a failed aio the connection is closed and, 10 ms
 * later, connected again.  Connecting is not timed.
 *
 * Output, one line on stdout (times in microseconds; cpu = getrusage
 * RUSAGE_SELF utime + stime, all threads, over the timed part only):
 *   RESULT mode=loop conns=1 requests=N errors=E elapsed_us=T p50_us=A
 *          p99_us=B cpu_us=C
 * and a readable summary on stderr.
 */
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <nng/supplemental/util/platform.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define AIO_TIMEOUT_MS 5000
#define RETRY_MS 10
#define MAX_ERROR_LINES 5

/* ---- small helpers ---- */

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static double cpu_us(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
           (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static void die(const char *what, int rv) {
    fprintf(stderr, "client_bench: %s: %s\n", what, nng_strerror(rv));
    exit(1);
}

/* Latencies of one connection, in nanoseconds. */
struct lat {
    uint64_t *v;
    size_t n, cap;
};

static void lat_add(struct lat *l, uint64_t ns) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 65536;
        uint64_t *v = realloc(l->v, cap * sizeof(*v));
        if (v == NULL) {
            fprintf(stderr, "client_bench: out of memory\n");
            exit(1);
        }
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = ns;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted values, in microseconds. */
static double pct_us(const uint64_t *v, size_t n, double p) {
    size_t rank;
    if (n == 0) {
        return 0;
    }
    rank = (size_t) (p / 100.0 * (double) n + 0.999999);
    if (rank < 1) {
        rank = 1;
    }
    if (rank > n) {
        rank = n;
    }
    return (double) v[rank - 1] / 1000.0;
}

/* ---- what both modes share ---- */

struct bench {
    const char *mode;
    nng_url *url;
    nng_http_client *client;
    const char *body;
    size_t body_len;
    uint64_t deadline;
    nng_mtx *mtx; /* guards running and error_lines */
    nng_cv *cv;
    int running;
    int error_lines;
};

static void note_error(struct bench *b, const char *what, int rv, int status) {
    int show;
    nng_mtx_lock(b->mtx);
    show = b->error_lines < MAX_ERROR_LINES;
    if (show) {
        b->error_lines++;
    }
    nng_mtx_unlock(b->mtx);
    if (!show) {
        return;
    }
    if (rv != 0) {
        fprintf(stderr, "client_bench: %s failed: %s\n", what, nng_strerror(rv));
    } else {
        fprintf(stderr, "client_bench: %s: unexpected answer (status %d)\n", what, status);
    }
}

/* 0 if the answer is the expected one, else its status (or -1). */
static int check_answer(const struct bench *b, nng_http_res *res) {
    void *data;
    size_t len;
    int status = nng_http_res_get_status(res);
    if (status != 200) {
        return status;
    }
    nng_http_res_get_data(res, &data, &len);
    if (len != b->body_len || (len > 0 && memcmp(data, b->body, len) != 0)) {
        return -1;
    }
    return 0;
}

/* Connects with a temporary aio and waits; NULL (error noted) on failure. */
static nng_http_conn *connect_now(struct bench *b) {
    nng_aio *aio;
    nng_http_conn *conn = NULL;
    int rv;
    if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0) {
        die("nng_aio_alloc", rv);
    }
    nng_aio_set_timeout(aio, AIO_TIMEOUT_MS);
    nng_http_client_connect(b->client, aio);
    nng_aio_wait(aio);
    if ((rv = nng_aio_result(aio)) != 0) {
        note_error(b, "connect", rv, 0);
    } else {
        conn = nng_aio_get_output(aio, 0);
    }
    nng_aio_free(aio);
    return conn;
}

static void report(const struct bench *b, int conns, struct lat *lats, uint64_t errors,
                   uint64_t elapsed_ns, double cpu) {
    size_t n = 0, i;
    uint64_t *all;
    double p50, p99, secs = (double) elapsed_ns / 1e9;
    for (i = 0; i < (size_t) conns; i++) {
        n += lats[i].n;
    }
    all = malloc((n ? n : 1) * sizeof(*all));
    if (all == NULL) {
        fprintf(stderr, "client_bench: out of memory\n");
        exit(1);
    }
    n = 0;
    for (i = 0; i < (size_t) conns; i++) {
        if (lats[i].n) {
            memcpy(all + n, lats[i].v, lats[i].n * sizeof(*all));
        }
        n += lats[i].n;
    }
    qsort(all, n, sizeof(*all), cmp_u64);
    p50 = pct_us(all, n, 50);
    p99 = pct_us(all, n, 99);
    printf("RESULT mode=%s conns=%d requests=%zu errors=%llu elapsed_us=%.0f p50_us=%.1f "
           "p99_us=%.1f cpu_us=%.0f\n",
           b->mode, conns, n, (unsigned long long) errors, (double) elapsed_ns / 1e3, p50, p99,
           cpu);
    fprintf(stderr,
            "client_bench %s c=%d: %zu requests in %.3f s = %.0f req/s, p50 %.1f us, "
            "p99 %.1f us, CPU %.0f us (%.0f%% of one core, %.1f us/request), %llu errors\n",
            b->mode, conns, n, secs, secs > 0 ? (double) n / secs : 0, p50, p99, cpu,
            secs > 0 ? cpu / 1e4 / secs : 0, n ? cpu / (double) n : 0,
            (unsigned long long) errors);
    free(all);
}

/* ---- mode loop: one connection, one transaction at a time ---- */

static void run_loop(struct bench *b) {
    nng_aio *aio;
    nng_http_req *req;
    nng_http_res *res;
    nng_http_conn *conn;
    struct lat lat = {0};
    uint64_t errors = 0, start, end;
    double cpu0;
    int rv, bad;

    if ((rv = nng_aio_alloc(&aio, NULL, NULL)) != 0) {
        die("nng_aio_alloc", rv);
    }
    nng_aio_set_timeout(aio, AIO_TIMEOUT_MS);
    if ((rv = nng_http_req_alloc(&req, b->url)) != 0) {
        die("nng_http_req_alloc", rv);
    }
    if ((conn = connect_now(b)) == NULL) {
        exit(1);
    }

    cpu0 = cpu_us();
    start = now_ns();
    b->deadline += start;
    end = start;
    while (end < b->deadline) {
        uint64_t t0;
        if (conn == NULL) { /* after a failure: pause, then connect again */
            nng_msleep(RETRY_MS);
            conn = connect_now(b);
            if (conn == NULL) {
                errors++;
                end = now_ns();
                continue;
            }
        }
        if ((rv = nng_http_res_alloc(&res)) != 0) {
            die("nng_http_res_alloc", rv);
        }
        t0 = now_ns();
        nng_http_conn_transact(conn, req, res, aio);
        nng_aio_wait(aio);
        end = now_ns();
        if ((rv = nng_aio_result(aio)) != 0) {
            errors++;
            note_error(b, "transact", rv, 0);
            nng_http_conn_close(conn);
            conn = NULL;
        } else if ((bad = check_answer(b, res)) != 0) {
            errors++;
            note_error(b, "transact", 0, bad);
        } else {
            lat_add(&lat, end - t0);
        }
        nng_http_res_free(res);
    }
    report(b, 1, &lat, errors, end - start, cpu_us() - cpu0);

    if (conn != NULL) {
        nng_http_conn_close(conn);
    }
    nng_http_req_free(req);
    nng_aio_free(aio);
    free(lat.v);
}

/* ---- mode async: CONNS connections, each a callback chain on its aio ---- */

enum state { TRANSACTING, PAUSED, CONNECTING };

struct chain {
    struct bench *b;
    nng_aio *aio;
    nng_http_conn *conn;
    nng_http_req *req;
    nng_http_res *res;
    enum state state;
    uint64_t t0;
    uint64_t end; /* when its last transaction completed */
    uint64_t errors;
    struct lat lat;
};

static void chain_transact(struct chain *c) {
    int rv;
    if ((rv = nng_http_res_alloc(&c->res)) != 0) {
        die("nng_http_res_alloc", rv);
    }
    c->state = TRANSACTING;
    c->t0 = now_ns();
    nng_http_conn_transact(c->conn, c->req, c->res, c->aio);
}

static void chain_stop(struct chain *c, uint64_t now) {
    struct bench *b = c->b;
    c->end = now;
    nng_mtx_lock(b->mtx);
    if (--b->running == 0) {
        nng_cv_wake(b->cv);
    }
    nng_mtx_unlock(b->mtx);
}

static void chain_cb(void *arg) {
    struct chain *c = arg;
    struct bench *b = c->b;
    int rv = nng_aio_result(c->aio);
    uint64_t now = now_ns();
    int bad;

    switch (c->state) {
    case TRANSACTING:
        if (rv != 0) {
            c->errors++;
            note_error(b, "transact", rv, 0);
            nng_http_conn_close(c->conn);
            c->conn = NULL;
        } else if ((bad = check_answer(b, c->res)) != 0) {
            c->errors++;
            note_error(b, "transact", 0, bad);
        } else {
            lat_add(&c->lat, now - c->t0);
        }
        nng_http_res_free(c->res);
        c->res = NULL;
        break;
    case PAUSED:
        if (now >= b->deadline) {
            chain_stop(c, now);
            return;
        }
        c->state = CONNECTING;
        nng_http_client_connect(b->client, c->aio);
        return;
    case CONNECTING:
        if (rv != 0) {
            c->errors++;
            note_error(b, "connect", rv, 0);
        } else {
            c->conn = nng_aio_get_output(c->aio, 0);
        }
        break;
    }

    if (now >= b->deadline) {
        chain_stop(c, now);
    } else if (c->conn == NULL) {
        c->state = PAUSED;
        nng_sleep_aio(RETRY_MS, c->aio);
    } else {
        chain_transact(c);
    }
}

static void run_async(struct bench *b, int conns) {
    struct chain *cs = calloc((size_t) conns, sizeof(*cs));
    struct lat *lats = calloc((size_t) conns, sizeof(*lats));
    uint64_t errors = 0, start, end;
    double cpu0, cpu;
    int i, rv;

    if (cs == NULL || lats == NULL) {
        fprintf(stderr, "client_bench: out of memory\n");
        exit(1);
    }
    for (i = 0; i < conns; i++) {
        struct chain *c = &cs[i];
        c->b = b;
        if ((rv = nng_aio_alloc(&c->aio, chain_cb, c)) != 0) {
            die("nng_aio_alloc", rv);
        }
        nng_aio_set_timeout(c->aio, AIO_TIMEOUT_MS);
        if ((rv = nng_http_req_alloc(&c->req, b->url)) != 0) {
            die("nng_http_req_alloc", rv);
        }
        if ((c->conn = connect_now(b)) == NULL) {
            exit(1);
        }
    }

    b->running = conns;
    cpu0 = cpu_us();
    start = now_ns();
    b->deadline += start;
    /* Not under the lock: a callback may need it (an aio finishing early). */
    for (i = 0; i < conns; i++) {
        chain_transact(&cs[i]);
    }
    nng_mtx_lock(b->mtx);
    while (b->running > 0) {
        nng_cv_wait(b->cv);
    }
    nng_mtx_unlock(b->mtx);
    cpu = cpu_us() - cpu0;

    end = start;
    for (i = 0; i < conns; i++) {
        if (cs[i].end > end) {
            end = cs[i].end;
        }
        errors += cs[i].errors;
        lats[i] = cs[i].lat;
    }
    report(b, conns, lats, errors, end - start, cpu);

    for (i = 0; i < conns; i++) {
        nng_aio_free(cs[i].aio);
        if (cs[i].conn != NULL) {
            nng_http_conn_close(cs[i].conn);
        }
        nng_http_req_free(cs[i].req);
        free(cs[i].lat.v);
    }
    free(cs);
    free(lats);
}

static void usage(void) {
    fprintf(stderr, "usage: client_bench loop SECONDS URL [BODY]\n"
                    "       client_bench async SECONDS URL CONNS [BODY]\n");
    exit(2);
}

int main(int argc, char **argv) {
    struct bench b = {0};
    double secs;
    int conns = 1, rv, argi = 4;

    if (argc < 4) {
        usage();
    }
    b.mode = argv[1];
    secs = atof(argv[2]);
    if (strcmp(b.mode, "async") == 0) {
        if (argc < 5 || (conns = atoi(argv[4])) < 1) {
            usage();
        }
        argi = 5;
    } else if (strcmp(b.mode, "loop") != 0) {
        usage();
    }
    if (secs <= 0) {
        usage();
    }
    b.body = argc > argi ? argv[argi] : "Hello, world!";
    b.body_len = strlen(b.body);
    /* Relative until the timed part starts; then made absolute. */
    b.deadline = (uint64_t) (secs * 1e9);

    if ((rv = nng_url_parse(&b.url, argv[3])) != 0) {
        die("nng_url_parse", rv);
    }
    if ((rv = nng_http_client_alloc(&b.client, b.url)) != 0) {
        die("nng_http_client_alloc", rv);
    }
    if ((rv = nng_mtx_alloc(&b.mtx)) != 0) {
        die("nng_mtx_alloc", rv);
    }
    if ((rv = nng_cv_alloc(&b.cv, b.mtx)) != 0) {
        die("nng_cv_alloc", rv);
    }

    if (strcmp(b.mode, "loop") == 0) {
        run_loop(&b);
    } else {
        run_async(&b, conns);
    }
    fflush(stdout);

    nng_cv_free(b.cv);
    nng_mtx_free(b.mtx);
    nng_http_client_free(b.client);
    nng_url_free(b.url);
    return 0;
}
