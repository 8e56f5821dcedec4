/*
 * One end of a WebSocket conversation across the two libraries, on NNG's
 * public API only.  Built against NNG 1.5.2 and against nng-http;
 * run_cross.sh pairs each library's server with the other's client.
 *
 *   ws_peer serve          listens on ws://127.0.0.1:0/cross, prints
 *                          "listening on PORT", echoes what one client
 *                          sends until it goes, exits 0
 *   ws_peer dial PORT      sends messages of 1 to 65,536 bytes and 200,000
 *                          bytes in 9,500-byte sends, reads the echoes back,
 *                          checks them by FNV-1a, prints "cross: ok"
 */
#include <nng/nng.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_MS 10000
/* What dial() sends in all: 1 + 125 + 126 + 127 + 65535 + 65536 + 200000. */
#define EXPECTED 331450

static int io(nng_stream* s, int send, void* buf, size_t len, size_t* got) {
    nng_aio* aio;
    int rv = nng_aio_alloc(&aio, NULL, NULL);
    if (rv != 0) {
        return rv;
    }
    nng_aio_set_timeout(aio, WAIT_MS);
    nng_iov iov = {buf, len};
    nng_aio_set_iov(aio, 1, &iov);
    if (send) {
        nng_stream_send(s, aio);
    } else {
        nng_stream_recv(s, aio);
    }
    nng_aio_wait(aio);
    rv = nng_aio_result(aio);
    *got = nng_aio_count(aio);
    nng_aio_free(aio);
    return rv;
}

static int serve(void) {
    nng_stream_listener* l;
    nng_stream* s;
    nng_aio* aio;
    int port = 0;
    int rv;
    if ((rv = nng_stream_listener_alloc(&l, "ws://127.0.0.1:0/cross")) != 0 ||
        (rv = nng_stream_listener_listen(l)) != 0 ||
        (rv = nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port)) != 0 ||
        (rv = nng_aio_alloc(&aio, NULL, NULL)) != 0) {
        fprintf(stderr, "serve: %s\n", nng_strerror(rv));
        return 1;
    }
    printf("listening on %d\n", port);
    fflush(stdout);
    nng_aio_set_timeout(aio, WAIT_MS);
    nng_stream_listener_accept(l, aio);
    nng_aio_wait(aio);
    if ((rv = nng_aio_result(aio)) != 0) {
        fprintf(stderr, "accept: %s\n", nng_strerror(rv));
        return 1;
    }
    s = nng_aio_get_output(aio, 0);
    nng_aio_free(aio);
    static char buf[1 << 20];
    size_t n = 0;
    size_t echoed = 0;
    /* Each receive is one message (or part of one): sent back as is, until
     * everything the client sends has come back (NNG 1.5.2 may miss the
     * client's close: a receive after it can wait until its timeout). */
    rv = 0;
    while (echoed < EXPECTED && (rv = io(s, 0, buf, sizeof buf, &n)) == 0) {
        size_t off = 0;
        while (off < n) {
            size_t m;
            if ((rv = io(s, 1, buf + off, n - off, &m)) != 0) {
                fprintf(stderr, "echo send: %s\n", nng_strerror(rv));
                return 1;
            }
            off += m;
        }
        echoed += n;
    }
    printf("serve: echoed %zu of %d bytes%s%s\n", echoed, EXPECTED, rv != 0 ? ": " : "",
           rv != 0 ? nng_strerror(rv) : "");
    nng_stream_free(s);
    nng_stream_listener_free(l);
    return echoed == EXPECTED ? 0 : 1;
}

static uint64_t fnv(const unsigned char* p, size_t n, uint64_t h) {
    for (size_t i = 0; i < n; i++) {
        h = (h ^ p[i]) * 1099511628211ull;
    }
    return h;
}

/* Sends len bytes in sends of step, then reads len bytes back. */
static int round_trip(nng_stream* s, const unsigned char* out, size_t len, size_t step) {
    static unsigned char in[1 << 20];
    size_t off = 0;
    size_t got = 0;
    int rv;
    while (off < len) {
        size_t m;
        size_t want = len - off < step ? len - off : step;
        if ((rv = io(s, 1, (void*)(out + off), want, &m)) != 0) {
            fprintf(stderr, "send: %s\n", nng_strerror(rv));
            return -1;
        }
        off += m;
        /* Read the echoes as they come, so that neither side blocks. */
        while (got < off) {
            size_t n;
            if ((rv = io(s, 0, in + got, len - got, &n)) != 0) {
                fprintf(stderr, "recv: %s\n", nng_strerror(rv));
                return -1;
            }
            got += n;
        }
    }
    return fnv(in, len, 14695981039346656037ull) == fnv(out, len, 14695981039346656037ull) ? 0 : -1;
}

static int dial(const char* port) {
    char url[64];
    nng_stream_dialer* d;
    nng_stream* s;
    nng_aio* aio;
    int rv;
    snprintf(url, sizeof url, "ws://127.0.0.1:%s/cross", port);
    if ((rv = nng_stream_dialer_alloc(&d, url)) != 0 || (rv = nng_aio_alloc(&aio, NULL, NULL)) != 0) {
        fprintf(stderr, "dial: %s\n", nng_strerror(rv));
        return 1;
    }
    nng_aio_set_timeout(aio, WAIT_MS);
    nng_stream_dialer_dial(d, aio);
    nng_aio_wait(aio);
    if ((rv = nng_aio_result(aio)) != 0) {
        fprintf(stderr, "dial: %s\n", nng_strerror(rv));
        return 1;
    }
    s = nng_aio_get_output(aio, 0);
    nng_aio_free(aio);
    static unsigned char data[200000];
    for (size_t i = 0; i < sizeof data; i++) {
        data[i] = (unsigned char)(i * 7 + (i >> 9));
    }
    static const size_t sizes[] = {1, 125, 126, 127, 65535, 65536};
    int bad = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        if (round_trip(s, data, sizes[i], sizes[i]) != 0) {
            printf("message of %zu bytes: wrong echo\n", sizes[i]);
            bad++;
        }
    }
    if (round_trip(s, data, sizeof data, 9500) != 0) {
        printf("200000 bytes in 9500-byte sends: wrong echo\n");
        bad++;
    }
    nng_stream_close(s);
    nng_stream_free(s);
    nng_stream_dialer_free(d);
    printf("cross: %s\n", bad == 0 ? "ok" : "FAILED");
    return bad == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
    if (argc == 2 && strcmp(argv[1], "serve") == 0) {
        return serve();
    }
    if (argc == 3 && strcmp(argv[1], "dial") == 0) {
        return dial(argv[2]);
    }
    fprintf(stderr, "usage: ws_peer serve | ws_peer dial PORT\n");
    return 2;
}
