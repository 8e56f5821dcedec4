// bench/ws/wsload.cpp: the load generator of bench/ws/run.sh.
//
// Load mode (the default): opens N connections to ws://127.0.0.1:PORT/PATH,
// does the opening handshake (checking Sec-WebSocket-Accept), then runs a
// closed loop on each connection: send one masked binary message of S bytes,
// wait for the whole echo, check its length (and, on a sample, its bytes),
// send the next.  After every connection is open and a warm-up has passed,
// it counts the echoes completed during D seconds and prints one JSON line:
// messages per second, mean, p50, p99 and max round trip in microseconds,
// and, given the server's pid, the server's CPU time over exactly that
// window (utime + stime of /proc/PID/stat, all threads) and messages per
// server CPU-second.
//
// Idle mode (--idle K): opens K connections, finishes the handshakes,
// optionally echoes M messages on each (--idle-msgs), then holds them idle;
// given the server's pid it reads the server's VmRSS before the first
// connection and after the last (plus a short settling pause), prints one
// JSON line with the growth per connection, and keeps the connections open
// for --hold seconds more so that a runner can look for itself.
//
// Raw mode (--raw): no WebSocket at all; each message is S plain bytes and
// the echo the same S bytes: the machine's floor, against a byte echo server.
//
// Efficiency: epoll, level-triggered, non-blocking sockets, one thread by
// default (-t for more, each with its own epoll and a share of the
// connections).  The frames to send are built once: four payload variants
// with a mask key each, masked ahead of time, so a send is one send(2) of a
// ready buffer and the generator never masks in the loop (the key does not
// change per message as RFC 6455 wants of a browser; servers cannot tell and
// do the same unmasking work).  Echoes are read into one buffer per thread
// and compared as they stream in, never stored whole.
//
// Every wait is bounded: connecting and handshaking by --timeout, the run by
// warm-up + duration, idle holding by --hold, and an alarm ends the process
// if anything overruns by 30 s.  Only loopback addresses are accepted.
#include "ws_accept.h"

#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <string>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

// --- options -----------------------------------------------------------------
struct Options {
    std::string url;
    std::string host = "127.0.0.1";
    std::string path = "/";
    int port = 0;
    bool raw = false;
    int conns = 1;
    std::size_t size = 16;
    double duration = 3;
    double warmup = 0.5;
    int threads = 1;
    int frames = 1;
    unsigned check_every = 64;
    long idle = 0; // > 0: idle mode with this many connections
    unsigned idle_msgs = 0;
    double hold = 0;
    long pid = 0;
    double timeout = 10;
    std::string label;
};
Options opt;

[[noreturn]] void usage(int rc) {
    std::fprintf(rc == 0 ? stdout : stderr,
                 "usage: wsload [options] ws://127.0.0.1:PORT/PATH\n"
                 "       wsload --raw [options] tcp://127.0.0.1:PORT\n"
                 "  -c, --conns N        connections (default 1)\n"
                 "  -s, --size BYTES     message size (default 16; K and M suffixes)\n"
                 "  -d, --duration SEC   measured time (default 3)\n"
                 "  -w, --warmup SEC     time after the handshakes, not counted (default 0.5)\n"
                 "  -t, --threads N      threads (default 1)\n"
                 "      --frames N       send each message as N frames (default 1)\n"
                 "      --check-every N  compare the bytes of every Nth echo (default 64;\n"
                 "                       1: all; 0: none); each connection's first always\n"
                 "      --raw            plain bytes, no WebSocket (a byte echo server)\n"
                 "      --idle K         idle mode: K connections held open\n"
                 "      --idle-msgs M    idle mode: echo M messages on each first (default 0)\n"
                 "      --hold SEC       idle mode: keep them open SEC more after printing\n"
                 "      --pid PID        the server: its CPU time (load), VmRSS (idle)\n"
                 "      --timeout SEC    limit for connecting and handshakes (default 10)\n"
                 "      --label TEXT     copied into the JSON line\n");
    std::exit(rc);
}

[[noreturn]] void die(const char* fmt, const char* arg = "") {
    std::fprintf(stderr, "wsload: ");
    std::fprintf(stderr, fmt, arg);
    std::fprintf(stderr, "\n");
    std::exit(2);
}

std::size_t parse_size(const char* s) {
    char* end = nullptr;
    double v = std::strtod(s, &end);
    if (end == s || v < 0) {
        die("bad size: %s", s);
    }
    if (*end == 'k' || *end == 'K') {
        v *= 1024;
    } else if (*end == 'm' || *end == 'M') {
        v *= 1024 * 1024;
    } else if (*end != '\0') {
        die("bad size: %s", s);
    }
    return static_cast<std::size_t>(v);
}

void parse_url(const std::string& url) {
    std::string rest;
    if (url.rfind("ws://", 0) == 0) {
        rest = url.substr(5);
    } else if (url.rfind("tcp://", 0) == 0) {
        rest = url.substr(6);
        opt.raw = true;
    } else {
        die("the URL must start with ws:// (or tcp:// with --raw): %s", url.c_str());
    }
    std::size_t slash = rest.find('/');
    std::string hostport = rest.substr(0, slash);
    opt.path = slash == std::string::npos ? "/" : rest.substr(slash);
    std::size_t colon = hostport.rfind(':');
    if (colon == std::string::npos) {
        die("the URL needs a port: %s", url.c_str());
    }
    opt.host = hostport.substr(0, colon);
    opt.port = std::atoi(hostport.c_str() + colon + 1);
    if (opt.port <= 0 || opt.port > 65535) {
        die("bad port in %s", url.c_str());
    }
    if (opt.host == "localhost") {
        opt.host = "127.0.0.1";
    }
    in_addr a{};
    if (inet_pton(AF_INET, opt.host.c_str(), &a) != 1 || (ntohl(a.s_addr) >> 24) != 127) {
        die("only loopback IPv4 targets (127.0.0.0/8): %s", opt.host.c_str());
    }
}

void parse_args(int argc, char** argv) {
    enum {
        o_frames = 1000,
        o_check,
        o_raw,
        o_idle,
        o_idle_msgs,
        o_hold,
        o_pid,
        o_timeout,
        o_label
    };
    static const option longs[] = {{"conns", required_argument, nullptr, 'c'},
                                   {"size", required_argument, nullptr, 's'},
                                   {"duration", required_argument, nullptr, 'd'},
                                   {"warmup", required_argument, nullptr, 'w'},
                                   {"threads", required_argument, nullptr, 't'},
                                   {"frames", required_argument, nullptr, o_frames},
                                   {"check-every", required_argument, nullptr, o_check},
                                   {"raw", no_argument, nullptr, o_raw},
                                   {"idle", required_argument, nullptr, o_idle},
                                   {"idle-msgs", required_argument, nullptr, o_idle_msgs},
                                   {"hold", required_argument, nullptr, o_hold},
                                   {"pid", required_argument, nullptr, o_pid},
                                   {"timeout", required_argument, nullptr, o_timeout},
                                   {"label", required_argument, nullptr, o_label},
                                   {"help", no_argument, nullptr, 'h'},
                                   {nullptr, 0, nullptr, 0}};
    int ch;
    bool raw_flag = false;
    while ((ch = getopt_long(argc, argv, "c:s:d:w:t:h", longs, nullptr)) != -1) {
        switch (ch) {
        case 'c':
            opt.conns = std::atoi(optarg);
            break;
        case 's':
            opt.size = parse_size(optarg);
            break;
        case 'd':
            opt.duration = std::atof(optarg);
            break;
        case 'w':
            opt.warmup = std::atof(optarg);
            break;
        case 't':
            opt.threads = std::atoi(optarg);
            break;
        case o_frames:
            opt.frames = std::atoi(optarg);
            break;
        case o_check:
            opt.check_every = static_cast<unsigned>(std::atol(optarg));
            break;
        case o_raw:
            raw_flag = true;
            break;
        case o_idle:
            opt.idle = std::atol(optarg);
            break;
        case o_idle_msgs:
            opt.idle_msgs = static_cast<unsigned>(std::atol(optarg));
            break;
        case o_hold:
            opt.hold = std::atof(optarg);
            break;
        case o_pid:
            opt.pid = std::atol(optarg);
            break;
        case o_timeout:
            opt.timeout = std::atof(optarg);
            break;
        case o_label:
            opt.label = optarg;
            break;
        case 'h':
            usage(0);
        default:
            usage(2);
        }
    }
    if (optind != argc - 1) {
        usage(2);
    }
    opt.url = argv[optind];
    parse_url(opt.url);
    opt.raw = opt.raw || raw_flag;
    if (opt.idle > 0) {
        opt.conns = static_cast<int>(opt.idle);
    }
    if (opt.conns < 1 || opt.threads < 1 || opt.frames < 1 || opt.duration <= 0 || opt.warmup < 0 ||
        opt.timeout <= 0 || opt.hold < 0) {
        die("bad option value%s", "");
    }
    if (opt.size > (std::size_t{1} << 30)) {
        die("message size above 1 GiB%s", "");
    }
    if (opt.threads > opt.conns) {
        opt.threads = opt.conns;
    }
    if (opt.raw && opt.size == 0) {
        die("--raw needs a size above 0%s", "");
    }
    if (static_cast<std::size_t>(opt.frames) > opt.size && opt.size > 0) {
        opt.frames = static_cast<int>(opt.size);
    }
}

// --- clocks, /proc -----------------------------------------------------------
int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

void sleep_until(int64_t t) {
    for (int i = 0; i < 100000; i++) {
        int64_t d = t - now_ns();
        if (d <= 0) {
            return;
        }
        timespec ts{static_cast<time_t>(d / 1000000000), static_cast<long>(d % 1000000000)};
        nanosleep(&ts, nullptr);
    }
}

// utime + stime of a process, in clock ticks; -1 if it cannot be read.
long long proc_ticks(long pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE* f = std::fopen(path, "r");
    if (f == nullptr) {
        return -1;
    }
    char buf[1024];
    std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    // The command name (field 2) is in parentheses and may hold blanks.
    const char* p = std::strrchr(buf, ')');
    if (p == nullptr) {
        return -1;
    }
    p++;
    unsigned long long ut = 0, st = 0;
    // Fields 3..13 skipped, then 14 utime, 15 stime.
    if (std::sscanf(p, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) {
        return -1;
    }
    return static_cast<long long>(ut + st);
}

long proc_rss_kib(long pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%ld/status", pid);
    FILE* f = std::fopen(path, "r");
    if (f == nullptr) {
        return -1;
    }
    char line[256];
    long kib = -1;
    while (std::fgets(line, sizeof line, f) != nullptr) {
        if (std::strncmp(line, "VmRSS:", 6) == 0) {
            kib = std::atol(line + 6);
            break;
        }
    }
    std::fclose(f);
    return kib;
}

double cpu_seconds_self() {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

uint64_t xorshift(uint64_t& s) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

// --- round-trip histogram ----------------------------------------------------
// Log-linear buckets over nanoseconds: 64 per power of two (1.6 % wide).
class Histogram {
  public:
    static constexpr int sub_bits = 6;
    static constexpr int sub = 1 << sub_bits;
    Histogram() : counts_(static_cast<std::size_t>(sub) * 60, 0) {}

    void add(int64_t v_ns) {
        uint64_t v = v_ns < 0 ? 0 : static_cast<uint64_t>(v_ns);
        counts_[index(v)]++;
        n_++;
        sum_ += static_cast<double>(v);
        if (v > max_) {
            max_ = v;
        }
    }
    void merge(const Histogram& o) {
        for (std::size_t i = 0; i < counts_.size(); i++) {
            counts_[i] += o.counts_[i];
        }
        n_ += o.n_;
        sum_ += o.sum_;
        if (o.max_ > max_) {
            max_ = o.max_;
        }
    }
    uint64_t count() const { return n_; }
    double mean() const { return n_ ? sum_ / static_cast<double>(n_) : 0; }
    uint64_t max() const { return max_; }
    // The value at quantile q (0..1), as the middle of its bucket.
    double quantile(double q) const {
        if (n_ == 0) {
            return 0;
        }
        auto rank = static_cast<uint64_t>(q * static_cast<double>(n_));
        if (rank >= n_) {
            rank = n_ - 1;
        }
        uint64_t seen = 0;
        for (std::size_t i = 0; i < counts_.size(); i++) {
            seen += counts_[i];
            if (seen > rank) {
                double mid = middle(i);
                return mid > static_cast<double>(max_) ? static_cast<double>(max_) : mid;
            }
        }
        return static_cast<double>(max_);
    }

  private:
    std::size_t index(uint64_t v) const {
        if (v < 2 * sub) {
            return static_cast<std::size_t>(v);
        }
        int msb = 63 - __builtin_clzll(v);
        int shift = msb - sub_bits;
        std::size_t i = static_cast<std::size_t>(shift + 1) * sub + ((v >> shift) - sub);
        return i < counts_.size() ? i : counts_.size() - 1;
    }
    static double middle(std::size_t i) {
        if (i < 2 * sub) {
            return static_cast<double>(i);
        }
        std::size_t shift = i / sub - 1;
        std::size_t m = i % sub + sub;
        return (static_cast<double>(m) + 0.5) * static_cast<double>(uint64_t{1} << shift);
    }
    std::vector<uint64_t> counts_;
    uint64_t n_ = 0;
    double sum_ = 0;
    uint64_t max_ = 0;
};

// --- what is sent --------------------------------------------------------------
constexpr int variants = 4;
struct Payload {
    std::vector<uint8_t> plain[variants]; // the message as the echo must carry it
    std::vector<uint8_t> wire[variants];  // what is sent: frames, masked (or plain)
};
Payload payload;

void build_payload() {
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    for (int v = 0; v < variants; v++) {
        auto& plain = payload.plain[v];
        plain.resize(opt.size);
        for (std::size_t i = 0; i < opt.size; i++) {
            plain[i] = static_cast<uint8_t>(xorshift(seed) >> 32);
        }
        auto& wire = payload.wire[v];
        if (opt.raw) {
            wire = plain;
            continue;
        }
        wire.reserve(opt.size + static_cast<std::size_t>(opt.frames) * 14);
        std::size_t off = 0;
        for (int f = 0; f < opt.frames; f++) {
            std::size_t len = opt.size / static_cast<std::size_t>(opt.frames);
            if (f == opt.frames - 1) {
                len = opt.size - off;
            }
            uint8_t b0 = f == 0 ? 0x2 : 0x0; // binary, then continuation
            if (f == opt.frames - 1) {
                b0 |= 0x80; // FIN
            }
            wire.push_back(b0);
            if (len < 126) {
                wire.push_back(static_cast<uint8_t>(0x80 | len));
            } else if (len < 65536) {
                wire.push_back(0x80 | 126);
                wire.push_back(static_cast<uint8_t>(len >> 8));
                wire.push_back(static_cast<uint8_t>(len));
            } else {
                wire.push_back(0x80 | 127);
                for (int k = 7; k >= 0; k--) {
                    wire.push_back(static_cast<uint8_t>(static_cast<uint64_t>(len) >> (8 * k)));
                }
            }
            uint8_t key[4];
            uint64_t r = xorshift(seed);
            for (int k = 0; k < 4; k++) {
                key[k] = static_cast<uint8_t>(r >> (8 * k));
                wire.push_back(key[k]);
            }
            for (std::size_t i = 0; i < len; i++) {
                wire.push_back(plain[off + i] ^ key[i & 3]);
            }
            off += len;
        }
    }
}

// --- connections ---------------------------------------------------------------
enum class State : uint8_t { Pending, Connecting, Handshake, Open, Idle, Closed };

struct Conn {
    int fd = -1;
    State st = State::Pending;
    bool want_out = false;   // EPOLLOUT is registered
    bool awaiting = false;   // a message is out, its echo not complete
    bool check = false;      // compare this echo's bytes
    bool in_payload = false; // frame parser: in a payload (else a header)
    bool control = false;    // the current frame is a control frame
    bool fin = false;
    bool first_frame = true; // the next data frame starts a message
    bool hs_answer = false;  // hs holds the handshake answer (else the request)
    uint8_t variant = 0;
    uint8_t opcode = 0;
    uint8_t hdr_have = 0;
    uint8_t hdr[14] = {};
    uint64_t frame_left = 0;
    std::size_t got = 0; // bytes of the echo so far
    const uint8_t* out = nullptr;
    std::size_t out_left = 0;
    int64_t t_sent = 0;
    uint64_t rng = 0;
    uint64_t done = 0; // echoes completed on this connection
    std::string hs;    // handshake: the request, then the response so far
    char accept[29] = {};
};

std::atomic<long> g_opened{0};
std::atomic<long> g_failed{0};
std::atomic<long> g_idle_ready{0};
std::atomic<int64_t> g_start{0}; // start of the measured window; 0 = not yet
std::atomic<int64_t> g_end{0};
std::atomic<bool> g_abort{false};

struct Worker {
    std::vector<Conn*> conns;
    int ep = -1;
    std::vector<uint8_t> rbuf;
    Histogram hist;
    uint64_t msgs = 0;     // echoes inside the window
    uint64_t all_msgs = 0; // echoes at any time
    uint64_t checked = 0;
    uint64_t errors = 0; // connections lost to an error after opening
    std::string first_error;
    std::size_t next_pending = 0;
    long connecting = 0;
    long max_connecting = 256;
    sockaddr_in addr{};

    void fail(Conn& c, const char* why) {
        if (c.st == State::Closed) {
            return;
        }
        bool opened = c.st == State::Open || c.st == State::Idle;
        if (!opened && c.st != State::Pending) {
            connecting--;
        }
        if (c.fd >= 0) {
            epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
            close(c.fd);
            c.fd = -1;
        }
        if (opened) {
            errors++;
        } else {
            g_failed++;
        }
        if (c.st == State::Idle) {
            g_idle_ready--;
        }
        if (first_error.empty()) {
            first_error = why;
        }
        c.st = State::Closed;
        std::string().swap(c.hs);
    }

    void set_events(Conn& c, bool out) {
        epoll_event ev{};
        ev.events = EPOLLIN | (out ? EPOLLOUT : 0u);
        ev.data.ptr = &c;
        epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        c.want_out = out;
    }

    // Starts connects while fewer than max_connecting are in progress.
    void open_more() {
        while (connecting < max_connecting && next_pending < conns.size()) {
            Conn& c = *conns[next_pending++];
            int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                g_failed++;
                c.st = State::Closed;
                if (first_error.empty()) {
                    first_error = std::string("socket: ") + std::strerror(errno);
                }
                continue;
            }
            int on = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
            c.fd = fd;
            c.st = State::Connecting;
            connecting++;
            int rc = connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
            if (rc != 0 && errno != EINPROGRESS) {
                fail(c, "connect failed");
                continue;
            }
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLOUT;
            ev.data.ptr = &c;
            epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
            c.want_out = true;
        }
    }

    // Sends what is left of c.out; registers EPOLLOUT while the socket is full.
    bool flush(Conn& c) {
        while (c.out_left > 0) {
            ssize_t n = send(c.fd, c.out, c.out_left, MSG_NOSIGNAL);
            if (n > 0) {
                c.out += n;
                c.out_left -= static_cast<std::size_t>(n);
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                if (!c.want_out) {
                    set_events(c, true);
                }
                return true;
            } else {
                fail(c, "send failed");
                return false;
            }
        }
        if (c.want_out) {
            set_events(c, false);
        }
        return true;
    }

    void send_message(Conn& c, int64_t t) {
        c.variant = static_cast<uint8_t>(xorshift(c.rng) % variants);
        c.check = c.done == 0 || (opt.check_every != 0 && c.done % opt.check_every == 0);
        c.got = 0;
        c.first_frame = true;
        c.awaiting = true;
        c.t_sent = t;
        c.out = payload.wire[c.variant].data();
        c.out_left = payload.wire[c.variant].size();
        flush(c);
    }

    void became_open(Conn& c) {
        connecting--;
        g_opened++;
        std::string().swap(c.hs);
        if (opt.idle > 0 && opt.idle_msgs == 0) {
            c.st = State::Idle;
            g_idle_ready++;
            return;
        }
        c.st = State::Open;
        send_message(c, now_ns());
    }

    // A whole echo has arrived.  Returns false if the connection was closed.
    bool message_done(Conn& c) {
        if (c.got != opt.size) {
            fail(c, "echo of the wrong length");
            return false;
        }
        int64_t t = now_ns();
        c.awaiting = false;
        c.done++;
        all_msgs++;
        if (c.check) {
            checked++;
        }
        int64_t start = g_start.load(std::memory_order_relaxed);
        int64_t end = g_end.load(std::memory_order_relaxed);
        if (start != 0 && t >= start && t < end) {
            msgs++;
            hist.add(t - c.t_sent);
        }
        if (opt.idle > 0) {
            if (c.done >= opt.idle_msgs) {
                c.st = State::Idle;
                g_idle_ready++;
                return true;
            }
        } else if (start != 0 && t >= end) {
            return true; // the window is over: send no more
        }
        send_message(c, t);
        return c.st != State::Closed;
    }

    // Echo bytes: compares them when this echo is checked.
    bool payload_bytes(Conn& c, const uint8_t* p, std::size_t n) {
        if (c.got + n > opt.size) {
            fail(c, "echo longer than the message");
            return false;
        }
        if (c.check && std::memcmp(payload.plain[c.variant].data() + c.got, p, n) != 0) {
            fail(c, "echo bytes differ from the message");
            return false;
        }
        c.got += n;
        return true;
    }

    bool feed_raw(Conn& c, const uint8_t* p, std::size_t n) {
        while (n > 0) {
            if (!c.awaiting) {
                fail(c, "bytes from the server with no message out");
                return false;
            }
            std::size_t k = opt.size - c.got;
            if (k > n) {
                k = n;
            }
            if (!payload_bytes(c, p, k)) {
                return false;
            }
            p += k;
            n -= k;
            if (c.got == opt.size && !message_done(c)) {
                return false;
            }
        }
        return true;
    }

    bool frame_done(Conn& c) {
        c.in_payload = false;
        if (c.control) {
            if (c.opcode == 0x8) {
                fail(c, "the server sent a close frame");
                return false;
            }
            return true; // ping or pong: nothing to do (servers here send none)
        }
        if (c.fin) {
            return message_done(c);
        }
        return true;
    }

    bool feed_ws(Conn& c, const uint8_t* p, std::size_t n) {
        const uint8_t* end = p + n;
        while (p < end) {
            if (c.in_payload) {
                std::size_t k = static_cast<std::size_t>(end - p);
                if (k > c.frame_left) {
                    k = static_cast<std::size_t>(c.frame_left);
                }
                if (!c.control && !payload_bytes(c, p, k)) {
                    return false;
                }
                p += k;
                c.frame_left -= k;
                if (c.frame_left == 0 && !frame_done(c)) {
                    return false;
                }
                continue;
            }
            // Header: 2 bytes, then the extended length and mask key if any.
            std::size_t need = 2;
            if (c.hdr_have >= 2) {
                uint8_t l7 = c.hdr[1] & 0x7f;
                need += l7 == 126 ? 2 : l7 == 127 ? 8 : 0;
                need += (c.hdr[1] & 0x80) ? 4 : 0;
            }
            while (c.hdr_have < need && p < end) {
                c.hdr[c.hdr_have++] = *p++;
                if (c.hdr_have == 2) {
                    uint8_t l7 = c.hdr[1] & 0x7f;
                    need += l7 == 126 ? 2 : l7 == 127 ? 8 : 0;
                    need += (c.hdr[1] & 0x80) ? 4 : 0;
                }
            }
            if (c.hdr_have < need) {
                break; // the rest of the header comes later
            }
            c.hdr_have = 0;
            if (c.hdr[0] & 0x70) {
                fail(c, "RSV bits set in a frame from the server");
                return false;
            }
            if (c.hdr[1] & 0x80) {
                fail(c, "masked frame from the server");
                return false;
            }
            uint64_t len = c.hdr[1] & 0x7f;
            if (len == 126) {
                len = (static_cast<uint64_t>(c.hdr[2]) << 8) | c.hdr[3];
            } else if (len == 127) {
                len = 0;
                for (int k = 0; k < 8; k++) {
                    len = (len << 8) | c.hdr[2 + k];
                }
            }
            c.opcode = c.hdr[0] & 0x0f;
            c.fin = (c.hdr[0] & 0x80) != 0;
            c.control = (c.opcode & 0x8) != 0;
            if (c.control) {
                if (len > 125 || !c.fin) {
                    fail(c, "bad control frame from the server");
                    return false;
                }
            } else {
                if (!c.awaiting) {
                    fail(c, "a data frame with no message out");
                    return false;
                }
                bool cont = c.opcode == 0x0;
                if (c.first_frame ? c.opcode != 0x2 : !cont) {
                    fail(c, c.first_frame ? "echo is not a binary message"
                                          : "expected a continuation frame");
                    return false;
                }
                c.first_frame = false;
            }
            c.frame_left = len;
            c.in_payload = true;
            if (len == 0 && !frame_done(c)) {
                return false;
            }
        }
        return true;
    }

    void send_handshake(Conn& c) {
        unsigned char key[16];
        for (int i = 0; i < 16; i += 8) {
            uint64_t r = xorshift(c.rng);
            std::memcpy(key + i, &r, 8);
        }
        char key64[25];
        wsb_base64(key, 16, key64);
        wsb_accept(key64, 24, c.accept);
        char req[512];
        int n = std::snprintf(req, sizeof req,
                              "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
                              "Sec-WebSocket-Version: 13\r\n\r\n",
                              opt.path.c_str(), opt.host.c_str(), opt.port, key64);
        c.hs.assign(req, static_cast<std::size_t>(n));
        c.out = reinterpret_cast<const uint8_t*>(c.hs.data());
        c.out_left = c.hs.size();
        c.st = State::Handshake;
        flush(c);
    }

    static bool iequal(const char* a, const char* b, std::size_t n) {
        for (std::size_t i = 0; i < n; i++) {
            char x = a[i], y = b[i];
            if (x >= 'A' && x <= 'Z') {
                x = static_cast<char>(x - 'A' + 'a');
            }
            if (y >= 'A' && y <= 'Z') {
                y = static_cast<char>(y - 'A' + 'a');
            }
            if (x != y) {
                return false;
            }
        }
        return true;
    }

    // Handshake response bytes; once the head is whole, checks it and
    // hands what follows it to the frame parser.
    void feed_handshake(Conn& c, const uint8_t* p, std::size_t n) {
        if (c.out_left > 0) {
            fail(c, "handshake answer before the whole request was sent");
            return;
        }
        if (!c.hs_answer) {
            c.hs.clear();
            c.hs_answer = true;
        }
        c.hs.append(reinterpret_cast<const char*>(p), n);
        std::size_t end = c.hs.find("\r\n\r\n");
        if (end == std::string::npos) {
            if (c.hs.size() > 16384) {
                fail(c, "handshake answer head too long");
            }
            return;
        }
        if (c.hs.compare(0, 13, "HTTP/1.1 101 ") != 0 &&
            c.hs.compare(0, 14, "HTTP/1.1 101\r\n") != 0) {
            fail(c, "handshake answer is not 101");
            return;
        }
        bool ok = false;
        std::size_t pos = c.hs.find("\r\n") + 2;
        static const char name[] = "sec-websocket-accept:";
        while (pos < end) {
            std::size_t eol = c.hs.find("\r\n", pos);
            std::size_t len = eol - pos;
            if (len > sizeof name - 1 && iequal(c.hs.data() + pos, name, sizeof name - 1)) {
                std::size_t v = pos + sizeof name - 1;
                while (v < eol && (c.hs[v] == ' ' || c.hs[v] == '\t')) {
                    v++;
                }
                std::size_t ve = eol;
                while (ve > v && (c.hs[ve - 1] == ' ' || c.hs[ve - 1] == '\t')) {
                    ve--;
                }
                ok = c.hs.compare(v, ve - v, c.accept) == 0;
            }
            pos = eol + 2;
        }
        if (!ok) {
            fail(c, "wrong or missing Sec-WebSocket-Accept");
            return;
        }
        std::string rest = c.hs.substr(end + 4);
        became_open(c);
        if (!rest.empty() && c.st != State::Closed) {
            if (c.st == State::Idle) {
                fail(c, "data on an idle connection");
                return;
            }
            feed_ws(c, reinterpret_cast<const uint8_t*>(rest.data()), rest.size());
        }
    }

    void on_readable(Conn& c) {
        for (int round = 0; round < 64; round++) {
            ssize_t n = recv(c.fd, rbuf.data(), rbuf.size(), 0);
            if (n > 0) {
                auto len = static_cast<std::size_t>(n);
                bool alive = true;
                switch (c.st) {
                case State::Handshake:
                    feed_handshake(c, rbuf.data(), len);
                    alive = c.st != State::Closed;
                    break;
                case State::Open:
                    alive = opt.raw ? feed_raw(c, rbuf.data(), len) : feed_ws(c, rbuf.data(), len);
                    break;
                case State::Idle:
                    fail(c, "data on an idle connection");
                    alive = false;
                    break;
                default:
                    alive = false;
                    break;
                }
                // A short read has emptied the socket; level-triggered epoll
                // reports any more.
                if (!alive || len < rbuf.size() || c.st == State::Handshake) {
                    return;
                }
            } else if (n == 0) {
                fail(c, "connection closed by the server");
                return;
            } else if (errno == EINTR) {
                continue;
            } else {
                if (errno != EAGAIN && errno != EWOULDBLOCK) {
                    fail(c, "recv failed");
                }
                return;
            }
        }
    }

    void on_event(Conn& c, uint32_t events) {
        if (c.st == State::Connecting) {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
                fail(c, "connect failed");
                return;
            }
            if (!(events & EPOLLOUT)) {
                return;
            }
            if (opt.raw) {
                set_events(c, false);
                became_open(c);
            } else {
                set_events(c, false);
                send_handshake(c);
            }
            return;
        }
        if ((events & EPOLLOUT) && c.out_left > 0 && !flush(c)) {
            return;
        }
        if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
            on_readable(c);
        }
    }

    // Runs until the window ends (load), every connection is open and idle
    // (idle), or the time limits pass.
    void run(int64_t hs_deadline) {
        ep = epoll_create1(EPOLL_CLOEXEC);
        if (ep < 0) {
            die("epoll_create1 failed%s", "");
        }
        rbuf.resize(std::size_t{1} << 20);
        std::vector<epoll_event> evs(512);
        int64_t last_scan = 0;
        open_more();
        for (;;) {
            if (g_abort.load(std::memory_order_relaxed)) {
                break;
            }
            int64_t t = now_ns();
            int64_t end = g_end.load(std::memory_order_relaxed);
            if (g_start.load(std::memory_order_relaxed) != 0 && t >= end) {
                break;
            }
            bool settling = connecting > 0 || next_pending < conns.size();
            if (settling && t >= hs_deadline) {
                for (Conn* c : conns) {
                    if (c->st == State::Pending) {
                        c->st = State::Closed;
                        g_failed++;
                        if (first_error.empty()) {
                            first_error = "timed out before connecting";
                        }
                    } else if (c->st == State::Connecting || c->st == State::Handshake) {
                        fail(*c, "handshake timed out");
                    }
                }
                next_pending = conns.size();
                settling = false;
            }
            if (opt.idle > 0 && t >= hs_deadline) {
                for (Conn* c : conns) {
                    if (c->st == State::Open) {
                        fail(*c, "no echo before the timeout");
                    }
                }
            }
            if (opt.idle > 0 && !settling && t - last_scan >= 5000000) {
                last_scan = t;
                bool all = true;
                for (Conn* c : conns) {
                    if (c->st == State::Open) {
                        all = false;
                        break;
                    }
                }
                if (all) {
                    break;
                }
            }
            int wait_ms = 10;
            if (end != 0 && g_start.load(std::memory_order_relaxed) != 0) {
                int64_t left = (end - t + 999999) / 1000000;
                wait_ms = static_cast<int>(left < 10 ? left : 10);
            }
            int n = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), wait_ms);
            for (int i = 0; i < n; i++) {
                auto* c = static_cast<Conn*>(evs[static_cast<std::size_t>(i)].data.ptr);
                if (c->st != State::Closed) {
                    on_event(*c, evs[static_cast<std::size_t>(i)].events);
                }
            }
            if (connecting < max_connecting && next_pending < conns.size()) {
                open_more();
            }
        }
    }
};

void raise_nofile(long want) {
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (static_cast<long>(rl.rlim_cur) < want) {
        std::fprintf(stderr, "wsload: %ld connections need %ld descriptors; the limit is %ld\n",
                     static_cast<long>(opt.conns), want, static_cast<long>(rl.rlim_cur));
        std::exit(2);
    }
}

std::string json_escape(const std::string& s) {
    std::string o;
    for (char ch : s) {
        if (ch == '"' || ch == '\\') {
            o += '\\';
            o += ch;
        } else if (static_cast<unsigned char>(ch) < 0x20) {
            o += ' ';
        } else {
            o += ch;
        }
    }
    return o;
}

} // namespace

int main(int argc, char** argv) {
    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    raise_nofile(opt.conns + 64);
    double limit = opt.timeout + opt.warmup + opt.duration + opt.hold + 30;
    alarm(static_cast<unsigned>(limit) + 1);

    build_payload();

    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(opt.port));
    inet_pton(AF_INET, opt.host.c_str(), &addr.sin_addr);

    std::vector<Conn> conns(static_cast<std::size_t>(opt.conns));
    std::vector<Worker> workers(static_cast<std::size_t>(opt.threads));
    for (std::size_t i = 0; i < conns.size(); i++) {
        conns[i].rng = 0x2545F4914F6CDD1Dull ^ ((i + 1) * 0x9E3779B97F4A7C15ull);
        xorshift(conns[i].rng);
        workers[i % workers.size()].conns.push_back(&conns[i]);
    }
    for (auto& w : workers) {
        w.addr = addr;
        w.max_connecting = 256 / opt.threads > 0 ? 256 / opt.threads : 1;
    }

    long rss_before = opt.pid > 0 && opt.idle > 0 ? proc_rss_kib(opt.pid) : -1;
    int64_t t0 = now_ns();
    int64_t hs_deadline = t0 + static_cast<int64_t>(opt.timeout * 1e9);

    std::vector<std::thread> threads;
    for (auto& w : workers) {
        threads.emplace_back([&w, hs_deadline] { w.run(hs_deadline); });
    }

    // Wait for every connection to be open (or to have failed).
    int64_t t_open = 0;
    for (;;) {
        int64_t t = now_ns();
        long settled = g_opened.load() + g_failed.load();
        if (settled >= opt.conns || t > hs_deadline + 1000000000) {
            t_open = t;
            break;
        }
        timespec ts{0, 2000000};
        nanosleep(&ts, nullptr);
    }
    double open_s = static_cast<double>(t_open - t0) / 1e9;

    if (opt.idle > 0) {
        for (auto& th : threads) {
            th.join();
        }
        // Let the server finish whatever it does after a handshake.
        sleep_until(now_ns() + 300000000);
        long rss_after = opt.pid > 0 ? proc_rss_kib(opt.pid) : -1;
        long idle = g_idle_ready.load();
        uint64_t errors = 0;
        std::string first_error;
        for (auto& w : workers) {
            errors += w.errors;
            if (first_error.empty()) {
                first_error = w.first_error;
            }
        }
        double per_conn =
            (rss_before >= 0 && rss_after >= 0 && idle > 0)
                ? static_cast<double>(rss_after - rss_before) * 1024.0 / static_cast<double>(idle)
                : -1;
        std::printf("{\"mode\":\"idle\",\"label\":\"%s\",\"url\":\"%s\",\"conns\":%d,"
                    "\"idle\":%ld,\"failed\":%ld,\"errors\":%" PRIu64
                    ",\"idle_msgs\":%u,\"size\":%zu,\"open_s\":%.3f,"
                    "\"rss_before_kib\":%ld,\"rss_after_kib\":%ld,\"bytes_per_conn\":%.0f,"
                    "\"first_error\":\"%s\"}\n",
                    json_escape(opt.label).c_str(), json_escape(opt.url).c_str(), opt.conns, idle,
                    g_failed.load(), errors, opt.idle_msgs, opt.size, open_s, rss_before, rss_after,
                    per_conn, json_escape(first_error).c_str());
        std::fflush(stdout);
        if (opt.hold > 0) {
            sleep_until(now_ns() + static_cast<int64_t>(opt.hold * 1e9));
        }
        for (auto& c : conns) {
            if (c.fd >= 0) {
                close(c.fd);
            }
        }
        return 0;
    }

    // The measured window.
    int64_t start = now_ns() + static_cast<int64_t>(opt.warmup * 1e9);
    int64_t end = start + static_cast<int64_t>(opt.duration * 1e9);
    g_end.store(end);
    g_start.store(start);
    sleep_until(start);
    long long ticks0 = opt.pid > 0 ? proc_ticks(opt.pid) : -1;
    double cpu0 = cpu_seconds_self();
    sleep_until(end);
    long long ticks1 = opt.pid > 0 ? proc_ticks(opt.pid) : -1;
    double cpu1 = cpu_seconds_self();
    g_abort.store(true);
    for (auto& th : threads) {
        th.join();
    }

    Histogram hist;
    uint64_t msgs = 0, all_msgs = 0, checked = 0, errors = 0;
    std::string first_error;
    for (auto& w : workers) {
        hist.merge(w.hist);
        msgs += w.msgs;
        all_msgs += w.all_msgs;
        checked += w.checked;
        errors += w.errors;
        if (first_error.empty()) {
            first_error = w.first_error;
        }
    }
    for (auto& c : conns) {
        if (c.fd >= 0) {
            close(c.fd);
        }
    }
    double secs = static_cast<double>(end - start) / 1e9;
    long hz = sysconf(_SC_CLK_TCK);
    double server_cpu = (ticks0 >= 0 && ticks1 >= 0)
                            ? static_cast<double>(ticks1 - ticks0) / static_cast<double>(hz)
                            : -1;
    double per_cpu = server_cpu > 0 ? static_cast<double>(msgs) / server_cpu : -1;
    std::printf("{\"mode\":\"%s\",\"label\":\"%s\",\"url\":\"%s\",\"size\":%zu,\"conns\":%d,"
                "\"frames\":%d,\"threads\":%d,\"open\":%ld,\"failed\":%ld,\"errors\":%" PRIu64
                ",\"duration_s\":%.3f,\"messages\":%" PRIu64 ",\"all_messages\":%" PRIu64
                ",\"msgs_per_s\":%.1f,"
                "\"mean_us\":%.2f,\"p50_us\":%.2f,\"p99_us\":%.2f,\"max_us\":%.2f,"
                "\"checked\":%" PRIu64 ",\"server_cpu_s\":%.3f,\"msgs_per_cpu_s\":%.1f,"
                "\"client_cpu_s\":%.3f,\"first_error\":\"%s\"}\n",
                opt.raw ? "raw" : "ws", json_escape(opt.label).c_str(),
                json_escape(opt.url).c_str(), opt.size, opt.conns, opt.frames, opt.threads,
                g_opened.load(), g_failed.load(), errors, secs, msgs, all_msgs,
                static_cast<double>(msgs) / secs, hist.mean() / 1e3, hist.quantile(0.5) / 1e3,
                hist.quantile(0.99) / 1e3, static_cast<double>(hist.max()) / 1e3, checked,
                server_cpu, per_cpu, cpu1 - cpu0, json_escape(first_error).c_str());
    std::fflush(stdout);
    return msgs > 0 ? 0 : 1;
}
