/*
 * stream_bench: TCP stream ping-pong and bulk transfer over NNG's public
 * stream API.  The same source is built against nng-http and against
 * Debian's NNG; bench/run_stream.sh runs both side by side.
 *
 *   stream_bench pingpong SECONDS   round trips/s of 64-byte messages
 *   stream_bench bulk SECONDS       MB/s of 64 KiB writes
 *
 * The process forks: the child is the server (callback driven, as a server
 * written on NNG is), the parent the client (synchronous aio waits, as a
 * simple client is).  One connection over 127.0.0.1.
 */
#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MSG 64
#define BULK (64 * 1024)

static void die(const char *what, int rv) {
    fprintf(stderr, "stream_bench: %s: %s\n", what, nng_strerror(rv));
    exit(1);
}

/* ---- server (child) ---- */

struct server {
    nng_stream *s;
    nng_aio *rx, *tx;
    char buf[BULK];
    nng_iov iov;
    int bulk;
    nng_mtx *mtx;
    nng_cv *cv;
    int done;
};

static void server_finish(struct server *sv) {
    nng_mtx_lock(sv->mtx);
    sv->done = 1;
    nng_cv_wake(sv->cv);
    nng_mtx_unlock(sv->mtx);
}

static void start_recv(struct server *sv) {
    sv->iov.iov_buf = sv->buf;
    sv->iov.iov_len = MSG;
    nng_aio_set_iov(sv->rx, 1, &sv->iov);
    nng_stream_recv(sv->s, sv->rx);
}

/* Echo: a receive completes, the same bytes are sent back, then the next
 * receive starts.  Ping-pong never has more than 64 bytes in flight. */
static void echo_rx(void *arg) {
    struct server *sv = arg;
    if (nng_aio_result(sv->rx) != 0) {
        server_finish(sv);
        return;
    }
    sv->iov.iov_len = nng_aio_count(sv->rx);
    nng_aio_set_iov(sv->tx, 1, &sv->iov);
    nng_stream_send(sv->s, sv->tx);
}

static void echo_tx(void *arg) {
    struct server *sv = arg;
    size_t n;
    if (nng_aio_result(sv->tx) != 0) {
        server_finish(sv);
        return;
    }
    n = nng_aio_count(sv->tx);
    if (n < sv->iov.iov_len) { /* partial: send the rest */
        sv->iov.iov_buf = (char *) sv->iov.iov_buf + n;
        sv->iov.iov_len -= n;
        nng_aio_set_iov(sv->tx, 1, &sv->iov);
        nng_stream_send(sv->s, sv->tx);
        return;
    }
    start_recv(sv);
}

/* Bulk: send 64 KiB writes back to back until the client closes. */
static void bulk_tx(void *arg) {
    struct server *sv = arg;
    if (nng_aio_result(sv->tx) != 0) {
        server_finish(sv);
        return;
    }
    sv->iov.iov_buf = sv->buf;
    sv->iov.iov_len = BULK;
    nng_aio_set_iov(sv->tx, 1, &sv->iov);
    nng_stream_send(sv->s, sv->tx);
}

static void run_server(nng_stream_listener *l, int bulk) {
    struct server sv;
    nng_aio *acc;
    int rv;
    memset(&sv, 0, sizeof(sv));
    sv.bulk = bulk;
    nng_mtx_alloc(&sv.mtx);
    nng_cv_alloc(&sv.cv, sv.mtx);
    nng_aio_alloc(&acc, NULL, NULL);
    nng_stream_listener_accept(l, acc);
    nng_aio_wait(acc);
    if ((rv = nng_aio_result(acc)) != 0) {
        die("accept", rv);
    }
    sv.s = nng_aio_get_output(acc, 0);
    nng_aio_free(acc);
    if ((rv = nng_aio_alloc(&sv.rx, echo_rx, &sv)) != 0 ||
        (rv = nng_aio_alloc(&sv.tx, bulk ? bulk_tx : echo_tx, &sv)) != 0) {
        die("aio", rv);
    }
    if (bulk) {
        memset(sv.buf, 'x', sizeof(sv.buf));
        sv.iov.iov_buf = sv.buf;
        sv.iov.iov_len = BULK;
        nng_aio_set_iov(sv.tx, 1, &sv.iov);
        nng_stream_send(sv.s, sv.tx);
    } else {
        start_recv(&sv);
    }
    nng_mtx_lock(sv.mtx);
    while (!sv.done) {
        nng_cv_wait(sv.cv);
    }
    nng_mtx_unlock(sv.mtx);
    nng_aio_stop(sv.rx);
    nng_aio_stop(sv.tx);
    nng_stream_free(sv.s);
    nng_aio_free(sv.rx);
    nng_aio_free(sv.tx);
}

/* ---- client (parent) ---- */

static int xfer(nng_stream *s, nng_aio *aio, char *buf, size_t len, int send) {
    while (len > 0) {
        nng_iov iov;
        size_t n;
        iov.iov_buf = buf;
        iov.iov_len = len;
        nng_aio_set_iov(aio, 1, &iov);
        if (send) {
            nng_stream_send(s, aio);
        } else {
            nng_stream_recv(s, aio);
        }
        nng_aio_wait(aio);
        if (nng_aio_result(aio) != 0) {
            return nng_aio_result(aio);
        }
        n = nng_aio_count(aio);
        buf += n;
        len -= n;
    }
    return 0;
}

int main(int argc, char **argv) {
    nng_stream_listener *l;
    nng_stream_dialer *d;
    nng_stream *s;
    nng_aio *aio;
    char url[64];
    int port, rv, bulk, pfd[2];
    double secs;
    pid_t child;
    nng_time start, end, now;
    unsigned long long ops = 0, bytes = 0;
    static char buf[BULK];

    if (argc != 3 || (strcmp(argv[1], "pingpong") && strcmp(argv[1], "bulk"))) {
        fprintf(stderr, "usage: %s pingpong|bulk SECONDS\n", argv[0]);
        return 2;
    }
    bulk = strcmp(argv[1], "bulk") == 0;
    secs = atof(argv[2]);

    /* Fork before touching the library (neither NNG nor nng-http survives a
     * fork with threads running).  The child listens on an ephemeral port
     * and tells the parent which one through a pipe. */
    if (pipe(pfd) != 0) {
        perror("pipe");
        return 1;
    }
    fflush(stdout);
    child = fork();
    if (child == 0) {
        close(pfd[0]);
        if ((rv = nng_stream_listener_alloc(&l, "tcp://127.0.0.1:0")) != 0 ||
            (rv = nng_stream_listener_listen(l)) != 0 ||
            (rv = nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port)) != 0) {
            die("listen", rv);
        }
        if (write(pfd[1], &port, sizeof(port)) != (ssize_t) sizeof(port)) {
            _exit(1);
        }
        close(pfd[1]);
        run_server(l, bulk);
        nng_stream_listener_free(l);
        _exit(0);
    }
    close(pfd[1]);
    if (read(pfd[0], &port, sizeof(port)) != (ssize_t) sizeof(port)) {
        fprintf(stderr, "stream_bench: server failed to start\n");
        return 1;
    }
    close(pfd[0]);

    snprintf(url, sizeof(url), "tcp://127.0.0.1:%d", port);
    nng_aio_alloc(&aio, NULL, NULL);
    nng_stream_dialer_alloc(&d, url);
    nng_stream_dialer_dial(d, aio);
    nng_aio_wait(aio);
    if ((rv = nng_aio_result(aio)) != 0) {
        die("dial", rv);
    }
    s = nng_aio_get_output(aio, 0);
    nng_stream_set_bool(s, NNG_OPT_TCP_NODELAY, true);

    memset(buf, 'p', MSG);
    start = nng_clock();
    end = start + (nng_time)(secs * 1000);
    do {
        if (bulk) {
            nng_iov iov;
            iov.iov_buf = buf;
            iov.iov_len = BULK;
            nng_aio_set_iov(aio, 1, &iov);
            nng_stream_recv(s, aio);
            nng_aio_wait(aio);
            if ((rv = nng_aio_result(aio)) != 0) {
                die("recv", rv);
            }
            bytes += nng_aio_count(aio);
        } else {
            if ((rv = xfer(s, aio, buf, MSG, 1)) != 0 || (rv = xfer(s, aio, buf, MSG, 0)) != 0) {
                die("ping-pong", rv);
            }
        }
        ops++;
        now = nng_clock();
    } while (now < end);

    nng_stream_close(s);
    waitpid(child, NULL, 0);
    nng_stream_free(s);
    nng_stream_dialer_free(d);
    nng_aio_free(aio);

    secs = (double)(now - start) / 1000.0;
    if (bulk) {
        printf("%.1f\n", (double)bytes / secs / 1e6);
    } else {
        printf("%.0f\n", (double)ops / secs);
    }
    return 0;
}
