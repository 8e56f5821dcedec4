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
 *   floor_server uringms PORT io_uring with one multishot receive per
 *                             connection into a ring of provided buffers
 *                             (armed once, not once per request) and the
 *                             ring's fd registered: the least io_uring
 *                             work per request this kernel offers.
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
#include <sys/mman.h>
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

enum { OP_ACCEPT = 1, OP_RECV = 2, OP_SEND = 3, OP_RECVMS = 4 };
#define UD(op, fd) (((unsigned long long)(op) << 32) | (unsigned)(fd))

static struct io_uring_sqe* get_sqe(struct io_uring* ring) {
    struct io_uring_sqe* sqe = io_uring_get_sqe(ring);
    if (sqe == NULL) {
        io_uring_submit(ring);
        sqe = io_uring_get_sqe(ring);
    }
    return sqe;
}

static void init_ring(struct io_uring* ring) {
    struct io_uring_params p = {0};
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    if (io_uring_queue_init_params(4096, ring, &p) != 0) {
        memset(&p, 0, sizeof p);
        if (io_uring_queue_init_params(4096, ring, &p) != 0) {
            perror("io_uring");
            exit(1);
        }
    }
}

static void arm_accept(struct io_uring* ring, int lfd) {
    struct io_uring_sqe* sqe = get_sqe(ring);
    io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, 0);
    io_uring_sqe_set_data64(sqe, UD(OP_ACCEPT, lfd));
}

/* An accept completion: re-arms the accept if it ended; returns the new
 * connection's fd with its conn allocated, or -1. */
static int on_accept(struct io_uring* ring, int lfd, const struct io_uring_cqe* cqe) {
    int c = cqe->res;
    if (!(cqe->flags & IORING_CQE_F_MORE)) {
        arm_accept(ring, lfd);
    }
    if (c < 0 || c >= MAXFD) {
        if (c >= 0) {
            close(c);
        }
        return -1;
    }
    conns[c] = calloc(1, sizeof(struct conn));
    return c;
}

/* Queues one answer per complete head in fd's buffer. */
static void queue_answers(struct io_uring* ring, int fd) {
    for (int k = heads(conns[fd]); k > 0; k--) {
        struct io_uring_sqe* s = get_sqe(ring);
        io_uring_prep_send(s, fd, answer, sizeof answer - 1, MSG_NOSIGNAL);
        io_uring_sqe_set_data64(s, UD(OP_SEND, fd));
    }
}

static void drop_conn(int fd) {
    close(fd);
    free(conns[fd]);
    conns[fd] = NULL;
}

static void queue_recv(struct io_uring* ring, int fd) {
    struct io_uring_sqe* sqe = get_sqe(ring);
    struct conn* c = conns[fd];
    io_uring_prep_recv(sqe, fd, c->buf + c->len, BUF - c->len, 0);
    io_uring_sqe_set_data64(sqe, UD(OP_RECV, fd));
}

static void run_uring(int lfd) {
    struct io_uring ring;
    init_ring(&ring);
    arm_accept(&ring, lfd);
    for (;;) {
        io_uring_submit_and_wait(&ring, 1);
        struct io_uring_cqe* cqe;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            seen++;
            int op = (int)(cqe->user_data >> 32);
            int fd = (int)(cqe->user_data & 0xffffffffu);
            if (op == OP_ACCEPT) {
                int c = on_accept(&ring, lfd, cqe);
                if (c >= 0) {
                    queue_recv(&ring, c);
                }
            } else if (op == OP_RECV) {
                if (cqe->res <= 0) {
                    drop_conn(fd);
                    continue;
                }
                conns[fd]->len += (size_t)cqe->res;
                queue_answers(&ring, fd);
                queue_recv(&ring, fd);
            }
            /* OP_SEND: 13-byte answers always go whole on loopback. */
        }
        io_uring_cq_advance(&ring, seen);
    }
}

#define BGID 1
#define NBUFS 1024 /* a power of two */
#define BUFSZ 2048

static void arm_recv_multishot(struct io_uring* ring, int fd) {
    struct io_uring_sqe* sqe = get_sqe(ring);
    io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = BGID;
    io_uring_sqe_set_data64(sqe, UD(OP_RECVMS, fd));
}

static void run_uring_multishot(int lfd) {
    struct io_uring ring;
    init_ring(&ring);
    io_uring_register_ring_fd(&ring);
    /* liburing 2.3 (Debian 12) has no io_uring_setup_buf_ring: map and
     * register the ring of buffer descriptors by hand. */
    struct io_uring_buf_ring* br = mmap(NULL, NBUFS * sizeof(struct io_uring_buf), PROT_READ | PROT_WRITE,
                                        MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (br == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    io_uring_buf_ring_init(br);
    struct io_uring_buf_reg reg = {.ring_addr = (unsigned long)br, .ring_entries = NBUFS, .bgid = BGID};
    int err = io_uring_register_buf_ring(&ring, &reg, 0);
    if (err != 0) {
        fprintf(stderr, "buf ring: %s\n", strerror(-err));
        exit(1);
    }
    static char pool[NBUFS][BUFSZ];
    for (int i = 0; i < NBUFS; i++) {
        io_uring_buf_ring_add(br, pool[i], BUFSZ, (unsigned short)i, io_uring_buf_ring_mask(NBUFS), i);
    }
    io_uring_buf_ring_advance(br, NBUFS);
    arm_accept(&ring, lfd);
    for (;;) {
        io_uring_submit_and_wait(&ring, 1);
        struct io_uring_cqe* cqe;
        unsigned head, seen = 0, returned = 0;
        io_uring_for_each_cqe(&ring, head, cqe) {
            seen++;
            int op = (int)(cqe->user_data >> 32);
            int fd = (int)(cqe->user_data & 0xffffffffu);
            if (op == OP_ACCEPT) {
                int c = on_accept(&ring, lfd, cqe);
                if (c >= 0) {
                    arm_recv_multishot(&ring, c);
                }
            } else if (op == OP_RECVMS) {
                struct conn* c = conns[fd];
                if (cqe->flags & IORING_CQE_F_BUFFER) {
                    /* Copy the bytes out and give the buffer back. */
                    unsigned id = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
                    if (cqe->res > 0 && c != NULL && c->len + (size_t)cqe->res <= BUF) {
                        memcpy(c->buf + c->len, pool[id], (size_t)cqe->res);
                        c->len += (size_t)cqe->res;
                    }
                    io_uring_buf_ring_add(br, pool[id], BUFSZ, (unsigned short)id,
                                          io_uring_buf_ring_mask(NBUFS), (int)returned);
                    returned++;
                }
                if (c == NULL) {
                    continue;
                }
                if (cqe->res <= 0 && cqe->res != -ENOBUFS) {
                    drop_conn(fd);
                    continue;
                }
                queue_answers(&ring, fd);
                if (!(cqe->flags & IORING_CQE_F_MORE)) {
                    arm_recv_multishot(&ring, fd);
                }
            }
        }
        io_uring_buf_ring_advance(br, (int)returned);
        io_uring_cq_advance(&ring, seen);
    }
}

int main(int argc, char** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: floor_server epoll|uring|uringms PORT\n");
        return 2;
    }
    int lfd = listen_on(atoi(argv[2]));
    if (strcmp(argv[1], "uringms") == 0) {
        run_uring_multishot(lfd);
    } else if (strcmp(argv[1], "uring") == 0) {
        run_uring(lfd);
    } else {
        run_epoll(lfd);
    }
    return 0;
}
