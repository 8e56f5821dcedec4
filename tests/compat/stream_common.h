/*
 * Helpers shared by the stream differential programs (stream_tcp.c,
 * stream_ipc.c): printing results, aios with a timeout, whole transfers,
 * connected pairs.  NNG's public API only.
 */
#ifndef NNGHTTP_COMPAT_STREAM_COMMON_H
#define NNGHTTP_COMPAT_STREAM_COMMON_H

#include <nng/nng.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define WAIT_MS 5000

static int failures;

static void show(const char* what, int rv) {
    printf("%s: %d (%s)\n", what, rv, nng_strerror(rv));
}

static void expect(const char* what, int rv, int want) {
    show(what, rv);
    if (rv != want) {
        failures++;
    }
}

static void yesno(const char* what, bool v) {
    printf("%s: %s\n", what, v ? "yes" : "no");
}

static nng_aio* new_aio(void) {
    nng_aio* a = NULL;
    if (nng_aio_alloc(&a, NULL, NULL) != 0) {
        printf("nng_aio_alloc failed\n");
        exit(2);
    }
    nng_aio_set_timeout(a, WAIT_MS);
    return a;
}

/* One send or receive of len bytes; returns the result, *count the bytes. */
static int xfer(nng_stream* s, bool send, void* buf, size_t len, size_t* count) {
    nng_aio* a = new_aio();
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

/* Transfers exactly len bytes, however many operations it takes. */
static int xfer_all(nng_stream* s, bool send, void* buf, size_t len) {
    size_t done = 0;
    int rounds = 0;
    while (done < len) {
        size_t n = 0;
        int rv = xfer(s, send, (uint8_t*)buf + done, len - done, &n);
        if (rv != 0) {
            return rv;
        }
        if (n == 0 || ++rounds > 100000) {
            return NNG_EINTERNAL;
        }
        done += n;
    }
    return 0;
}

/* Connects a dialer to l: *srv is the accepted end, *cli the dialed one. */
static int connect_pair(nng_stream_listener* l, nng_stream_dialer* d, nng_stream** srv,
                        nng_stream** cli) {
    nng_aio* acc = new_aio();
    nng_aio* dial = new_aio();
    nng_stream_listener_accept(l, acc);
    nng_stream_dialer_dial(d, dial);
    nng_aio_wait(acc);
    nng_aio_wait(dial);
    int rv = nng_aio_result(acc);
    int rv2 = nng_aio_result(dial);
    *srv = rv == 0 ? nng_aio_get_output(acc, 0) : NULL;
    *cli = rv2 == 0 ? nng_aio_get_output(dial, 0) : NULL;
    nng_aio_free(acc);
    nng_aio_free(dial);
    return rv != 0 ? rv : rv2;
}

/* A listener on 127.0.0.1 with a connected pair. */
struct pair {
    nng_stream_listener* l;
    nng_stream_dialer* d;
    nng_stream* srv;
    nng_stream* cli;
};

static void close_pair(struct pair* p) {
    nng_stream_free(p->cli);
    nng_stream_free(p->srv);
    nng_stream_dialer_free(p->d);
    nng_stream_listener_free(p->l);
    memset(p, 0, sizeof *p);
}

#endif /* NNGHTTP_COMPAT_STREAM_COMMON_H */
