/* bench/ws/floor_echo.c: the least an echo server can do on this machine, as
 * the floor under bench/ws/run.sh's WebSocket servers.  One thread, epoll
 * (level-triggered), non-blocking sockets with TCP_NODELAY, no timeouts.
 *
 *   floor_echo raw PORT   a byte echo: whatever one recv(2) returns (up to
 *                         64 KiB) goes back with one send(2) (wsload --raw
 *                         loads it): what the system calls cost, with no
 *                         framing at all.
 *   floor_echo ws PORT    a minimal WebSocket echo: reads the opening
 *                         handshake up to its blank line, answers 101 with
 *                         the Sec-WebSocket-Accept of its key (no other
 *                         check), then, per frame: waits until the whole
 *                         frame is in the connection's buffer, unmasks the
 *                         payload in place, moves the header over the mask
 *                         key so that header and payload are contiguous, and
 *                         sends the frame back with one send(2).  Frames are
 *                         echoed one by one with their own FIN and opcode
 *                         (which keeps messages, fragmented or not, intact);
 *                         a ping is answered as a pong, a pong is dropped, a
 *                         close is echoed and the connection closed.  Frames
 *                         up to 2 MiB; an unmasked or larger one closes the
 *                         connection.
 *
 * Each connection has one buffer for input and output alike; while an echo
 * is still being sent the connection reads nothing (a closed-loop client
 * sends nothing then either).  The buffer is allocated at the first read and
 * freed once the handshake is consumed, so an idle WebSocket costs this
 * process only its small struct.  Prints "listening on PORT"; runs until
 * SIGTERM or SIGINT, then exits 0. */
#define _GNU_SOURCE
#include "ws_accept.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FRAME ((size_t)2 << 20)
#define FIRST_BUF ((size_t)64 << 10)
#define HS_BUF ((size_t)8 << 10)

struct conn {
    int fd;
    int ws;          /* WebSocket mode */
    int handshaken;  /* WebSocket: the 101 has been sent */
    int close_after; /* close once the pending output is sent */
    int writing;     /* output pending: EPOLLOUT registered, EPOLLIN not */
    unsigned char* buf;
    size_t cap, rd, wr;      /* unread input is buf[rd, wr) */
    size_t out_off, out_len; /* pending output in buf */
    size_t after_out;        /* rd once the output is sent */
};

static int ep;
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static void conn_close(struct conn* c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->buf);
    free(c);
}

static void set_writing(struct conn* c, int writing) {
    struct epoll_event ev = {.events = writing ? EPOLLOUT : EPOLLIN, .data.ptr = c};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->writing = writing;
}

/* Room for `need` bytes from rd on; returns 0, or -1 when out of memory. */
static int reserve(struct conn* c, size_t need) {
    if (c->buf != NULL && c->cap - c->rd >= need) {
        return 0;
    }
    if (c->buf != NULL && c->cap >= need) {
        memmove(c->buf, c->buf + c->rd, c->wr - c->rd);
        c->wr -= c->rd;
        c->rd = 0;
        return 0;
    }
    size_t cap = c->cap ? c->cap : FIRST_BUF;
    while (cap < need) {
        cap *= 2;
    }
    if (c->rd > 0) {
        memmove(c->buf, c->buf + c->rd, c->wr - c->rd);
        c->wr -= c->rd;
        c->rd = 0;
    }
    unsigned char* b = realloc(c->buf, cap);
    if (b == NULL) {
        return -1;
    }
    c->buf = b;
    c->cap = cap;
    return 0;
}

/* Sends the pending output; 1 = all sent, 0 = socket full, -1 = error. */
static int flush_out(struct conn* c) {
    while (c->out_len > 0) {
        ssize_t n = send(c->fd, c->buf + c->out_off, c->out_len, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            c->out_len -= (size_t)n;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->writing) {
                set_writing(c, 1);
            }
            return 0;
        } else {
            return -1;
        }
    }
    c->rd = c->after_out;
    if (c->rd == c->wr) {
        c->rd = c->wr = 0;
    }
    if (c->writing) {
        set_writing(c, 0);
    }
    return 1;
}

static void unmask(unsigned char* p, size_t n, const unsigned char key[4]) {
    uint32_t k32;
    uint64_t k64;
    size_t i = 0;
    memcpy(&k32, key, 4);
    k64 = ((uint64_t)k32 << 32) | k32;
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        v ^= k64;
        memcpy(p + i, &v, 8);
    }
    for (; i < n; i++) {
        p[i] ^= key[i & 3];
    }
}

/* The handshake: 1 = answered, 0 = need more, -1 = close. */
static int handshake(struct conn* c) {
    unsigned char* end = memmem(c->buf + c->rd, c->wr - c->rd, "\r\n\r\n", 4);
    if (end == NULL) {
        return c->wr - c->rd >= HS_BUF - 1 ? -1 : 0;
    }
    *end = '\0'; /* the head as a C string; the blank line is not needed */
    char* key = strcasestr((char*)c->buf + c->rd, "\r\nSec-WebSocket-Key:");
    if (key == NULL) {
        return -1;
    }
    key += 20;
    while (*key == ' ' || *key == '\t') {
        key++;
    }
    size_t klen = strcspn(key, " \t\r");
    char accept[29];
    if (wsb_accept(key, klen, accept) != 0) {
        return -1;
    }
    char res[160];
    int n = snprintf(res, sizeof res,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
                     accept);
    /* A fresh socket's send buffer always takes this much at once. */
    if (send(c->fd, res, (size_t)n, MSG_NOSIGNAL) != n) {
        return -1;
    }
    c->handshaken = 1;
    c->rd = (size_t)(end - c->buf) + 4;
    if (c->rd == c->wr) {
        free(c->buf);
        c->buf = NULL;
        c->cap = c->rd = c->wr = 0;
    }
    return 1;
}

/* Echoes every complete frame in the buffer, until one cannot be sent at
 * once.  0 = fine, -1 = close. */
static int frames(struct conn* c) {
    while (!c->writing && c->wr - c->rd >= 2) {
        unsigned char* h = c->buf + c->rd;
        size_t avail = c->wr - c->rd;
        size_t l7 = h[1] & 0x7f;
        size_t ext = l7 == 126 ? 2 : l7 == 127 ? 8 : 0;
        size_t hlen = 2 + ext + 4;
        if (!(h[1] & 0x80)) {
            return -1; /* a client must mask */
        }
        if (avail < hlen) {
            return reserve(c, hlen);
        }
        uint64_t len = l7;
        if (l7 == 126) {
            len = ((uint64_t)h[2] << 8) | h[3];
        } else if (l7 == 127) {
            len = 0;
            for (int i = 0; i < 8; i++) {
                len = (len << 8) | h[2 + i];
            }
        }
        if (len > MAX_FRAME) {
            return -1;
        }
        size_t total = hlen + (size_t)len;
        if (avail < total) {
            return reserve(c, total);
        }
        unsigned op = h[0] & 0x0f;
        unmask(h + hlen, (size_t)len, h + hlen - 4);
        c->after_out = c->rd + total;
        if (op == 0xA) { /* pong: nothing to answer */
            c->rd = c->after_out;
            continue;
        }
        /* The header without its mask key, moved up against the payload. */
        memmove(h + 4, h, hlen - 4);
        h[4 + 1] &= 0x7f;
        if (op == 0x9) {
            h[4] = (unsigned char)((h[4] & 0xf0) | 0xA);
        }
        c->out_off = c->rd + 4;
        c->out_len = total - 4;
        if (op == 0x8) {
            c->close_after = 1;
        }
        int rv = flush_out(c);
        if (rv < 0) {
            return -1;
        }
        if (rv == 1 && c->close_after) {
            return -1;
        }
    }
    if (!c->writing && c->rd == c->wr) {
        c->rd = c->wr = 0;
    }
    return 0;
}

/* Input is readable; returns -1 to close. */
static int on_input(struct conn* c) {
    for (int round = 0; round < 16; round++) {
        if (c->ws && !c->handshaken) {
            if (c->buf == NULL) {
                c->buf = malloc(HS_BUF);
                if (c->buf == NULL) {
                    return -1;
                }
                c->cap = HS_BUF;
            }
        } else if (reserve(c, (c->wr - c->rd) + 1) != 0) {
            return -1;
        }
        size_t room = c->cap - c->wr;
        if (c->ws && !c->handshaken) {
            room -= 1; /* keep a byte for the NUL of the head */
        }
        ssize_t n = recv(c->fd, c->buf + c->wr, room, 0);
        if (n == 0) {
            return -1;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
        }
        c->wr += (size_t)n;
        if (!c->ws) {
            c->out_off = c->rd;
            c->out_len = c->wr - c->rd;
            c->after_out = c->wr;
            if (flush_out(c) < 0) {
                return -1;
            }
        } else {
            if (!c->handshaken) {
                int rv = handshake(c);
                if (rv <= 0) {
                    return rv;
                }
            }
            if (c->handshaken && frames(c) != 0) {
                return -1;
            }
        }
        /* A short read emptied the socket; epoll reports more. */
        if (c->writing || (size_t)n < room) {
            return 0;
        }
    }
    return 0;
}

static void on_output(struct conn* c) {
    int rv = flush_out(c);
    if (rv < 0 || (rv == 1 && c->close_after)) {
        conn_close(c);
        return;
    }
    if (rv == 1 && c->ws && frames(c) != 0) {
        conn_close(c);
    }
}

int main(int argc, char** argv) {
    if (argc != 3 || (strcmp(argv[1], "raw") != 0 && strcmp(argv[1], "ws") != 0)) {
        fprintf(stderr, "usage: floor_echo raw|ws PORT\n");
        return 2;
    }
    int ws = strcmp(argv[1], "ws") == 0;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr*)&sa, sizeof sa) != 0 || listen(lfd, 4096) != 0) {
        perror("floor_echo: bind/listen");
        return 1;
    }
    socklen_t slen = sizeof sa;
    getsockname(lfd, (struct sockaddr*)&sa, &slen);

    struct sigaction sig = {.sa_handler = on_signal};
    sigaction(SIGINT, &sig, NULL);
    sigaction(SIGTERM, &sig, NULL);
    signal(SIGPIPE, SIG_IGN);

    ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
    printf("listening on %d\n", ntohs(sa.sin_port));
    fflush(stdout);

    struct epoll_event evs[256];
    while (!stop_requested) {
        int n = epoll_wait(ep, evs, 256, 200);
        for (int i = 0; i < n; i++) {
            struct conn* c = evs[i].data.ptr;
            if (c == NULL) {
                for (int k = 0; k < 64; k++) {
                    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) {
                        break;
                    }
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
                    struct conn* nc = calloc(1, sizeof *nc);
                    if (nc == NULL) {
                        close(fd);
                        continue;
                    }
                    nc->fd = fd;
                    nc->ws = ws;
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                }
                continue;
            }
            if (c->writing) {
                on_output(c);
            } else if (on_input(c) != 0) {
                conn_close(c);
            }
        }
    }
    return 0;
}
