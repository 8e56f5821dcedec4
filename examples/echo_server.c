/*
 * echo_server: a TCP echo server written against NNG's stream API, to show
 * the asynchronous core working.  Every connection gets its own receive and
 * send aio; what arrives is sent back.  Runs until interrupted (Ctrl-C).
 *
 *   echo_server [URL]          default tcp://127.0.0.1:8080
 *
 * Try it:  printf 'hello\n' | nc -q1 127.0.0.1 8080
 */
#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct conn {
    nng_stream *s;
    nng_aio *rx;
    nng_aio *tx;
    nng_iov iov;
    char buf[4096];
};

static nng_stream_listener *listener;
static nng_aio *accept_aio;
static volatile sig_atomic_t stopping;

static void conn_free(struct conn *c) {
    /* Called from one of its own callbacks: reap, do not wait. */
    nng_stream_close(c->s);
    nng_aio_reap(c->rx);
    nng_aio_reap(c->tx);
    nng_stream_free(c->s);
    free(c);
}

static void conn_recv(struct conn *c) {
    c->iov.iov_buf = c->buf;
    c->iov.iov_len = sizeof(c->buf);
    nng_aio_set_iov(c->rx, 1, &c->iov);
    nng_stream_recv(c->s, c->rx);
}

static void on_recv(void *arg) {
    struct conn *c = arg;
    if (nng_aio_result(c->rx) != 0) {
        conn_free(c);
        return;
    }
    c->iov.iov_buf = c->buf;
    c->iov.iov_len = nng_aio_count(c->rx);
    nng_aio_set_iov(c->tx, 1, &c->iov);
    nng_stream_send(c->s, c->tx);
}

static void on_send(void *arg) {
    struct conn *c = arg;
    size_t n;
    if (nng_aio_result(c->tx) != 0) {
        conn_free(c);
        return;
    }
    n = nng_aio_count(c->tx);
    if (n < c->iov.iov_len) {
        c->iov.iov_buf = (char *) c->iov.iov_buf + n;
        c->iov.iov_len -= n;
        nng_aio_set_iov(c->tx, 1, &c->iov);
        nng_stream_send(c->s, c->tx);
        return;
    }
    conn_recv(c);
}

static void on_accept(void *arg) {
    struct conn *c;
    int rv;
    (void) arg;
    if ((rv = nng_aio_result(accept_aio)) != 0) {
        if (rv != NNG_ECLOSED && rv != NNG_ECANCELED) {
            fprintf(stderr, "echo_server: accept: %s\n", nng_strerror(rv));
        }
        return;
    }
    if ((c = calloc(1, sizeof(*c))) == NULL ||
        nng_aio_alloc(&c->rx, on_recv, c) != 0 ||
        nng_aio_alloc(&c->tx, on_send, c) != 0) {
        fprintf(stderr, "echo_server: out of memory\n");
        exit(1);
    }
    c->s = nng_aio_get_output(accept_aio, 0);
    conn_recv(c);
    nng_stream_listener_accept(listener, accept_aio);
}

static void on_signal(int sig) {
    (void) sig;
    stopping = 1;
}

int main(int argc, char **argv) {
    const char *url = argc > 1 ? argv[1] : "tcp://127.0.0.1:8080";
    int rv;

    if ((rv = nng_stream_listener_alloc(&listener, url)) != 0 ||
        (rv = nng_stream_listener_listen(listener)) != 0 ||
        (rv = nng_aio_alloc(&accept_aio, on_accept, NULL)) != 0) {
        fprintf(stderr, "echo_server: %s: %s\n", url, nng_strerror(rv));
        return 1;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    printf("echo_server: echoing on %s (Ctrl-C stops)\n", url);
    fflush(stdout);
    nng_stream_listener_accept(listener, accept_aio);
    while (!stopping) {
        nng_msleep(100);
    }
    nng_stream_listener_close(listener);
    nng_aio_stop(accept_aio);
    nng_aio_free(accept_aio);
    nng_stream_listener_free(listener);
    printf("echo_server: stopped\n");
    return 0;
}
