// Design notes.
//
// Negotiation is table work over the parsed extension list: each
// permessage-deflate element is read into the parameters it names (with
// its faults), then judged.  A server's answer and a client's offer are
// written through append_extensions, in a fixed order:
// server_no_context_takeover, client_no_context_takeover,
// server_max_window_bits, client_max_window_bits.
//
// The server's choices, rule by rule (RFC 7692 section 7.1):
//   * server_no_context_takeover: answered when offered (the only way to
//     accept it, 7.1.1.1) or when cfg sets it (a server MAY add it).
//   * client_no_context_takeover: answered when offered or when cfg sets
//     it.  The offer is only a hint (7.1.1.2: the client will reset
//     either way); echoing it lets this server free its inflater between
//     messages, and costs the client nothing it has not promised.
//   * server_max_window_bits=N offered: answered with the smaller of N and
//     cfg (7.1.2.1: "the same or smaller value"), always, since the answer
//     is how the offer is accepted.  N = 8 declines the offer: the answer
//     could only be 8 and zlib cannot compress with it.  Not offered: the
//     answer carries cfg's value when under 15 (a server MAY add it).
//   * client_max_window_bits offered (bare: the client supports the
//     parameter; with V: it will use at most V): the window is the smaller
//     of V (or 15) and cfg, answered when under 15, so both ends know the
//     window the server's inflater may use.  Not offered: the answer MUST
//     NOT carry it (7.1.2.2), so cfg's limit cannot apply and the client
//     keeps 15.  This accepts rather than declines: compression with a
//     32 KiB window beats none, and every browser offers the parameter.
//
// Compression.  Each message is deflated with Z_SYNC_FLUSH, which ends the
// output with an empty stored block (its header bits, then 00 00 ff ff);
// the 4 bytes are cut (section 7.2.1).  zlib emits nothing for a sync flush
// that follows another with no input between (deflate() returns
// Z_BUF_ERROR), which is what an empty message after another message gives
// with context takeover; the payload is then the single byte 0x00, the
// bits of an empty stored block's header, which the peer completes with
// its 00 00 ff ff.  The window is untouched by it, so both ends stay in
// step.
//
// Decompression.  Output space is given to zlib a piece at a time and
// never more than the message may still grow plus one byte, so a message
// over the limit is caught when zlib fills that last byte, having
// produced at most max_message + 1 bytes.  At the message's end the tail
// 00 00 ff ff is inflated and zlib must then stand at a block boundary with
// no input left: bit 128 of data_type, which inflate() sets when it
// returns just after the end of a block (zlib.h: data_type "is set as noted
// here every time inflate() returns for all flush options").  A stream that
// ends (Z_STREAM_END, a final block) is reset with its window carried over
// through inflateGetDictionary/inflateSetDictionary, and decoding goes on
// with the next byte.
//
// Memory is counted by zalloc/zfree: each block carries its size in a
// header, and the running total lives next to the z_stream, in one heap
// object per deflater or inflater (zlib keeps a pointer to the z_stream,
// so it must not move; the heap object makes deflater and inflater
// movable).
#include "websocket/deflate.hpp"

#include "websocket/close.hpp"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <new>
#include <zlib.h>

namespace nnghttp::detail::ws {

namespace {

constexpr std::string_view server_no_context = "server_no_context_takeover";
constexpr std::string_view client_no_context = "client_no_context_takeover";
constexpr std::string_view server_window = "server_max_window_bits";
constexpr std::string_view client_window = "client_max_window_bits";

constexpr int max_bits = 15;
constexpr int min_deflate_bits = 9; // zlib's smallest raw deflate window

// The end of every sync flush; cut by the sender, put back by the receiver.
constexpr std::string_view flush_tail("\x00\x00\xff\xff", 4);

// The largest piece of output space handed to inflate() at once.
constexpr std::size_t inflate_piece = 64u << 10;
// zlib.h asks for more than 6 bytes of output space during a flush.
constexpr std::size_t deflate_min_room = 64;

// ---- counting allocator ----

// Every block starts with its size, padded to keep zlib's part aligned.
constexpr std::size_t block_header = alignof(std::max_align_t);

void* count_alloc(void* opaque, uInt items, uInt size) {
    const std::size_t n = std::size_t(items) * std::size_t(size);
    if (size != 0 && n / size != items) {
        return Z_NULL;
    }
    void* p = std::malloc(n + block_header);
    if (p == nullptr) {
        return Z_NULL;
    }
    std::memcpy(p, &n, sizeof n);
    *static_cast<std::size_t*>(opaque) += n + block_header;
    return static_cast<char*>(p) + block_header;
}

void count_free(void* opaque, void* address) {
    if (address == nullptr) {
        return;
    }
    char* base = static_cast<char*>(address) - block_header;
    std::size_t n = 0;
    std::memcpy(&n, base, sizeof n);
    *static_cast<std::size_t*>(opaque) -= n + block_header;
    std::free(base);
}

void prepare(z_stream& zs, std::size_t& held) noexcept {
    zs.zalloc = count_alloc;
    zs.zfree = count_free;
    zs.opaque = &held;
    zs.next_in = Z_NULL;
    zs.avail_in = 0;
}

// zlib's next_in is not const unless ZLIB_CONST is defined; it never
// writes through it.
Bytef* input(const char* p) noexcept {
    return reinterpret_cast<Bytef*>(const_cast<char*>(p));
}

// ---- negotiation ----

// A window-bits value: decimal without leading zeros, 8..15 (section
// 7.1.2.1).  0 if invalid.
int parse_bits(std::string_view v) noexcept {
    if (v.size() == 1 && (v[0] == '8' || v[0] == '9')) {
        return v[0] - '0';
    }
    if (v.size() == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') {
        return 10 + (v[1] - '0');
    }
    return 0;
}

// The parameters of one permessage-deflate element, as written.
struct written {
    bool server_no_context = false;
    bool client_no_context = false;
    int server_bits = 0; // 0: absent
    bool client_bits_named = false;
    int client_bits = 0; // 0: absent, or named without a value
};

enum class fault : std::uint8_t { none, unknown, repeated, invalid };

// Reads e's parameters.  The rules differ in one place: an offer may name
// client_max_window_bits without a value, an answer may not (there it is
// the window the client must use).
fault read_params(const extension& e, bool answer, written& w) noexcept {
    bool seen[4] = {};
    for (const extension_param& p : e.params) {
        int which = 0;
        if (p.name == server_no_context) {
            which = 0;
        } else if (p.name == client_no_context) {
            which = 1;
        } else if (p.name == server_window) {
            which = 2;
        } else if (p.name == client_window) {
            which = 3;
        } else {
            return fault::unknown;
        }
        if (seen[which]) {
            return fault::repeated;
        }
        seen[which] = true;
        switch (which) {
        case 0:
        case 1:
            if (p.has_value) {
                return fault::invalid;
            }
            (which == 0 ? w.server_no_context : w.client_no_context) = true;
            break;
        case 2:
            w.server_bits = p.has_value ? parse_bits(p.value) : 0;
            if (w.server_bits == 0) {
                return fault::invalid;
            }
            break;
        default:
            w.client_bits_named = true;
            if (p.has_value) {
                w.client_bits = parse_bits(p.value);
                if (w.client_bits == 0) {
                    return fault::invalid;
                }
            } else if (answer) {
                return fault::invalid;
            }
            break;
        }
    }
    return fault::none;
}

// The parameters a valid offer leads to, or nullopt to decline it.
std::optional<deflate_params> judge_offer(const deflate_config& cfg, const written& o) noexcept {
    if (o.server_bits == 8) {
        return std::nullopt; // the answer could only be 8: zlib cannot
    }
    deflate_params p;
    p.server_no_context_takeover = o.server_no_context || cfg.server_no_context_takeover;
    p.client_no_context_takeover = o.client_no_context || cfg.client_no_context_takeover;
    p.server_max_window_bits = cfg.server_max_window_bits;
    if (o.server_bits != 0) {
        p.server_max_window_bits = std::min(o.server_bits, cfg.server_max_window_bits);
    }
    if (o.client_bits_named) {
        const int promised = o.client_bits != 0 ? o.client_bits : max_bits;
        p.client_max_window_bits = std::min(promised, cfg.client_max_window_bits);
    }
    return p;
}

void add_param(extension& e, std::string_view name) {
    e.params.push_back(extension_param{name, {}, false});
}

void add_param(extension& e, std::string_view name, int bits) {
    e.params.push_back(extension_param{name, std::to_string(bits), true});
}

} // namespace

// ---- configuration and parameters ----

bool deflate_config::is_valid() const noexcept {
    auto bits_ok = [](int b) { return b >= min_deflate_bits && b <= max_bits; };
    return bits_ok(server_max_window_bits) && bits_ok(client_max_window_bits) && level >= -1 &&
           level <= 9 && mem_level >= 1 && mem_level <= 9;
}

deflate_side deflate_params::outgoing(role self) const noexcept {
    if (self == role::server) {
        return {server_max_window_bits, server_no_context_takeover};
    }
    return {client_max_window_bits, client_no_context_takeover};
}

deflate_side deflate_params::incoming(role self) const noexcept {
    return outgoing(self == role::server ? role::client : role::server);
}

// ---- negotiation ----

std::optional<deflate_params>
deflate_accept(const deflate_config& cfg, std::span<const extension> offers, std::string& answer) {
    if (!cfg.enabled || !cfg.is_valid()) {
        return std::nullopt;
    }
    for (const extension& offer : offers) {
        written o;
        if (offer.name != permessage_deflate || read_params(offer, false, o) != fault::none) {
            continue;
        }
        const std::optional<deflate_params> p = judge_offer(cfg, o);
        if (!p) {
            continue;
        }
        extension e{permessage_deflate, {}};
        if (p->server_no_context_takeover) {
            add_param(e, server_no_context);
        }
        if (p->client_no_context_takeover) {
            add_param(e, client_no_context);
        }
        // Named in the offer: the answer must carry it to accept.
        if (o.server_bits != 0 || p->server_max_window_bits < max_bits) {
            add_param(e, server_window, p->server_max_window_bits);
        }
        if (p->client_max_window_bits < max_bits) {
            add_param(e, client_window, p->client_max_window_bits);
        }
        append_extensions(answer, std::span<const extension>(&e, 1));
        return p;
    }
    return std::nullopt;
}

void append_deflate_offer(std::string& out, const deflate_config& cfg) {
    if (!cfg.enabled || !cfg.is_valid()) {
        return;
    }
    extension e{permessage_deflate, {}};
    if (cfg.server_no_context_takeover) {
        add_param(e, server_no_context);
    }
    if (cfg.client_no_context_takeover) {
        add_param(e, client_no_context);
    }
    if (cfg.server_max_window_bits < max_bits) {
        add_param(e, server_window, cfg.server_max_window_bits);
    }
    if (cfg.client_max_window_bits < max_bits) {
        add_param(e, client_window, cfg.client_max_window_bits);
    } else {
        add_param(e, client_window);
    }
    append_extensions(out, std::span<const extension>(&e, 1));
}

deflate_answer check_deflate_answer(const deflate_config& cfg, std::span<const extension> answer) {
    using err = deflate_answer_error;
    const bool offered = cfg.enabled && cfg.is_valid();
    const extension* found = nullptr;
    for (const extension& e : answer) {
        if (!offered || e.name != permessage_deflate) {
            return {err::not_offered, std::nullopt};
        }
        if (found != nullptr) {
            return {err::duplicate, std::nullopt};
        }
        found = &e;
    }
    if (found == nullptr) {
        return {}; // declined
    }
    written a;
    switch (read_params(*found, true, a)) {
    case fault::none:
        break;
    case fault::unknown:
        return {err::unknown_param, std::nullopt};
    case fault::repeated:
        return {err::repeated_param, std::nullopt};
    case fault::invalid:
        return {err::invalid_value, std::nullopt};
    }
    // What the offer asked for must be granted (7.1.1.1, 7.1.2.1).
    if (cfg.server_max_window_bits < max_bits &&
        (a.server_bits == 0 || a.server_bits > cfg.server_max_window_bits)) {
        return {err::server_window, std::nullopt};
    }
    if (cfg.server_no_context_takeover && !a.server_no_context) {
        return {err::server_context, std::nullopt};
    }
    // The offer always names client_max_window_bits, with cfg's value when
    // under 15.  The answer may lower it (7.1.2.2), but not below what zlib
    // can compress with.  An answer above the offered value is a server
    // that "ignored" the value (7.1.2.2 allows that); the client keeps to
    // its own smaller window, which honours both.
    if (a.client_bits != 0 && a.client_bits < min_deflate_bits) {
        return {err::unsupported_window, std::nullopt};
    }
    deflate_params p;
    p.server_no_context_takeover = a.server_no_context;
    // An offered client_no_context_takeover is a promise kept either way.
    p.client_no_context_takeover = a.client_no_context || cfg.client_no_context_takeover;
    p.server_max_window_bits = a.server_bits != 0 ? a.server_bits : max_bits;
    p.client_max_window_bits = cfg.client_max_window_bits;
    if (a.client_bits != 0) {
        p.client_max_window_bits = std::min(a.client_bits, cfg.client_max_window_bits);
    }
    return {err::none, p};
}

// ---- deflater ----

struct deflater::state {
    z_stream zs{};
    std::size_t held = 0; // bytes zlib holds, counted by count_alloc
    bool live = false;    // deflateInit2 succeeded

    state() noexcept { prepare(zs, held); }
    ~state() {
        if (live) {
            deflateEnd(&zs);
        }
    }
    state(const state&) = delete;
    state& operator=(const state&) = delete;
};

deflater::deflater(deflate_side side, int level, int mem_level) noexcept
    : side_(side), level_(level), mem_level_(mem_level) {}

deflater::~deflater() = default;
deflater::deflater(deflater&&) noexcept = default;
deflater& deflater::operator=(deflater&&) noexcept = default;

std::size_t deflater::memory() const noexcept {
    return st_ ? sizeof(state) + st_->held : 0;
}

void deflater::release() noexcept {
    st_.reset();
}

bool deflater::open() noexcept {
    if (st_) {
        return true;
    }
    std::unique_ptr<state> s(new (std::nothrow) state);
    if (!s) {
        return false;
    }
    // A negative windowBits asks for raw DEFLATE: no zlib header or trailer.
    if (deflateInit2(&s->zs, level_, Z_DEFLATED, -side_.window_bits, mem_level_,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        return false; // deflateInit2 has freed what it took
    }
    s->live = true;
    st_ = std::move(s);
    return true;
}

// Runs deflate() until the input is used up (Z_NO_FLUSH) or the flush is
// complete (Z_SYNC_FLUSH: deflate() returned with output space to spare),
// writing at out[used..] and growing out as needed.
bool deflater::pump(int flush, std::string& out, std::size_t& used) {
    z_stream& zs = st_->zs;
    for (;;) {
        if (out.size() - used < deflate_min_room) {
            out.resize(used + std::max<std::size_t>(4096, out.size() / 2));
        }
        const std::size_t room = std::min<std::size_t>(out.size() - used, UINT_MAX);
        zs.next_out = reinterpret_cast<Bytef*>(out.data() + used);
        zs.avail_out = uInt(room);
        const int rc = deflate(&zs, flush);
        used += room - zs.avail_out;
        // Z_BUF_ERROR only says there was nothing to do.
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            return false;
        }
        if (flush == Z_NO_FLUSH ? zs.avail_in == 0 : zs.avail_out != 0) {
            return true;
        }
    }
}

bool deflater::compress(std::span<const std::string_view> pieces, std::string& out) {
    const std::size_t start = out.size();
    if (!open()) {
        return false;
    }
    z_stream& zs = st_->zs;
    std::size_t total = 0;
    for (std::string_view piece : pieces) {
        total += piece.size();
    }
    // A first guess at the room needed; pump() grows it.  Compressible
    // messages (the point of compressing) take a fraction of their size.
    out.resize(start + std::min<std::size_t>(deflateBound(&zs, total) + 8, total / 8 + 4096));
    std::size_t used = start;
    bool ok = true;
    try {
        for (std::string_view piece : pieces) {
            while (ok && !piece.empty()) {
                const std::size_t n = std::min<std::size_t>(piece.size(), UINT_MAX);
                zs.next_in = input(piece.data());
                zs.avail_in = uInt(n);
                ok = pump(Z_NO_FLUSH, out, used);
                piece.remove_prefix(n);
            }
        }
        ok = ok && pump(Z_SYNC_FLUSH, out, used);
    } catch (...) {
        // out could not grow: the stream has taken input the peer will
        // never see, so it cannot be used again.
        out.resize(start);
        release();
        throw;
    }
    zs.next_in = Z_NULL;
    zs.avail_in = 0;
    const std::size_t produced = used - start;
    const bool tail =
        produced >= flush_tail.size() &&
        std::string_view(out.data() + used - flush_tail.size(), flush_tail.size()) == flush_tail;
    if (!ok || (produced != 0 && !tail)) {
        out.resize(start);
        release();
        return false;
    }
    if (produced == 0) {
        out.resize(start);
        out.push_back('\0'); // an empty message after a flush: see top
    } else {
        out.resize(used - flush_tail.size());
    }
    if (side_.no_context_takeover) {
        release();
    }
    return true;
}

// ---- inflater ----

std::uint16_t close_code(inflate_status s) noexcept {
    switch (s) {
    case inflate_status::ok:
        return 0;
    case inflate_status::too_big:
        return close_too_big;
    case inflate_status::corrupt:
        return close_invalid_data;
    case inflate_status::no_memory:
        return close_internal_error;
    }
    return close_internal_error;
}

struct inflater::state {
    z_stream zs{};
    std::size_t held = 0; // bytes zlib holds, counted by count_alloc
    bool live = false;    // inflateInit2 succeeded

    state() noexcept { prepare(zs, held); }
    ~state() {
        if (live) {
            inflateEnd(&zs);
        }
    }
    state(const state&) = delete;
    state& operator=(const state&) = delete;
};

inflater::inflater(deflate_side side, std::uint64_t max_message) noexcept
    : side_(side), max_(max_message) {}

inflater::~inflater() = default;
inflater::inflater(inflater&&) noexcept = default;
inflater& inflater::operator=(inflater&&) noexcept = default;

std::size_t inflater::memory() const noexcept {
    return st_ ? sizeof(state) + st_->held : 0;
}

void inflater::release() noexcept {
    st_.reset();
    produced_ = 0;
    consumed_ = 0;
    boundary_ = true;
    error_ = inflate_status::ok;
}

bool inflater::open() noexcept {
    if (st_) {
        return true;
    }
    std::unique_ptr<state> s(new (std::nothrow) state);
    if (!s) {
        return false;
    }
    // Raw inflate; the window is allocated by the first inflate() call
    // that needs it.
    if (inflateInit2(&s->zs, -side_.window_bits) != Z_OK) {
        return false;
    }
    s->live = true;
    st_ = std::move(s);
    boundary_ = true;
    return true;
}

inflate_status inflater::fail(inflate_status s) noexcept {
    error_ = s;
    st_.reset();
    return s;
}

// After a final block: a fresh stream that keeps the window.
inflate_status inflater::restart() noexcept {
    z_stream& zs = st_->zs;
    // inflateGetDictionary copies at most the window (zlib.h: "32768 bytes
    // is always enough").
    std::unique_ptr<Bytef[]> window(new (std::nothrow) Bytef[std::size_t(1) << max_bits]);
    if (!window) {
        return inflate_status::no_memory;
    }
    uInt length = 0;
    if (inflateGetDictionary(&zs, window.get(), &length) != Z_OK || inflateReset(&zs) != Z_OK) {
        return inflate_status::corrupt;
    }
    if (length != 0) {
        const int rc = inflateSetDictionary(&zs, window.get(), length);
        if (rc != Z_OK) {
            return rc == Z_MEM_ERROR ? inflate_status::no_memory : inflate_status::corrupt;
        }
    }
    boundary_ = true;
    return inflate_status::ok;
}

// Inflates all of in, appending to out.
inflate_status inflater::run(std::string_view in, std::string& out) {
    z_stream& zs = st_->zs;
    while (!in.empty()) {
        const std::size_t n = std::min<std::size_t>(in.size(), UINT_MAX);
        zs.next_in = input(in.data());
        zs.avail_in = uInt(n);
        in.remove_prefix(n);
        for (;;) {
            // produced_ <= max_ here: one byte more than may still come
            // shows the message is too big.
            const std::uint64_t left = max_ - produced_;
            const std::size_t room = left < inflate_piece ? std::size_t(left) + 1 : inflate_piece;
            const std::size_t used = out.size();
            out.resize(used + room);
            zs.next_out = reinterpret_cast<Bytef*>(out.data() + used);
            zs.avail_out = uInt(room);
            const int rc = ::inflate(&zs, Z_SYNC_FLUSH);
            const std::size_t got = room - zs.avail_out;
            out.resize(used + got);
            produced_ += got;
            if (produced_ > max_) {
                return inflate_status::too_big;
            }
            if (rc == Z_STREAM_END) {
                // All its output is out; a fresh stream has none pending.
                const inflate_status s = restart();
                if (s != inflate_status::ok) {
                    return s;
                }
                if (zs.avail_in == 0) {
                    break;
                }
                continue;
            }
            if (rc == Z_MEM_ERROR) {
                return inflate_status::no_memory;
            }
            if (rc != Z_OK && rc != Z_BUF_ERROR) {
                return inflate_status::corrupt; // Z_DATA_ERROR, Z_NEED_DICT
            }
            // Set by every call, even one that only finishes a block from
            // bits zlib already holds.
            boundary_ = (zs.data_type & 128) != 0;
            if (zs.avail_in == 0 && zs.avail_out != 0) {
                break; // all input taken, no output pending
            }
            if (rc == Z_BUF_ERROR && zs.avail_out != 0) {
                return inflate_status::corrupt; // no progress with input and room
            }
        }
    }
    zs.next_in = Z_NULL;
    zs.avail_in = 0;
    return inflate_status::ok;
}

inflate_status inflater::feed(std::string_view in, bool last, std::string& out) {
    if (error_ != inflate_status::ok) {
        return error_;
    }
    consumed_ += in.size();
    if (consumed_ == 0 && !last) {
        return inflate_status::ok;
    }
    // consumed_ == 0 with last: a compressed message without a byte of
    // payload is taken as empty (see the header); zlib is left alone.
    if (consumed_ != 0) {
        if (!open()) {
            return fail(inflate_status::no_memory);
        }
        inflate_status s = inflate_status::ok;
        try {
            s = run(in, out);
            if (s == inflate_status::ok && last) {
                s = run(flush_tail, out);
            }
        } catch (...) {
            fail(inflate_status::no_memory);
            throw;
        }
        if (s == inflate_status::ok && last && !boundary_) {
            s = inflate_status::corrupt; // the data did not end where it must
        }
        if (s != inflate_status::ok) {
            return fail(s);
        }
    }
    if (last) {
        produced_ = 0;
        consumed_ = 0;
        if (side_.no_context_takeover) {
            st_.reset();
        }
    }
    return inflate_status::ok;
}

} // namespace nnghttp::detail::ws
