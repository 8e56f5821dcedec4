/* bench/ws/nng_echo.c: a WebSocket echo server on NNG 1.5.2's stream API,
 * the NNG side of bench/ws/run.sh.
 *
 *   nng_echo PORT        listens on ws://127.0.0.1:PORT/echo (0: any port),
 *                        prints "listening on PORT", echoes until SIGTERM or
 *                        SIGINT, then exits 0.
 *
 * NNG's WebSocket stream (src/supplemental/websocket/websocket.c) is a byte
 * stream, not a message API.  What it does in 1.5.2, and why this echo is
 * message-for-message anyway:
 *
 * - Receiving: each frame is read whole (up to NNG_OPT_WS_RECVMAXFRAME) into
 *   a buffer of its own before any receive sees it, and the connection reads
 *   ahead by at most one data frame while no receive is pending.  A receive
 *   copies queued frames into the caller's buffer; a frame larger than the
 *   buffer is split across receives.  With a buffer as large as the largest
 *   frame, one receive therefore returns exactly one frame.  A message sent
 *   as one frame (what the load generator sends) comes back as one message;
 *   a fragmented message is echoed as one message per fragment.
 * - Zero-length frames are dropped in stream mode, so an empty message gets
 *   no echo.  The text/binary type is not reported to the receiver: text
 *   frames are accepted (NNG_OPT_WS_RECV_TEXT) but echoed as binary.
 * - Sending: one send is one frame, final, of at most
 *   NNG_OPT_WS_SENDMAXFRAME bytes (default 64 KiB); a longer send is cut to
 *   that and completes partially.  The limit is raised to 2 MiB here so that
 *   every message the receive side accepts goes back in one frame.
 * - NNG_OPT_RECVMAXSZ applies to message mode only; it is set for
 *   completeness.
 *
 * Each connection owns one 2 MiB receive buffer, an anonymous mapping whose
 * pages become resident only as messages fill them (an idle connection adds
 * none), one receive aio and one send aio; a connection is either receiving
 * or sending, never both.  NNG runs the callbacks on its own threads
 * (multi-threaded, as NNG is by default). */
#define _GNU_SOURCE
#include <nng/nng.h>
#include <nng/supplemental/util/platform.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MAX_MESSAGE (2u << 20) /* 2 MiB: the frame and message limit */

struct conn {
    nng_stream* stream;
    nng_aio* rx;
    nng_aio* tx;
    unsigned char* buf; /* MAX_MESSAGE bytes, mmap'd */
    size_t len;         /* bytes of the message being echoed */
    size_t sent;        /* of which already sent */
};

static nng_stream_listener* listener;
static nng_aio* accept_aio;
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static void fatal(const char* what, int rv) {
    fprintf(stderr, "nng_echo: %s: %s\n", what, nng_strerror(rv));
    exit(1);
}

/* Called from one of the connection's own callbacks, with neither aio busy:
 * the aios are freed in the background since an aio cannot be freed from
 * its own callback. */
static void conn_destroy(struct conn* c) {
    nng_stream_close(c->stream);
    nng_stream_free(c->stream);
    nng_aio_reap(c->rx);
    nng_aio_reap(c->tx);
    munmap(c->buf, MAX_MESSAGE);
    free(c);
}

static void start_recv(struct conn* c) {
    nng_iov iov = {.iov_buf = c->buf, .iov_len = MAX_MESSAGE};
    nng_aio_set_iov(c->rx, 1, &iov);
    nng_stream_recv(c->stream, c->rx);
}

static void start_send(struct conn* c) {
    nng_iov iov = {.iov_buf = c->buf + c->sent, .iov_len = c->len - c->sent};
    nng_aio_set_iov(c->tx, 1, &iov);
    nng_stream_send(c->stream, c->tx);
}

static void on_recv(void* arg) {
    struct conn* c = arg;
    if (nng_aio_result(c->rx) != 0) {
        conn_destroy(c);
        return;
    }
    c->len = nng_aio_count(c->rx);
    c->sent = 0;
    if (c->len == 0) {
        start_recv(c);
        return;
    }
    start_send(c);
}

static void on_send(void* arg) {
    struct conn* c = arg;
    if (nng_aio_result(c->tx) != 0) {
        conn_destroy(c);
        return;
    }
    /* Complete unless the send was cut to NNG_OPT_WS_SENDMAXFRAME; the rest
     * would then leave as a message of its own (not with the limit set to
     * MAX_MESSAGE, as here). */
    c->sent += nng_aio_count(c->tx);
    if (c->sent < c->len) {
        start_send(c);
        return;
    }
    start_recv(c);
}

static void on_accept(void* arg) {
    (void)arg;
    int rv = nng_aio_result(accept_aio);
    if (rv == NNG_ECLOSED || rv == NNG_ECANCELED) {
        return; /* shutting down */
    }
    if (rv == 0) {
        nng_stream* s = nng_aio_get_output(accept_aio, 0);
        struct conn* c = calloc(1, sizeof *c);
        void* buf = MAP_FAILED;
        if (c != NULL) {
            buf = mmap(NULL, MAX_MESSAGE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        }
        if (c == NULL || buf == MAP_FAILED || nng_aio_alloc(&c->rx, on_recv, c) != 0 ||
            nng_aio_alloc(&c->tx, on_send, c) != 0) {
            fprintf(stderr, "nng_echo: out of memory for a connection\n");
            if (c != NULL) {
                if (c->rx != NULL) {
                    nng_aio_free(c->rx);
                }
                if (buf != MAP_FAILED) {
                    munmap(buf, MAX_MESSAGE);
                }
                free(c);
            }
            nng_stream_free(s);
        } else {
            c->stream = s;
            c->buf = buf;
            start_recv(c);
        }
    }
    nng_stream_listener_accept(listener, accept_aio);
}

int main(int argc, char** argv) {
    int rv;
    char url[64];
    int port;

    if (argc != 2) {
        fprintf(stderr, "usage: nng_echo PORT\n");
        return 2;
    }
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/echo", atoi(argv[1]));

    if ((rv = nng_stream_listener_alloc(&listener, url)) != 0) {
        fatal("nng_stream_listener_alloc", rv);
    }
    if ((rv = nng_stream_listener_set_size(listener, NNG_OPT_WS_RECVMAXFRAME, MAX_MESSAGE)) != 0) {
        fatal(NNG_OPT_WS_RECVMAXFRAME, rv);
    }
    if ((rv = nng_stream_listener_set_size(listener, NNG_OPT_RECVMAXSZ, MAX_MESSAGE)) != 0) {
        fatal(NNG_OPT_RECVMAXSZ, rv);
    }
    if ((rv = nng_stream_listener_set_size(listener, NNG_OPT_WS_SENDMAXFRAME, MAX_MESSAGE)) != 0) {
        fatal(NNG_OPT_WS_SENDMAXFRAME, rv);
    }
    if ((rv = nng_stream_listener_set_bool(listener, NNG_OPT_WS_RECV_TEXT, true)) != 0) {
        fatal(NNG_OPT_WS_RECV_TEXT, rv);
    }
    if ((rv = nng_stream_listener_listen(listener)) != 0) {
        fatal("nng_stream_listener_listen", rv);
    }
    if ((rv = nng_stream_listener_get_int(listener, NNG_OPT_TCP_BOUND_PORT, &port)) != 0) {
        fatal(NNG_OPT_TCP_BOUND_PORT, rv);
    }
    if ((rv = nng_aio_alloc(&accept_aio, on_accept, NULL)) != 0) {
        fatal("nng_aio_alloc", rv);
    }

    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);

    printf("listening on %d\n", port);
    fflush(stdout);
    nng_stream_listener_accept(listener, accept_aio);

    while (!stop_requested) {
        nng_msleep(50);
    }

    /* Open connections are left to the process's exit. */
    nng_stream_listener_close(listener);
    nng_aio_stop(accept_aio);
    nng_aio_free(accept_aio);
    nng_stream_listener_free(listener);
    return 0;
}
