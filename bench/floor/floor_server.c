/* bench/floor/floor_server.c: the least a server can do per keep-alive
 * request on this machine, as a yardstick for bench/server's CPU figures.
 * Not an HTTP server: it answers every "\r\n\r\n"-terminated head it reads
 * with one fixed 13-byte response, on one thread, with no timeouts, no
 * parsing, no limits.  Two ways of doing I/O:
 *
 *   floor_server epoll PORT   edge-triggered epoll, one recv and one send
 *                             per request (what nginx does, minus nginx);
 *   floor_server uring PORT   io_uring (liburing): receives and sends are
 *                             queued and submitted together, one
 *                             io_uring_enter per loop turn for all of them.
 *
 * Prints "listening on PORT" when ready; runs until killed.  See
 * bench/floor/run.sh, which compares both with nginx and nng-http. */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                             "Content-Length: 13\r\n\r\nHello, world!";
#define BUF 4096
#define MAXFD 65536

struct conn {
    char buf[BUF];
    size_t len;
};
static struct conn* conns[MAXFD];

static int listen_on(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr*)&sa, sizeof sa) != 0 || listen(fd, 4096) != 0) {
        perror("bind/listen");
        exit(1);
    }
    socklen_t len = sizeof sa;
    getsockname(fd, (struct sockaddr*)&sa, &len);
    printf("listening on %d\n", ntohs(sa.sin_port));
    fflush(stdout);
    return fd;
}

/* Consumes complete heads from c's buffer; returns how many. */
static int heads(struct conn* c) {
    int n = 0;
    char* end;
    while ((end = memmem(c->buf, c->len, "\r\n\r\n", 4)) != NULL) {
        size_t used = (size_t)(end - c->buf) + 4;
        memmove(c->buf, c->buf + used, c->len - used);
        c->len -= used;
        n++;
    }
    return n;
}

static void run_epoll(int lfd) {
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == lfd) {
                int c;
                while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (c >= MAXFD) {
                        close(c);
                        continue;
                    }
                    conns[c] = calloc(1, sizeof(struct conn));
                    struct epoll_event ce = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                }
                continue;
            }
            struct conn* c = conns[fd];
            ssize_t r = recv(fd, c->buf + c->len, BUF - c->len, 0);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN) {
                    continue;
                }
                close(fd);
                free(c);
                conns[fd] = NULL;
                continue;
            }
            c->len += (size_t)r;
            for (int k = heads(c); k > 0; k--) {
                (void)send(fd, answer, sizeof answer - 1, MSG_NOSIGNAL);
            }
        }
    }
}

enum { OP_ACCEPT = 1, OP_RECV = 2, OP_SEND = 3 };
#define UD(op, fd) (((unsigned long long)(op) << 32) | (unsigned)(fd))

static void queue_recv(struct io_uring* ring, int fd) {
    struct io_uring_sqe* sqe = io_uring_get_sqe(ring);
    if (sqe == NULL) {
        io_uring_submit(ring);
        sqe = io_uring_get_sqe(ring);
    }
    struct conn* c = conns[fd];
    io_uring_prep_recv(sqe, fd, c->buf + c->len, BUF - c->len, 0);
    io_uring_sqe_set_data64(sqe, UD(OP_RECV, fd));
}

static void run_uring(int lfd) {
    struct io_uring ring;
    struct io_uring_params p = {0};
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    if (io_uring_queue_init_params(4096, &ring, &p) != 0) {
        memset(&p, 0, sizeof p);
        if (io_uring_queue_init_params(4096, &ring, &p) != 0) {
            perror("io_uring");
            exit(1);
        }
    }
    struct io_uring_sqe* sqe = io_uring_get_sqe(&ring);
    io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, 0);
    io_uring_sqe_set_data64(sqe, UD(OP_ACCEPT, lfd));
    for (;;) {
        io_uring_submit_and_wait(&ring, 1);
        struct io_uring_cqe* cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            seen++;
            int op = (int)(cqe->user_data >> 32);
            int fd = (int)(cqe->user_data & 0xffffffffu);
            if (op == OP_ACCEPT) {
                int c = cqe->res;
                if (!(cqe->flags & IORING_CQE_F_MORE)) { /* re-arm */
                    struct io_uring_sqe* s = io_uring_get_sqe(&ring);
                    io_uring_prep_multishot_accept(s, lfd, NULL, NULL, 0);
                    io_uring_sqe_set_data64(s, UD(OP_ACCEPT, lfd));
                }
                if (c < 0 || c >= MAXFD) {
                    if (c >= 0) {
                        close(c);
                    }
                    continue;
                }
                conns[c] = calloc(1, sizeof(struct conn));
                queue_recv(&ring, c);
            } else if (op == OP_RECV) {
                struct conn* c = conns[fd];
                if (cqe->res <= 0) {
                    close(fd);
                    free(c);
                    conns[fd] = NULL;
                    continue;
                }
                c->len += (size_t)cqe->res;
                for (int k = heads(c); k > 0; k--) {
                    struct io_uring_sqe* s = io_uring_get_sqe(&ring);
                    if (s == NULL) {
                        io_uring_submit(&ring);
                        s = io_uring_get_sqe(&ring);
                    }
                    io_uring_prep_send(s, fd, answer, sizeof answer - 1, MSG_NOSIGNAL);
                    io_uring_sqe_set_data64(s, UD(OP_SEND, fd));
                }
                queue_recv(&ring, fd);
            }
            /* OP_SEND: 13-byte answers always go whole on loopback. */
        }
        io_uring_cq_advance(&ring, seen);
    }
}

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: floor_server epoll|uring PORT\n");
        return 2;
    }
    int lfd = listen_on(atoi(argv[2]));
    if (strcmp(argv[1], "uring") == 0) {
        run_uring(lfd);
    } else {
        run_epoll(lfd);
    }
    return 0;
}
