/*
 * Differential test of TCP byte streams: nng_stream_listener_*,
 * nng_stream_dialer_* and nng_stream_* over tcp://, tcp4:// and tcp6://.
 *
 * Every check prints one line with the return code and its text.  Nothing
 * that varies between runs (ports, pointers, timings) is printed: the
 * listener binds port 0 and the dialer learns the port through
 * NNG_OPT_TCP_BOUND_PORT.  Addresses are printed as their family and
 * whether they are loopback.  The output must be the same against NNG
 * 1.5.2 and against nng-http.
 *
 * Every aio has a timeout, so a missing completion fails a check instead
 * of hanging the program.
 */
#include <nng/nng.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stream_common.h"

static int bound_port(nng_stream_listener* l) {
    int port = 0;
    if (nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port) != 0) {
        return -1;
    }
    return port;
}

/* A listener on url (port 0), listening; NULL on failure. */
static nng_stream_listener* listen_on(const char* url) {
    nng_stream_listener* l = NULL;
    int rv = nng_stream_listener_alloc(&l, url);
    if (rv == 0) {
        rv = nng_stream_listener_listen(l);
    }
    if (rv != 0) {
        printf("listen on %s failed: %d (%s)\n", url, rv, nng_strerror(rv));
        nng_stream_listener_free(l);
        exit(2);
    }
    return l;
}

static void dial_url(char* buf, size_t len, const char* scheme, const char* host,
                     nng_stream_listener* l) {
    snprintf(buf, len, "%s://%s:%d", scheme, host, bound_port(l));
}

static void open_pair(struct pair* p, const char* scheme, const char* host) {
    char url[128];
    snprintf(url, sizeof url, "%s://%s:0", scheme, host);
    p->l = listen_on(url);
    char durl[128];
    dial_url(durl, sizeof durl, scheme, host, p->l);
    int rv = nng_stream_dialer_alloc(&p->d, durl);
    if (rv == 0) {
        rv = connect_pair(p->l, p->d, &p->srv, &p->cli);
    }
    if (rv != 0) {
        printf("connect %s failed: %d (%s)\n", scheme, rv, nng_strerror(rv));
        exit(2);
    }
}

static void check_alloc(void) {
    static const char* const urls[] = {
        "tcp://127.0.0.1:0",
        "tcp://127.0.0.1",
        "tcp://:0",
        "tcp://*:0",
        "tcp://127.0.0.1:99999",
        "tcp://127.0.0.1:-1",
        "tcp://[::1]:0",
        "tcp4://127.0.0.1:0",
        "tcp4://[::1]:0",
        "tcp6://[::1]:0",
        "tcp6://127.0.0.1:0",
        "tcp://127.0.0.1:0/some/path",
        "inproc://somewhere",
        "http://127.0.0.1:80",
        "zt://1234.5678:99",
        "not a url",
        "",
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        char what[160];
        nng_stream_listener* l = NULL;
        int rv = nng_stream_listener_alloc(&l, urls[i]);
        snprintf(what, sizeof what, "tcp listener alloc \"%s\"", urls[i]);
        if (strcmp(urls[i], "tcp4://[::1]:0") == 0 || strcmp(urls[i], "tcp6://127.0.0.1:0") == 0) {
            /* An address of the wrong family: NNG 1.5.2 gives NNG_ESYSERR +
             * a negative getaddrinfo code, nng-http NNG_EADDRINVAL
             * (docs/compat.md). */
            printf("%s fails: %s\n", what, rv != 0 ? "yes" : "no");
        } else {
            show(what, rv);
        }
        nng_stream_listener_free(l);

        nng_stream_dialer* d = NULL;
        rv = nng_stream_dialer_alloc(&d, urls[i]);
        snprintf(what, sizeof what, "tcp dialer alloc \"%s\"", urls[i]);
        show(what, rv);
        nng_stream_dialer_free(d);
    }

    nng_url* u = NULL;
    int rv = nng_url_parse(&u, "tcp://127.0.0.1:0");
    expect("tcp parse url", rv, 0);
    if (rv == 0) {
        nng_stream_listener* l = NULL;
        nng_stream_dialer* d = NULL;
        show("tcp listener alloc_url", nng_stream_listener_alloc_url(&l, u));
        show("tcp dialer alloc_url (port 0)", nng_stream_dialer_alloc_url(&d, u));
        nng_stream_listener_free(l);
        nng_stream_dialer_free(d);
        nng_url_free(u);
    }
    u = NULL;
    rv = nng_url_parse(&u, "inproc://nowhere");
    if (rv == 0) {
        nng_stream_listener* l = NULL;
        nng_stream_dialer* d = NULL;
        show("tcp listener alloc_url inproc", nng_stream_listener_alloc_url(&l, u));
        show("tcp dialer alloc_url inproc", nng_stream_dialer_alloc_url(&d, u));
        nng_stream_listener_free(l);
        nng_stream_dialer_free(d);
        nng_url_free(u);
    }
}

static void check_listener_states(void) {
    nng_stream_listener* l = NULL;
    nng_aio* a = new_aio();
    int rv = nng_stream_listener_alloc(&l, "tcp://127.0.0.1:0");
    expect("tcp listener alloc", rv, 0);
    if (rv != 0) {
        nng_aio_free(a);
        return;
    }
    int port = -1;
    rv = nng_stream_listener_get_int(l, NNG_OPT_TCP_BOUND_PORT, &port);
    show("tcp bound port before listen", rv);
    if (rv == 0) {
        printf("tcp bound port before listen is zero: %s\n", port == 0 ? "yes" : "no");
    }
    nng_stream_listener_accept(l, a);
    nng_aio_wait(a);
    show("tcp accept before listen", nng_aio_result(a));

    expect("tcp listen", nng_stream_listener_listen(l), 0);
    port = bound_port(l);
    yesno("tcp bound port nonzero after listen", port > 0);
    expect("tcp listen twice", nng_stream_listener_listen(l), NNG_ESTATE);
    /* The man page's code for a read-only option is NNG_EREADONLY (which
     * nng-http returns); NNG 1.5.2 returns NNG_ENOTSUP.  Compare failure. */
    yesno("tcp set bound port fails",
          nng_stream_listener_set_int(l, NNG_OPT_TCP_BOUND_PORT, 1234) != 0);

    /* An accept with nobody dialing times out. */
    nng_aio_set_timeout(a, 50);
    nng_stream_listener_accept(l, a);
    nng_aio_wait(a);
    expect("tcp accept timeout", nng_aio_result(a), NNG_ETIMEDOUT);

    nng_aio_set_timeout(a, NNG_DURATION_ZERO);
    nng_stream_listener_accept(l, a);
    nng_aio_wait(a);
    show("tcp accept zero timeout", nng_aio_result(a));

    nng_aio_set_timeout(a, WAIT_MS);
    nng_stream_listener_accept(l, a);
    nng_aio_cancel(a);
    nng_aio_wait(a);
    expect("tcp accept cancelled", nng_aio_result(a), NNG_ECANCELED);

    /* A pending accept fails when the listener closes. */
    nng_stream_listener_accept(l, a);
    nng_stream_listener_close(l);
    nng_aio_wait(a);
    expect("tcp pending accept at close", nng_aio_result(a), NNG_ECLOSED);

    nng_stream_listener_accept(l, a);
    nng_aio_wait(a);
    expect("tcp accept after close", nng_aio_result(a), NNG_ECLOSED);
    show("tcp listen after close", nng_stream_listener_listen(l));
    nng_stream_listener_free(l);

    /* Binding a port that is taken. */
    nng_stream_listener* l1 = listen_on("tcp://127.0.0.1:0");
    char url[64];
    dial_url(url, sizeof url, "tcp", "127.0.0.1", l1);
    nng_stream_listener* l2 = NULL;
    rv = nng_stream_listener_alloc(&l2, url);
    if (rv == 0) {
        expect("tcp listen on a port in use", nng_stream_listener_listen(l2), NNG_EADDRINUSE);
    }
    nng_stream_listener_free(l2);
    nng_stream_listener_free(l1);
    nng_aio_free(a);
}

static void check_dialer_states(void) {
    nng_aio* a = new_aio();

    /* Refused: the port was just released. */
    nng_stream_listener* l = listen_on("tcp://127.0.0.1:0");
    char url[64];
    dial_url(url, sizeof url, "tcp", "127.0.0.1", l);
    nng_stream_listener_free(l);
    nng_stream_dialer* d = NULL;
    int rv = nng_stream_dialer_alloc(&d, url);
    expect("tcp dialer alloc", rv, 0);
    if (rv != 0) {
        nng_aio_free(a);
        return;
    }
    nng_stream_dialer_dial(d, a);
    nng_aio_wait(a);
    expect("tcp dial refused", nng_aio_result(a), NNG_ECONNREFUSED);

    nng_aio_set_timeout(a, NNG_DURATION_ZERO);
    nng_stream_dialer_dial(d, a);
    nng_aio_wait(a);
    show("tcp dial zero timeout", nng_aio_result(a));
    nng_aio_set_timeout(a, WAIT_MS);

    nng_stream_dialer_close(d);
    nng_stream_dialer_close(d); /* twice is harmless */
    nng_stream_dialer_dial(d, a);
    nng_aio_wait(a);
    expect("tcp dial after dialer close", nng_aio_result(a), NNG_ECLOSED);
    nng_stream_dialer_free(d);

    /* A port out of range is accepted by the dialer and fails the dial. */
    d = NULL;
    rv = nng_stream_dialer_alloc(&d, "tcp://127.0.0.1:99999");
    show("tcp dialer alloc port 99999", rv);
    if (rv == 0) {
        nng_stream_dialer_dial(d, a);
        nng_aio_wait(a);
        show("tcp dial port 99999", nng_aio_result(a));
        nng_stream_dialer_free(d);
    }
    nng_aio_free(a);
}

/* The KEEPALIVE defaults of listeners, dialers and streams.  (NODELAY's
 * default is true per the man page, as nng-http has it; NNG 1.5.2's stream
 * dialers and listeners default to false.  Not compared here.) */
static void check_defaults(void) {
    struct pair p;
    open_pair(&p, "tcp", "127.0.0.1");
    const char* const flags[] = {NNG_OPT_TCP_KEEPALIVE};
    for (int f = 0; f < 1; f++) {
        bool bl = false, bd = false, bs = false, bc = false;
        int r1 = nng_stream_listener_get_bool(p.l, flags[f], &bl);
        int r2 = nng_stream_dialer_get_bool(p.d, flags[f], &bd);
        int r3 = nng_stream_get_bool(p.srv, flags[f], &bs);
        int r4 = nng_stream_get_bool(p.cli, flags[f], &bc);
        printf("tcp default %s: listener %d %d, dialer %d %d, accepted %d %d, dialed %d %d\n",
               flags[f], r1, bl, r2, bd, r3, bs, r4, bc);
    }
    close_pair(&p);
}

static void check_echo(void) {
    static const size_t sizes[] = {1, 7, 1000, 65536, 200000, 1048576};
    struct pair p;
    open_pair(&p, "tcp", "127.0.0.1");
    size_t max = 1048576;
    uint8_t* out = malloc(max);
    uint8_t* mid = malloc(max);
    uint8_t* back = malloc(max);
    for (size_t i = 0; i < max; i++) {
        out[i] = (uint8_t)((i * 131u + 7u) ^ (i >> 9));
    }
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        memset(mid, 0, n);
        memset(back, 0, n);
        int rv = 0;
        /* Chunks of at most 64 KiB, so neither side ever waits on the other. */
        for (size_t off = 0; off < n && rv == 0; off += 65536) {
            size_t c = n - off < 65536 ? n - off : 65536;
            rv = xfer_all(p.cli, true, out + off, c);
            if (rv == 0) {
                rv = xfer_all(p.srv, false, mid + off, c);
            }
            if (rv == 0) {
                rv = xfer_all(p.srv, true, mid + off, c);
            }
            if (rv == 0) {
                rv = xfer_all(p.cli, false, back + off, c);
            }
        }
        bool same = rv == 0 && memcmp(out, back, n) == 0 && memcmp(out, mid, n) == 0;
        printf("tcp echo %zu bytes: %d (%s), data %s\n", n, rv, nng_strerror(rv),
               same ? "intact" : "CORRUPT");
        if (!same) {
            failures++;
        }
    }
    free(out);
    free(mid);
    free(back);
    close_pair(&p);
}

static void check_outstanding(void) {
    struct pair p;
    open_pair(&p, "tcp", "127.0.0.1");

    /* Four sends started together complete, and arrive, in order. */
    static const char* const words[] = {"one,", "two,", "three,", "four."};
    nng_aio* s[4];
    size_t total = 0;
    for (int i = 0; i < 4; i++) {
        s[i] = new_aio();
        nng_iov iov = {(void*)words[i], strlen(words[i])};
        nng_aio_set_iov(s[i], 1, &iov);
        total += strlen(words[i]);
    }
    for (int i = 0; i < 4; i++) {
        nng_stream_send(p.cli, s[i]);
    }
    for (int i = 0; i < 4; i++) {
        nng_aio_wait(s[i]);
        printf("tcp outstanding send %d: %d (%s) count %zu\n", i, nng_aio_result(s[i]),
               nng_strerror(nng_aio_result(s[i])), nng_aio_count(s[i]));
        nng_aio_free(s[i]);
    }
    char got[64] = {0};
    int rv = xfer_all(p.srv, false, got, total);
    printf("tcp outstanding sends arrive: %d \"%s\"\n", rv, got);

    /* Three receives posted first share one send, in order. */
    nng_aio* r[3];
    char bufs[3][5];
    memset(bufs, 0, sizeof bufs);
    for (int i = 0; i < 3; i++) {
        r[i] = new_aio();
        nng_iov iov = {bufs[i], 4};
        nng_aio_set_iov(r[i], 1, &iov);
        nng_stream_recv(p.srv, r[i]);
    }
    rv = xfer_all(p.cli, true, "AAAABBBBCCCC", 12);
    expect("tcp send for outstanding receives", rv, 0);
    for (int i = 0; i < 3; i++) {
        nng_aio_wait(r[i]);
        printf("tcp outstanding recv %d: %d (%s) count %zu \"%s\"\n", i, nng_aio_result(r[i]),
               nng_strerror(nng_aio_result(r[i])), nng_aio_count(r[i]), bufs[i]);
        nng_aio_free(r[i]);
    }

    /* A receive larger than what was sent completes with what is there. */
    size_t n = 0;
    rv = xfer(p.cli, true, "hello", 5, &n);
    printf("tcp send 5: %d count %zu\n", rv, n);
    char big[100] = {0};
    rv = xfer(p.srv, false, big, sizeof big, &n);
    printf("tcp recv into 100: %d (%s) count %zu \"%s\"\n", rv, nng_strerror(rv), n, big);

    /* Gather on send, scatter on receive. */
    nng_aio* a = new_aio();
    nng_iov giov[3] = {{"abc", 3}, {"", 0}, {"defgh", 5}};
    nng_aio_set_iov(a, 3, giov);
    nng_stream_send(p.cli, a);
    nng_aio_wait(a);
    printf("tcp gather send: %d count %zu\n", nng_aio_result(a), nng_aio_count(a));
    char s1[3] = {0}, s2[3] = {0}, s3[20] = {0};
    nng_iov siov[3] = {{s1, 2}, {s2, 2}, {s3, 19}};
    nng_aio_set_iov(a, 3, siov);
    nng_stream_recv(p.srv, a);
    nng_aio_wait(a);
    printf("tcp scatter recv: %d count %zu \"%s\" \"%s\" \"%s\"\n", nng_aio_result(a),
           nng_aio_count(a), s1, s2, s3);
    show("tcp set 9 iovs", nng_aio_set_iov(a, 9, siov));
    nng_aio_free(a);
    close_pair(&p);
}

struct cbstate {
    int calls;
    int result;
};

static void count_cb(void* arg) {
    struct cbstate* st = arg;
    st->calls++;
}

static void check_timeouts_and_cancel(void) {
    struct pair p;
    open_pair(&p, "tcp", "127.0.0.1");
    nng_aio* a = new_aio();
    char buf[16];
    nng_iov iov = {buf, sizeof buf};
    nng_aio_set_iov(a, 1, &iov);

    nng_aio_set_timeout(a, 50);
    nng_stream_recv(p.srv, a);
    nng_aio_wait(a);
    expect("tcp recv timeout", nng_aio_result(a), NNG_ETIMEDOUT);
    printf("tcp recv timeout count: %zu\n", nng_aio_count(a));

    /* A zero timeout fails even with data waiting; the data stays. */
    size_t n = 0;
    xfer(p.cli, true, "xyz", 3, &n);
    nng_aio_set_timeout(a, NNG_DURATION_ZERO);
    nng_stream_recv(p.srv, a);
    nng_aio_wait(a);
    show("tcp recv zero timeout with data", nng_aio_result(a));
    nng_aio_set_timeout(a, WAIT_MS);
    memset(buf, 0, sizeof buf);
    nng_stream_recv(p.srv, a);
    nng_aio_wait(a);
    printf("tcp recv after zero timeout: %d count %zu \"%s\"\n", nng_aio_result(a),
           nng_aio_count(a), buf);

    nng_stream_recv(p.srv, a);
    nng_aio_cancel(a);
    nng_aio_wait(a);
    expect("tcp recv cancelled", nng_aio_result(a), NNG_ECANCELED);

    nng_stream_recv(p.srv, a);
    nng_aio_abort(a, NNG_EINTERNAL);
    nng_aio_wait(a);
    expect("tcp recv aborted with EINTERNAL", nng_aio_result(a), NNG_EINTERNAL);

    /* The stream still works after a cancelled receive. */
    memset(buf, 0, sizeof buf);
    xfer(p.cli, true, "still", 5, &n);
    nng_stream_recv(p.srv, a);
    nng_aio_wait(a);
    printf("tcp recv after cancel: %d count %zu \"%s\"\n", nng_aio_result(a), nng_aio_count(a),
           buf);

    /* nng_aio_stop: the pending receive's callback runs once, then the aio
     * refuses work. */
    struct cbstate st = {0, 0};
    nng_aio* cb = NULL;
    nng_aio_alloc(&cb, count_cb, &st);
    nng_aio_set_timeout(cb, WAIT_MS);
    nng_aio_set_iov(cb, 1, &iov);
    nng_stream_recv(p.srv, cb);
    nng_aio_stop(cb);
    printf("tcp aio_stop on pending recv: result %d (%s), callbacks %d\n", nng_aio_result(cb),
           nng_strerror(nng_aio_result(cb)), st.calls);
    nng_stream_recv(p.srv, cb);
    nng_aio_wait(cb);
    printf("tcp recv on stopped aio: result %d (%s), callbacks %d\n", nng_aio_result(cb),
           nng_strerror(nng_aio_result(cb)), st.calls);
    nng_aio_free(cb);

    /* The send side: fill both socket buffers until a send times out. */
    size_t chunk = 1 << 20;
    uint8_t* big = calloc(1, chunk);
    nng_iov biov = {big, chunk};
    nng_aio_set_iov(a, 1, &biov);
    nng_aio_set_timeout(a, 200);
    int rv = 0;
    int sends = 0;
    while (sends < 1000) {
        nng_stream_send(p.cli, a);
        nng_aio_wait(a);
        rv = nng_aio_result(a);
        if (rv != 0) {
            break;
        }
        sends++;
    }
    expect("tcp send timeout once buffers are full", rv, NNG_ETIMEDOUT);
    yesno("tcp sends succeeded before the timeout", sends > 0);
    free(big);
    nng_aio_free(a);
    close_pair(&p);
}

static void check_close(void) {
    struct pair p;
    open_pair(&p, "tcp", "127.0.0.1");
    nng_aio* a = new_aio();
    char buf[16];
    nng_iov iov = {buf, sizeof buf};
    nng_aio_set_iov(a, 1, &iov);

    /* The peer goes away while a receive is pending. */
    nng_stream_recv(p.srv, a);
    nng_stream_free(p.cli);
    p.cli = NULL;
    nng_aio_wait(a);
    expect("tcp pending recv at peer close", nng_aio_result(a), NNG_ECONNSHUT);
    nng_stream_recv(p.srv, a);
    nng_aio_wait(a);
    show("tcp recv after peer close", nng_aio_result(a));

    /* Sending to a closed peer fails sooner or later. */
    int rv = 0;
    for (int i = 0; i < 200 && rv == 0; i++) {
        size_t n = 0;
        rv = xfer(p.srv, true, "x", 1, &n);
    }
    yesno("tcp send to closed peer eventually fails", rv != 0);
    close_pair(&p);

    /* Our own close: a pending receive and a later send and receive fail. */
    open_pair(&p, "tcp", "127.0.0.1");
    nng_stream_recv(p.cli, a);
    nng_stream_close(p.cli);
    nng_aio_wait(a);
    expect("tcp pending recv at close", nng_aio_result(a), NNG_ECLOSED);
    /* NNG 1.5.2 queues operations started after close and never serves
     * them (only the aio's timeout ends them); nng-http fails them with
     * NNG_ECLOSED at once.  Both fail, which is what is compared here; the
     * unit tests check nng-http's code. */
    nng_aio_set_timeout(a, 200);
    nng_stream_recv(p.cli, a);
    nng_aio_wait(a);
    yesno("tcp recv after close fails", nng_aio_result(a) != 0);
    nng_stream_send(p.cli, a);
    nng_aio_wait(a);
    yesno("tcp send after close fails", nng_aio_result(a) != 0);
    nng_aio_set_timeout(a, WAIT_MS);
    nng_stream_close(p.cli); /* twice is harmless */
    /* (Options after close: the man page says NNG_ECLOSED, as nng-http
     * does; NNG 1.5.2 still answers.  Checked in the unit tests only.) */

    /* The other side sees the close as a shutdown. */
    nng_stream_recv(p.srv, a);
    nng_aio_wait(a);
    expect("tcp peer recv after close", nng_aio_result(a), NNG_ECONNSHUT);
    nng_aio_free(a);
    close_pair(&p);
}

static void show_addr(const char* what, int rv, const nng_sockaddr* sa) {
    if (rv != 0) {
        show(what, rv);
        return;
    }
    const char* fam = "other";
    bool loop = false;
    switch (sa->s_family) {
    case NNG_AF_INET:
        fam = "inet";
        loop = ((const uint8_t*)&sa->s_in.sa_addr)[0] == 127;
        break;
    case NNG_AF_INET6: {
        static const uint8_t one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        fam = "inet6";
        loop = memcmp(sa->s_in6.sa_addr, one, 16) == 0;
        break;
    }
    case NNG_AF_UNSPEC:
        fam = "unspec";
        break;
    default:
        break;
    }
    printf("%s: 0 %s%s\n", what, fam, loop ? " loopback" : "");
}

static void check_stream_options(nng_stream* s, const char* who) {
    char what[128];
    nng_sockaddr sa;
    int rv = nng_stream_get_addr(s, NNG_OPT_LOCADDR, &sa);
    snprintf(what, sizeof what, "tcp %s local address", who);
    show_addr(what, rv, &sa);
    rv = nng_stream_get_addr(s, NNG_OPT_REMADDR, &sa);
    snprintf(what, sizeof what, "tcp %s remote address", who);
    show_addr(what, rv, &sa);

    nng_sockaddr lo, rem;
    size_t sz = sizeof lo;
    rv = nng_stream_get(s, NNG_OPT_LOCADDR, &lo, &sz);
    printf("tcp %s untyped local address: %d size ok %s\n", who, rv,
           sz == sizeof(nng_sockaddr) ? "yes" : "no");
    rv = nng_stream_get_addr(s, NNG_OPT_REMADDR, &rem);
    (void)rem;
    snprintf(what, sizeof what, "tcp %s set remote address", who);
    expect(what, nng_stream_set_addr(s, NNG_OPT_REMADDR, &lo), NNG_EREADONLY);
    snprintf(what, sizeof what, "tcp %s set local address", who);
    expect(what, nng_stream_set_addr(s, NNG_OPT_LOCADDR, &lo), NNG_EREADONLY);
    snprintf(what, sizeof what, "tcp %s get local address as int", who);
    int iv = 0;
    expect(what, nng_stream_get_int(s, NNG_OPT_LOCADDR, &iv), NNG_EBADTYPE);

    const char* const flags[] = {NNG_OPT_TCP_NODELAY, NNG_OPT_TCP_KEEPALIVE};
    for (int f = 0; f < 2; f++) {
        bool b = false;
        rv = nng_stream_get_bool(s, flags[f], &b);
        printf("tcp %s get %s: %d %s\n", who, flags[f], rv, b ? "true" : "false");
        rv = nng_stream_set_bool(s, flags[f], !b);
        bool b2 = b;
        int rv2 = nng_stream_get_bool(s, flags[f], &b2);
        printf("tcp %s set %s to %s: %d, now %d %s\n", who, flags[f], !b ? "true" : "false", rv,
               rv2, b2 ? "true" : "false");
        rv = nng_stream_set_bool(s, flags[f], b);
        printf("tcp %s restore %s: %d\n", who, flags[f], rv);

        snprintf(what, sizeof what, "tcp %s get %s as int", who, flags[f]);
        expect(what, nng_stream_get_int(s, flags[f], &iv), NNG_EBADTYPE);
        snprintf(what, sizeof what, "tcp %s set %s as int", who, flags[f]);
        expect(what, nng_stream_set_int(s, flags[f], 1), NNG_EBADTYPE);
        nng_duration ms = 0;
        snprintf(what, sizeof what, "tcp %s get %s as ms", who, flags[f]);
        expect(what, nng_stream_get_ms(s, flags[f], &ms), NNG_EBADTYPE);
        int one = 1;
        snprintf(what, sizeof what, "tcp %s set %s with int size", who, flags[f]);
        expect(what, nng_stream_set(s, flags[f], &one, sizeof one), NNG_EINVAL);
        bool bt = true;
        snprintf(what, sizeof what, "tcp %s set %s untyped bool", who, flags[f]);
        show(what, nng_stream_set(s, flags[f], &bt, sizeof bt));
        nng_stream_set_bool(s, flags[f], b);
        bool ub = !b;
        sz = sizeof ub;
        rv = nng_stream_get(s, flags[f], &ub, &sz);
        printf("tcp %s get %s untyped: %d size %zu %s\n", who, flags[f], rv, sz,
               ub ? "true" : "false");
        char small = 0;
        sz = 0;
        rv = nng_stream_get(s, flags[f], &small, &sz);
        printf("tcp %s get %s untyped into 0 bytes: %d size %zu\n", who, flags[f], rv, sz);
    }

    snprintf(what, sizeof what, "tcp %s get bound port", who);
    show(what, nng_stream_get_int(s, NNG_OPT_TCP_BOUND_PORT, &iv));
    char* str = NULL;
    snprintf(what, sizeof what, "tcp %s get url", who);
    rv = nng_stream_get_string(s, NNG_OPT_URL, &str);
    show(what, rv);
    if (rv == 0) {
        nng_strfree(str);
    }
    snprintf(what, sizeof what, "tcp %s get unknown option", who);
    expect(what, nng_stream_get_int(s, "no-such-option", &iv), NNG_ENOTSUP);
    snprintf(what, sizeof what, "tcp %s set unknown option", who);
    expect(what, nng_stream_set_int(s, "no-such-option", 1), NNG_ENOTSUP);
    snprintf(what, sizeof what, "tcp %s get ipc peer pid", who);
    uint64_t u64 = 0;
    show(what, nng_stream_get_uint64(s, NNG_OPT_IPC_PEER_PID, &u64));
    snprintf(what, sizeof what, "tcp %s get recv timeout", who);
    nng_duration ms = 0;
    show(what, nng_stream_get_ms(s, NNG_OPT_RECVTIMEO, &ms));
}

static void check_endpoint_options(void) {
    nng_stream_listener* l = NULL;
    nng_stream_dialer* d = NULL;
    int rv = nng_stream_listener_alloc(&l, "tcp://127.0.0.1:0");
    expect("tcp listener alloc for options", rv, 0);
    nng_sockaddr sa;
    show_addr("tcp listener local address before listen",
              nng_stream_listener_get_addr(l, NNG_OPT_LOCADDR, &sa), &sa);
    expect("tcp listener set local address", nng_stream_listener_set_addr(l, NNG_OPT_LOCADDR, &sa),
           NNG_EREADONLY);
    expect("tcp listener listen", nng_stream_listener_listen(l), 0);
    rv = nng_stream_listener_get_addr(l, NNG_OPT_LOCADDR, &sa);
    show_addr("tcp listener local address", rv, &sa);
    if (rv == 0) {
        int port = bound_port(l);
        yesno("tcp listener local address has the bound port",
              sa.s_family == NNG_AF_INET && port > 0 &&
                  ((const uint8_t*)&sa.s_in.sa_port)[0] == (port >> 8) &&
                  ((const uint8_t*)&sa.s_in.sa_port)[1] == (port & 0xff));
    }
    int iv = 0;
    bool b = false;
    uint64_t u64 = 0;
    expect("tcp listener bound port as bool",
           nng_stream_listener_get_bool(l, NNG_OPT_TCP_BOUND_PORT, &b), NNG_EBADTYPE);
    show("tcp listener bound port as uint64",
         nng_stream_listener_get_uint64(l, NNG_OPT_TCP_BOUND_PORT, &u64));
    size_t sz = sizeof iv;
    rv = nng_stream_listener_get(l, NNG_OPT_TCP_BOUND_PORT, &iv, &sz);
    printf("tcp listener bound port untyped: %d size %zu nonzero %s\n", rv, sz,
           iv > 0 ? "yes" : "no");
    char* str = NULL;
    rv = nng_stream_listener_get_string(l, NNG_OPT_URL, &str);
    show("tcp listener get url", rv);
    if (rv == 0) {
        nng_strfree(str);
    }
    expect("tcp listener get unknown", nng_stream_listener_get_int(l, "no-such-option", &iv),
           NNG_ENOTSUP);
    expect("tcp listener set unknown", nng_stream_listener_set_int(l, "no-such-option", 1),
           NNG_ENOTSUP);
    show("tcp listener get remote address", nng_stream_listener_get_addr(l, NNG_OPT_REMADDR, &sa));
    show("tcp listener set ipc permissions",
         nng_stream_listener_set_int(l, NNG_OPT_IPC_PERMISSIONS, 0600));

    rv = nng_stream_dialer_alloc(&d, "tcp://127.0.0.1:1");
    expect("tcp dialer alloc for options", rv, 0);
    show("tcp dialer bound port", nng_stream_dialer_get_int(d, NNG_OPT_TCP_BOUND_PORT, &iv));
    rv = nng_stream_dialer_get_string(d, NNG_OPT_URL, &str);
    show("tcp dialer get url", rv);
    if (rv == 0) {
        nng_strfree(str);
    }
    rv = nng_stream_dialer_get_addr(d, NNG_OPT_LOCADDR, &sa);
    printf("tcp dialer local address default: %d family %d\n", rv, rv == 0 ? sa.s_family : -1);
    show("tcp dialer get remote address", nng_stream_dialer_get_addr(d, NNG_OPT_REMADDR, &sa));
    expect("tcp dialer get unknown", nng_stream_dialer_get_int(d, "no-such-option", &iv),
           NNG_ENOTSUP);
    nng_sockaddr bad;
    memset(&bad, 0, sizeof bad);
    bad.s_ipc.sa_family = NNG_AF_IPC;
    strcpy(bad.s_ipc.sa_path, "/tmp/nowhere");
    show("tcp dialer set ipc local address", nng_stream_dialer_set_addr(d, NNG_OPT_LOCADDR, &bad));
    expect("tcp dialer set local address as int", nng_stream_dialer_set_int(d, NNG_OPT_LOCADDR, 1),
           NNG_EBADTYPE);
    nng_stream_dialer_free(d);
    d = NULL;

    /* Listener and dialer settings pass to the streams they make. */
    const char* const flags[] = {NNG_OPT_TCP_NODELAY, NNG_OPT_TCP_KEEPALIVE};
    for (int f = 0; f < 2; f++) {
        rv = nng_stream_listener_get_bool(l, flags[f], &b);
        printf("tcp listener get %s: %d\n", flags[f], rv);
        printf("tcp listener get %s as int: %d\n", flags[f],
               nng_stream_listener_get_int(l, flags[f], &iv));
        printf("tcp listener set %s as int: %d\n", flags[f],
               nng_stream_listener_set_int(l, flags[f], 1));
        printf("tcp listener set %s with int size: %d\n", flags[f],
               nng_stream_listener_set(l, flags[f], &iv, sizeof iv));
        printf("tcp listener set %s false: %d\n", flags[f],
               nng_stream_listener_set_bool(l, flags[f], false));
        rv = nng_stream_listener_get_bool(l, flags[f], &b);
        printf("tcp listener get %s: %d %s\n", flags[f], rv, b ? "true" : "false");
        printf("tcp listener set %s true: %d\n", flags[f],
               nng_stream_listener_set_bool(l, flags[f], true));
        rv = nng_stream_listener_get_bool(l, flags[f], &b);
        printf("tcp listener get %s: %d %s\n", flags[f], rv, b ? "true" : "false");
    }
    char url[64];
    dial_url(url, sizeof url, "tcp", "127.0.0.1", l);
    rv = nng_stream_dialer_alloc(&d, url);
    for (int f = 0; f < 2 && rv == 0; f++) {
        rv = nng_stream_dialer_get_bool(d, flags[f], &b);
        printf("tcp dialer get %s: %d\n", flags[f], rv);
        printf("tcp dialer get %s as int: %d\n", flags[f],
               nng_stream_dialer_get_int(d, flags[f], &iv));
        printf("tcp dialer set %s with int size: %d\n", flags[f],
               nng_stream_dialer_set(d, flags[f], &iv, sizeof iv));
        printf("tcp dialer set %s false: %d\n", flags[f],
               nng_stream_dialer_set_bool(d, flags[f], false));
        rv = nng_stream_dialer_get_bool(d, flags[f], &b);
        printf("tcp dialer get %s: %d %s\n", flags[f], rv, b ? "true" : "false");
        printf("tcp dialer set %s true: %d\n", flags[f],
               nng_stream_dialer_set_bool(d, flags[f], true));
        rv = nng_stream_dialer_get_bool(d, flags[f], &b);
        printf("tcp dialer get %s: %d %s\n", flags[f], rv, b ? "true" : "false");
    }
    /* Bind the dialer to 127.0.0.1, any port. */
    memset(&sa, 0, sizeof sa);
    sa.s_in.sa_family = NNG_AF_INET;
    ((uint8_t*)&sa.s_in.sa_addr)[0] = 127;
    ((uint8_t*)&sa.s_in.sa_addr)[3] = 1;
    show("tcp dialer set local address", nng_stream_dialer_set_addr(d, NNG_OPT_LOCADDR, &sa));
    nng_sockaddr back;
    rv = nng_stream_dialer_get_addr(d, NNG_OPT_LOCADDR, &back);
    show_addr("tcp dialer local address", rv, &back);

    nng_stream *srv = NULL, *cli = NULL;
    rv = connect_pair(l, d, &srv, &cli);
    expect("tcp connect with options", rv, 0);
    if (rv == 0) {
        for (int f = 0; f < 2; f++) {
            bool bs = false, bc = false;
            int r1 = nng_stream_get_bool(srv, flags[f], &bs);
            int r2 = nng_stream_get_bool(cli, flags[f], &bc);
            printf("tcp inherited %s: accepted %d %s, dialed %d %s\n", flags[f], r1,
                   bs ? "true" : "false", r2, bc ? "true" : "false");
        }
        check_stream_options(srv, "accepted");
        check_stream_options(cli, "dialed");
    }
    nng_stream_free(srv);
    nng_stream_free(cli);
    nng_stream_dialer_free(d);
    nng_stream_listener_free(l);
}

static void check_families(void) {
    static const char* const cases[][2] = {
        {"tcp4", "127.0.0.1"},
        {"tcp6", "[::1]"},
        {"tcp", "[::1]"},
    };
    for (int i = 0; i < 3; i++) {
        struct pair p;
        open_pair(&p, cases[i][0], cases[i][1]);
        char what[96];
        nng_sockaddr sa;
        snprintf(what, sizeof what, "%s %s listener address", cases[i][0], cases[i][1]);
        show_addr(what, nng_stream_listener_get_addr(p.l, NNG_OPT_LOCADDR, &sa), &sa);
        snprintf(what, sizeof what, "%s %s accepted remote address", cases[i][0], cases[i][1]);
        show_addr(what, nng_stream_get_addr(p.srv, NNG_OPT_REMADDR, &sa), &sa);
        snprintf(what, sizeof what, "%s %s dialed local address", cases[i][0], cases[i][1]);
        show_addr(what, nng_stream_get_addr(p.cli, NNG_OPT_LOCADDR, &sa), &sa);
        char buf[8] = {0};
        int rv = xfer_all(p.cli, true, "ping", 4);
        if (rv == 0) {
            rv = xfer_all(p.srv, false, buf, 4);
        }
        printf("%s %s transfer: %d \"%s\"\n", cases[i][0], cases[i][1], rv, buf);
        close_pair(&p);
    }
    /* A tcp6 dialer cannot reach an IPv4 listener's address. */
    nng_stream_listener* l = listen_on("tcp4://127.0.0.1:0");
    char url[64];
    dial_url(url, sizeof url, "tcp6", "127.0.0.1", l);
    nng_stream_dialer* d = NULL;
    int rv = nng_stream_dialer_alloc(&d, url);
    show("tcp6 dialer alloc for an IPv4 literal", rv);
    if (rv == 0) {
        nng_aio* a = new_aio();
        nng_stream_dialer_dial(d, a);
        nng_aio_wait(a);
        /* NNG 1.5.2 gives NNG_ESYSERR + EAI_ADDRFAMILY (a negative
         * number), nng-http NNG_EADDRINVAL: docs/compat.md. */
        printf("tcp6 dial to an IPv4 literal fails: %s\n", nng_aio_result(a) != 0 ? "yes" : "no");
        nng_stream* s = nng_aio_result(a) == 0 ? nng_aio_get_output(a, 0) : NULL;
        nng_stream_free(s);
        nng_aio_free(a);
    }
    nng_stream_dialer_free(d);
    nng_stream_listener_free(l);
}

int main(void) {
    check_alloc();
    check_listener_states();
    check_dialer_states();
    check_defaults();
    check_echo();
    check_outstanding();
    check_timeouts_and_cancel();
    check_close();
    check_endpoint_options();
    check_families();
    printf("tcp failures: %d\n", failures);
    return failures == 0 ? 0 : 1;
}
