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
// Payload (--payload): random bytes in binary messages (the default), or a
// JSON document of S bytes in text messages (json_payload.h).
//
// Compression (--deflate): the handshake offers permessage-deflate (RFC
// 7692) and fails the connection unless the server's answer accepts it
// within the offer.  Each message is then compressed as it is sent (zlib,
// raw DEFLATE, sync flush, its 00 00 ff ff tail cut; RSV1 on the first
// frame; the window kept from message to message unless the answer or the
// offer says no context takeover), masked with a fresh key, and each echo is
// inflated as it streams in and checked like any other.  A JSON message is
// a copy of one of the four documents with its numbers rewritten, a binary
// one fresh random bytes, so that no message repeats an earlier one.  The
// JSON line then also gives the bytes on the wire per message each way
// (frame headers and compressed payloads).  None of this runs without
// --deflate: the frames are prebuilt as described below.
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
#include "deflate_codec.h"
#include "json_payload.h"
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
#include <memory>
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
    bool json = false; // --payload json: text messages of JSON
    uint64_t seed = 1; // of the JSON documents
    bool deflate = false;
    std::string deflate_params = "client_max_window_bits"; // the offer, after its name
    int deflate_level = 6;
    wsb::pmd_params offer; // deflate_params, parsed
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
                 "      --label TEXT     copied into the JSON line\n"
                 "      --payload KIND   binary (random bytes; the default) or json (text\n"
                 "                       messages, each a JSON document of the size)\n"
                 "      --text-json      the same as --payload json\n"
                 "      --seed N         seed of the JSON documents (default 1)\n"
                 "      --deflate        negotiate permessage-deflate and compress\n"
                 "      --deflate-params TEXT\n"
                 "                       the offer's parameters (default\n"
                 "                       \"client_max_window_bits\"), e.g.\n"
                 "                       \"client_max_window_bits; server_no_context_takeover\"\n"
                 "      --deflate-level N  zlib level of what wsload sends, 0-9 (default 6)\n");
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

// The Sec-WebSocket-Extensions value offered with --deflate.
std::string offer_text() {
    if (opt.deflate_params.find_first_not_of(" \t") == std::string::npos) {
        return "permessage-deflate";
    }
    return "permessage-deflate; " + opt.deflate_params;
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
        o_label,
        o_payload,
        o_text_json,
        o_seed,
        o_deflate,
        o_deflate_params,
        o_deflate_level
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
                                   {"payload", required_argument, nullptr, o_payload},
                                   {"text-json", no_argument, nullptr, o_text_json},
                                   {"seed", required_argument, nullptr, o_seed},
                                   {"deflate", no_argument, nullptr, o_deflate},
                                   {"deflate-params", required_argument, nullptr, o_deflate_params},
                                   {"deflate-level", required_argument, nullptr, o_deflate_level},
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
        case o_payload:
            if (std::strcmp(optarg, "json") == 0) {
                opt.json = true;
            } else if (std::strcmp(optarg, "binary") == 0) {
                opt.json = false;
            } else {
                die("--payload is binary or json, not %s", optarg);
            }
            break;
        case o_text_json:
            opt.json = true;
            break;
        case o_seed:
            opt.seed = std::strtoull(optarg, nullptr, 0);
            break;
        case o_deflate:
            opt.deflate = true;
            break;
        case o_deflate_params:
            opt.deflate_params = optarg;
            break;
        case o_deflate_level:
            opt.deflate_level = std::atoi(optarg);
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
    if (opt.json && opt.size < wsb::json_min_size) {
        die("--payload json needs a size of 2 bytes or more%s", "");
    }
    if (opt.deflate) {
        if (opt.raw) {
            die("--deflate is for WebSocket, not --raw%s", "");
        }
        if (opt.deflate_level < 0 || opt.deflate_level > 9) {
            die("--deflate-level is 0 to 9%s", "");
        }
        std::string err = wsb::pmd_parse(offer_text(), true, opt.offer);
        if (!err.empty()) {
            die("--deflate-params: %s", err.c_str());
        }
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
    std::vector<uint8_t> plain[variants];   // the message as the echo must carry it
    std::vector<uint8_t> wire[variants];    // what is sent: frames, masked (or plain)
    std::vector<uint32_t> fields[variants]; // JSON: the fields json_vary rewrites
};
Payload payload;
uint8_t g_opcode = 0x2; // of the messages sent, and of their echoes: binary, or text (JSON)

// The length of a frame header, masked or not, for a payload of len bytes.
std::size_t header_len(std::size_t len, bool masked) {
    return (len < 126 ? 2 : len < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

// XORs n bytes of src with the 4-byte key into dst, eight at a time.
void mask_copy(uint8_t* dst, const uint8_t* src, std::size_t n, const uint8_t key[4]) {
    uint64_t k8 = 0;
    for (int i = 0; i < 8; i++) {
        k8 |= static_cast<uint64_t>(key[i & 3]) << (8 * i);
    }
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        std::memcpy(&w, src + i, 8);
        w ^= k8;
        std::memcpy(dst + i, &w, 8);
    }
    for (; i < n; i++) {
        dst[i] = src[i] ^ key[i & 3];
    }
}

// Writes one message of len bytes as `frames` masked client frames into
// dst, which has room for len + 14 * frames bytes; rsv1 marks the first
// frame (a compressed message).  Each frame's key comes from rng.  Returns
// the bytes written.
std::size_t write_frames(uint8_t* dst, uint8_t opcode, bool rsv1, const uint8_t* data,
                         std::size_t len, int frames, uint64_t& rng) {
    uint8_t* w = dst;
    std::size_t off = 0;
    for (int f = 0; f < frames; f++) {
        std::size_t n = len / static_cast<std::size_t>(frames);
        if (f == frames - 1) {
            n = len - off;
        }
        uint8_t b0 = f == 0 ? opcode : 0x0; // then continuation frames
        if (f == 0 && rsv1) {
            b0 |= 0x40;
        }
        if (f == frames - 1) {
            b0 |= 0x80; // FIN
        }
        *w++ = b0;
        if (n < 126) {
            *w++ = static_cast<uint8_t>(0x80 | n);
        } else if (n < 65536) {
            *w++ = 0x80 | 126;
            *w++ = static_cast<uint8_t>(n >> 8);
            *w++ = static_cast<uint8_t>(n);
        } else {
            *w++ = 0x80 | 127;
            for (int k = 7; k >= 0; k--) {
                *w++ = static_cast<uint8_t>(static_cast<uint64_t>(n) >> (8 * k));
            }
        }
        uint8_t key[4];
        uint64_t r = xorshift(rng);
        for (int k = 0; k < 4; k++) {
            key[k] = static_cast<uint8_t>(r >> (8 * k));
            *w++ = key[k];
        }
        mask_copy(w, data + off, n, key);
        w += n;
        off += n;
    }
    return static_cast<std::size_t>(w - dst);
}

void build_payload() {
    uint64_t seed = 0x9E3779B97F4A7C15ull;
    g_opcode = opt.json ? 0x1 : 0x2;
    for (int v = 0; v < variants; v++) {
        auto& plain = payload.plain[v];
        if (opt.json) {
            wsb::json_doc doc =
                wsb::json_make(opt.size, opt.seed * variants + static_cast<uint64_t>(v));
            plain = std::move(doc.text);
            payload.fields[v] = std::move(doc.fields);
        } else {
            plain.resize(opt.size);
            for (std::size_t i = 0; i < opt.size; i++) {
                plain[i] = static_cast<uint8_t>(xorshift(seed) >> 32);
            }
        }
        auto& wire = payload.wire[v];
        if (opt.raw) {
            wire = plain;
            continue;
        }
        wire.resize(opt.size + static_cast<std::size_t>(opt.frames) * 14);
        wire.resize(
            write_frames(wire.data(), g_opcode, false, plain.data(), opt.size, opt.frames, seed));
    }
}

// --- connections ---------------------------------------------------------------
enum class State : uint8_t { Pending, Connecting, Handshake, Open, Idle, Closed };

// A connection's permessage-deflate state (--deflate), from the handshake
// until the connection goes idle.
struct Compression {
    wsb::pmd_deflater out;
    wsb::pmd_inflater in;
    std::vector<uint8_t> plain; // the message out, uncompressed
    std::vector<uint8_t> wire;  // its frames
};

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
    bool compressed = false; // the echo being read is compressed (RSV1)
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
    // --deflate only: what the handshake agreed, the codec, and the bytes
    // on the wire of the message out and of its echo so far.
    wsb::pmd_agreement pmd;
    std::unique_ptr<Compression> z;
    uint64_t wire_out = 0;
    uint64_t wire_in = 0;
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
    // --deflate: scratch space for a compressed message and for pieces of an
    // inflated echo; over the window's messages, the bytes on the wire each
    // way and the echoes that came compressed; the first answer's
    // Sec-WebSocket-Extensions.
    std::vector<uint8_t> zbuf;
    std::vector<uint8_t> zout;
    uint64_t wire_out = 0;
    uint64_t wire_in = 0;
    uint64_t compressed_echoes = 0;
    std::string extensions;
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
    // Inlined into the message loop, as it was before --deflate added a
    // second caller.
    [[gnu::always_inline]] bool flush(Conn& c) {
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

    // The message loop's functions take Deflate (opt.deflate) as a template
    // argument: without --deflate none of the compression code is compiled
    // into them, and the loop does what it did before the option existed.
    template <bool Deflate> void send_message(Conn& c, int64_t t) {
        c.variant = static_cast<uint8_t>(xorshift(c.rng) % variants);
        c.check = c.done == 0 || (opt.check_every != 0 && c.done % opt.check_every == 0);
        c.got = 0;
        c.first_frame = true;
        c.awaiting = true;
        c.t_sent = t;
        if constexpr (Deflate) {
            if (!compress_message(c)) {
                return;
            }
        } else {
            c.out = payload.wire[c.variant].data();
            c.out_left = payload.wire[c.variant].size();
        }
        flush(c);
    }

    // --deflate: the next message's bytes (a varied JSON document, or fresh
    // random bytes), compressed and framed into c.z->wire.
    [[gnu::noinline]] bool compress_message(Conn& c) {
        Compression& z = *c.z;
        if (opt.json) {
            std::memcpy(z.plain.data(), payload.plain[c.variant].data(), opt.size);
            wsb::json_vary(z.plain.data(), payload.fields[c.variant], c.done, c.rng);
        } else {
            for (std::size_t i = 0; i < opt.size; i += 8) {
                uint64_t r = xorshift(c.rng);
                std::memcpy(z.plain.data() + i, &r, opt.size - i < 8 ? opt.size - i : 8);
            }
        }
        long m = z.out.compress(z.plain.data(), opt.size, zbuf);
        if (m < 0) {
            fail(c, "compressing a message failed (zlib)");
            return false;
        }
        std::size_t room = static_cast<std::size_t>(m) + static_cast<std::size_t>(opt.frames) * 14;
        if (z.wire.size() < room) {
            z.wire.resize(room);
        }
        std::size_t n = write_frames(z.wire.data(), g_opcode, true, zbuf.data(),
                                     static_cast<std::size_t>(m), opt.frames, c.rng);
        c.out = z.wire.data();
        c.out_left = n;
        c.wire_out = n;
        c.wire_in = 0;
        c.compressed = false;
        c.t_sent = now_ns(); // the round trip starts after the compression
        return true;
    }

    // --deflate: the codec for what the handshake agreed.
    bool start_compression(Conn& c) {
        c.z = std::make_unique<Compression>();
        if (!c.z->out.init(opt.deflate_level, c.pmd.client_window_bits, 8, c.pmd.client_reset) ||
            !c.z->in.init(c.pmd.server_window_bits, c.pmd.server_reset)) {
            fail(c, "zlib could not start a stream");
            return false;
        }
        c.z->plain.resize(opt.size);
        return true;
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
        if (opt.deflate) {
            if (start_compression(c)) {
                send_message<true>(c, now_ns());
            }
            return;
        }
        send_message<false>(c, now_ns());
    }

    // A whole echo has arrived.  Returns false if the connection was closed.
    template <bool Deflate> bool message_done(Conn& c) {
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
            if constexpr (Deflate) {
                wire_out += c.wire_out;
                wire_in += c.wire_in;
                compressed_echoes += c.compressed ? 1 : 0;
            }
        }
        if (opt.idle > 0) {
            if (c.done >= opt.idle_msgs) {
                c.st = State::Idle;
                g_idle_ready++;
                if constexpr (Deflate) {
                    c.z.reset(); // the server's compression state is measured, not wsload's
                }
                return true;
            }
        } else if (start != 0 && t >= end) {
            return true; // the window is over: send no more
        }
        send_message<Deflate>(c, t);
        return c.st != State::Closed;
    }

    // Echo bytes: compares them when this echo is checked.
    template <bool Deflate> bool payload_bytes(Conn& c, const uint8_t* p, std::size_t n) {
        if (c.got + n > opt.size) {
            fail(c, "echo longer than the message");
            return false;
        }
        const uint8_t* sent = Deflate ? c.z->plain.data() : payload.plain[c.variant].data();
        if (c.check && std::memcmp(sent + c.got, p, n) != 0) {
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
            if (!payload_bytes<false>(c, p, k)) {
                return false;
            }
            p += k;
            n -= k;
            if (c.got == opt.size && !message_done<false>(c)) {
                return false;
            }
        }
        return true;
    }

    template <bool Deflate> bool frame_done(Conn& c) {
        c.in_payload = false;
        if (c.control) {
            if (c.opcode == 0x8) {
                fail(c, "the server sent a close frame");
                return false;
            }
            return true; // ping or pong: nothing to do (servers here send none)
        }
        if (c.fin) {
            if constexpr (Deflate) {
                if (c.compressed && !inflate_end(c)) {
                    return false;
                }
            }
            return message_done<Deflate>(c);
        }
        return true;
    }

    // --deflate: compressed echo bytes, inflated and checked as they come.
    bool inflate_bytes(Conn& c, const uint8_t* p, std::size_t n) {
        int rc = c.z->in.feed(p, n, zout, [this, &c](const uint8_t* q, std::size_t m) {
            return payload_bytes<true>(c, q, m);
        });
        if (rc > 0) {
            fail(c, c.z->in.error().c_str());
        }
        return rc == 0;
    }

    bool inflate_end(Conn& c) {
        int rc = c.z->in.finish(zout, [this, &c](const uint8_t* q, std::size_t m) {
            return payload_bytes<true>(c, q, m);
        });
        if (rc > 0) {
            fail(c, c.z->in.error().c_str());
        }
        return rc == 0;
    }

    template <bool Deflate> bool feed_ws(Conn& c, const uint8_t* p, std::size_t n) {
        const uint8_t* end = p + n;
        while (p < end) {
            if (c.in_payload) {
                std::size_t k = static_cast<std::size_t>(end - p);
                if (k > c.frame_left) {
                    k = static_cast<std::size_t>(c.frame_left);
                }
                if (!c.control && !(Deflate && c.compressed ? inflate_bytes(c, p, k)
                                                            : payload_bytes<Deflate>(c, p, k))) {
                    return false;
                }
                p += k;
                c.frame_left -= k;
                if (c.frame_left == 0 && !frame_done<Deflate>(c)) {
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
            uint8_t rsv = c.hdr[0] & 0x70;
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
            // RSV1 marks a compressed message (RFC 7692), on its first frame only.
            if (rsv != 0 && !(Deflate && rsv == 0x40 && !c.control && c.first_frame)) {
                fail(c, Deflate ? "RSV bits other than RSV1 on a message's first frame"
                                : "RSV bits set in a frame from the server");
                return false;
            }
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
                if (c.first_frame ? c.opcode != g_opcode : !cont) {
                    fail(c, !c.first_frame    ? "expected a continuation frame"
                            : g_opcode == 0x1 ? "echo is not a text message"
                                              : "echo is not a binary message");
                    return false;
                }
                c.first_frame = false;
                if constexpr (Deflate) {
                    c.compressed = c.compressed || rsv != 0;
                    c.wire_in += need + len;
                }
            }
            c.frame_left = len;
            c.in_payload = true;
            if (len == 0 && !frame_done<Deflate>(c)) {
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
                              "Sec-WebSocket-Version: 13\r\n",
                              opt.path.c_str(), opt.host.c_str(), opt.port, key64);
        c.hs.assign(req, static_cast<std::size_t>(n));
        if (opt.deflate) {
            c.hs += "Sec-WebSocket-Extensions: " + offer_text() + "\r\n";
        }
        c.hs += "\r\n";
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

    // The answer's Sec-WebSocket-Extensions (all its lines joined; has: any
    // line at all) against what was offered: permessage-deflate with
    // --deflate, nothing without.  Records the agreement in c.pmd.
    bool agree_extensions(Conn& c, bool has, const std::string& ext) {
        if (!opt.deflate) {
            if (has) {
                fail(c, "Sec-WebSocket-Extensions in the answer, but none was offered");
                return false;
            }
            return true;
        }
        if (!has) {
            fail(c, "the server did not accept permessage-deflate "
                    "(no Sec-WebSocket-Extensions in its answer)");
            return false;
        }
        wsb::pmd_params answer;
        std::string err = wsb::pmd_parse(ext, false, answer);
        if (err.empty()) {
            err = wsb::pmd_agree(opt.offer, answer, c.pmd);
        }
        if (!err.empty()) {
            fail(c, ("bad permessage-deflate answer \"" + ext + "\": " + err).c_str());
            return false;
        }
        if (extensions.empty()) {
            extensions = ext;
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
        bool has_ext = false;
        std::string ext; // every Sec-WebSocket-Extensions line, joined
        std::size_t pos = c.hs.find("\r\n") + 2;
        static const char name[] = "sec-websocket-accept:";
        static const char ext_name[] = "sec-websocket-extensions:";
        while (pos < end) {
            std::size_t eol = c.hs.find("\r\n", pos);
            std::size_t len = eol - pos;
            std::size_t v = 0;
            bool is_accept =
                len > sizeof name - 1 && iequal(c.hs.data() + pos, name, sizeof name - 1);
            bool is_ext = len >= sizeof ext_name - 1 &&
                          iequal(c.hs.data() + pos, ext_name, sizeof ext_name - 1);
            if (is_accept || is_ext) {
                v = pos + (is_accept ? sizeof name : sizeof ext_name) - 1;
                while (v < eol && (c.hs[v] == ' ' || c.hs[v] == '\t')) {
                    v++;
                }
                std::size_t ve = eol;
                while (ve > v && (c.hs[ve - 1] == ' ' || c.hs[ve - 1] == '\t')) {
                    ve--;
                }
                if (is_accept) {
                    ok = c.hs.compare(v, ve - v, c.accept) == 0;
                } else {
                    ext += has_ext ? ", " : "";
                    ext.append(c.hs, v, ve - v);
                    has_ext = true;
                }
            }
            pos = eol + 2;
        }
        if (!ok) {
            fail(c, "wrong or missing Sec-WebSocket-Accept");
            return;
        }
        if (!agree_extensions(c, has_ext, ext)) {
            return;
        }
        std::string rest = c.hs.substr(end + 4);
        became_open(c);
        if (!rest.empty() && c.st != State::Closed) {
            if (c.st == State::Idle) {
                fail(c, "data on an idle connection");
                return;
            }
            auto* q = reinterpret_cast<const uint8_t*>(rest.data());
            if (opt.deflate) {
                feed_ws<true>(c, q, rest.size());
            } else {
                feed_ws<false>(c, q, rest.size());
            }
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
                    alive = opt.raw       ? feed_raw(c, rbuf.data(), len)
                            : opt.deflate ? feed_ws<true>(c, rbuf.data(), len)
                                          : feed_ws<false>(c, rbuf.data(), len);
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
        if (opt.deflate) {
            zout.resize(std::size_t{64} << 10);
        }
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

// The JSON fields on payload and compression, each followed by a comma:
// the kind of payload, whether permessage-deflate was on and what was
// offered and answered; in load mode also the bytes on the wire per message
// in each direction, frame headers included: counted over the window's
// msgs messages with --deflate, else worked out from the size (every
// message and echo one frame; in raw mode the message itself).
std::string payload_fields(const std::vector<Worker>& workers, uint64_t msgs) {
    std::string ext;
    uint64_t out = 0, in = 0, compressed = 0;
    for (const auto& w : workers) {
        if (ext.empty()) {
            ext = w.extensions;
        }
        out += w.wire_out;
        in += w.wire_in;
        compressed += w.compressed_echoes;
    }
    char buf[256];
    std::snprintf(buf, sizeof buf, "\"payload\":\"%s\",\"deflate\":%s,",
                  opt.json ? "json" : "binary", opt.deflate ? "true" : "false");
    std::string f = buf;
    if (opt.deflate) {
        f += "\"deflate_level\":" + std::to_string(opt.deflate_level) + ",\"offer\":\"" +
             json_escape(offer_text()) + "\",\"extensions\":\"" + json_escape(ext) + "\",";
    }
    if (opt.idle > 0) {
        return f;
    }
    double per_out, per_in;
    if (opt.deflate) {
        per_out = msgs ? static_cast<double>(out) / static_cast<double>(msgs) : -1;
        per_in = msgs ? static_cast<double>(in) / static_cast<double>(msgs) : -1;
    } else {
        per_out = static_cast<double>(payload.wire[0].size());
        per_in = static_cast<double>(opt.size + (opt.raw ? 0 : header_len(opt.size, false)));
    }
    std::snprintf(buf, sizeof buf,
                  "\"wire_counted\":%s,\"wire_out_per_msg\":%.1f,\"wire_in_per_msg\":%.1f,"
                  "\"compressed_echoes\":%" PRIu64 ",",
                  opt.deflate ? "true" : "false", per_out, per_in, compressed);
    return f + buf;
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
                    "%s\"first_error\":\"%s\"}\n",
                    json_escape(opt.label).c_str(), json_escape(opt.url).c_str(), opt.conns, idle,
                    g_failed.load(), errors, opt.idle_msgs, opt.size, open_s, rss_before, rss_after,
                    per_conn, payload_fields(workers, 0).c_str(), json_escape(first_error).c_str());
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
                "\"client_cpu_s\":%.3f,%s\"first_error\":\"%s\"}\n",
                opt.raw ? "raw" : "ws", json_escape(opt.label).c_str(),
                json_escape(opt.url).c_str(), opt.size, opt.conns, opt.frames, opt.threads,
                g_opened.load(), g_failed.load(), errors, secs, msgs, all_msgs,
                static_cast<double>(msgs) / secs, hist.mean() / 1e3, hist.quantile(0.5) / 1e3,
                hist.quantile(0.99) / 1e3, static_cast<double>(hist.max()) / 1e3, checked,
                server_cpu, per_cpu, cpu1 - cpu0, payload_fields(workers, msgs).c_str(),
                json_escape(first_error).c_str());
    std::fflush(stdout);
    return msgs > 0 ? 0 : 1;
}
