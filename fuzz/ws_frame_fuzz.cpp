// libFuzzer target for the WebSocket protocol core (src/websocket).
//
// Byte 0 picks the mode (its low two bits) and the settings (the rest);
// byte 1 picks split points; the rest is the input.  Invariants checked
// (any failure aborts):
//  * raw streams: decoding whole, in two pieces, and copied out through a
//    small buffer give the same messages, control frames and verdict at
//    the same offset; every event keeps the decoder's contract (views
//    inside their buffer, first/last flags, need_more takes everything);
//    every text message accepted is UTF-8 by the reference checker; the
//    messages and control frames decoded, encoded again by the encoder,
//    decode to the same ones;
//  * built streams: messages, fragments, pings and a close drawn from the
//    input, written by the encoder, decode to exactly what was written, or,
//    where a text message is not UTF-8 or the close is invalid, fail with
//    the expected error at the expected byte (computed from the reference
//    checker and the frame layout);
//  * UTF-8: the validator, fed in pieces, agrees with the reference checker
//    (tests/unit/websocket/utf8_reference.hpp) on the first bad byte and on
//    completeness;
//  * handshake strings: extension lists written back parse to the same
//    extensions; token lists agree with the membership tests; a
//    Sec-WebSocket-Key is valid exactly when it is the canonical base64 of
//    16 bytes by OpenSSL's own decoder and encoder.
#include "utf8_reference.hpp"
#include "websocket/close.hpp"
#include "websocket/decoder.hpp"
#include "websocket/encoder.hpp"
#include "websocket/extensions.hpp"
#include "websocket/handshake.hpp"
#include "websocket/utf8.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <openssl/evp.h>
#include <string>
#include <string_view>
#include <vector>

using namespace nnghttp::detail::ws;
using nnghttp::detail::ws::test::reference_utf8;
using nnghttp::detail::ws::test::utf8_verdict;

namespace {

// Aborts, naming the line of the invariant that failed.
void check(bool ok, int line = __builtin_LINE()) {
    if (!ok) {
        std::fprintf(stderr, "ws_frame_fuzz.cpp:%d: invariant failed\n", line);
        std::abort();
    }
}

// One decoded message or control frame.
struct entry {
    opcode op;
    std::uint8_t rsv;
    std::string payload; // messages, pings, pongs
    std::uint16_t code;  // close
    std::string reason;  // close
    bool operator==(const entry&) const = default;
};

struct decoded {
    std::vector<entry> log;
    decode_status status = decode_status::need_more;
    frame_error error = frame_error::none;
    std::uint64_t error_offset = 0;
    bool operator==(const decoded&) const = default;
};

// Decodes in up to two pieces (cut at split), in place (out_size 0) or
// copied through an out buffer of out_size bytes.
decoded decode_all(role side, const decoder_options& opts, std::string_view in, std::size_t split,
                   std::size_t out_size) {
    frame_decoder d(side, opts);
    decoded res;
    std::string pending, msg;
    std::vector<char> out(out_size);
    bool expect_first = true;
    std::size_t fed = 0;
    std::size_t head = 0; // pending[0, head) is consumed
    auto run = [&](std::size_t upto) {
        pending.erase(0, head);
        head = 0;
        pending.append(in.substr(fed, upto - fed));
        fed = upto;
        for (;;) {
            std::span<char> rest(pending.data() + head, pending.size() - head);
            decode_result r = out_size == 0 ? d.decode(rest)
                                            : d.decode(std::string_view(rest.data(), rest.size()),
                                                       std::span<char>(out));
            check(r.consumed <= rest.size());
            head += r.consumed;
            if (r.status == decode_status::data) {
                const char* lo = out_size == 0 ? rest.data() : out.data();
                const std::size_t room = out_size == 0 ? r.consumed : out_size;
                check(r.data.empty() ||
                      (r.data.data() >= lo && r.data.data() + r.data.size() <= lo + room));
                check(r.first == expect_first);
                check(r.op == opcode::text || r.op == opcode::binary);
                check(!r.data.empty() || r.last);
                expect_first = r.last;
                msg.append(r.data);
                if (r.last) {
                    if (r.op == opcode::text && r.rsv == 0 && opts.validate_text) {
                        check(reference_utf8(msg).complete);
                    }
                    res.log.push_back({r.op, r.rsv, msg, 0, {}});
                    msg.clear();
                }
            } else if (r.status == decode_status::control) {
                check(is_control(r.op) && r.data.size() <= max_control_payload);
                res.log.push_back(
                    {r.op, 0, std::string(r.data), r.close_code, std::string(r.close_reason)});
            } else if (r.status == decode_status::need_more) {
                check(r.consumed == rest.size());
                return true;
            } else {
                check(r.consumed == 0);
                res.status = r.status;
                res.error = r.error;
                res.error_offset = r.error_offset;
                check(r.status == decode_status::closed || close_code(r.error) != 0);
                return false;
            }
        }
    };
    if (split > 0 && split < in.size() && !run(split)) {
        return res;
    }
    run(in.size());
    return res;
}

decoder_options fuzz_options(std::uint8_t s) {
    decoder_options o;
    if (s & 0x04) {
        o.rsv_first = rsv1;
    }
    if (s & 0x08) {
        o.validate_text = false;
    }
    if (s & 0x10) { // small limits, to reach them
        o.max_frame = 64;
        o.max_message = 200;
        o.max_fragments = 5;
    }
    return o;
}

// Writes entries as frames a peer of `side` would send (masked when side
// is a server), cutting messages into pieces of `piece` bytes.
std::string encode_log(role side, const std::vector<entry>& log, std::size_t piece) {
    std::string wire;
    std::uint8_t k = 0;
    auto opts = [&](bool fin, std::uint8_t rsv) {
        frame_options o;
        o.fin = fin;
        o.rsv = rsv;
        if (side == role::server) {
            o.mask = mask_key{k, std::uint8_t(k ^ 0x5a), std::uint8_t(k * 7), 0xc3};
            k++;
        }
        return o;
    };
    for (const entry& e : log) {
        if (e.op == opcode::close) {
            check(append_close(wire, e.code, e.reason, opts(true, 0).mask));
        } else if (is_control(e.op)) {
            append_frame(wire, e.op, e.payload, opts(true, 0));
        } else {
            std::size_t at = 0;
            do {
                const std::size_t n = std::min(piece, e.payload.size() - at);
                const bool first = at == 0;
                at += n;
                append_frame(wire, first ? e.op : opcode::continuation,
                             std::string_view(e.payload).substr(at - n, n),
                             opts(at == e.payload.size(), first ? e.rsv : 0));
            } while (at < e.payload.size());
        }
    }
    return wire;
}

void fuzz_raw(std::uint8_t s, std::uint8_t cut, std::string_view in) {
    const role side = (s & 0x20) ? role::client : role::server;
    const decoder_options opts = fuzz_options(s);
    const std::size_t split = in.empty() ? 0 : cut * in.size() / 256;
    const decoded whole = decode_all(side, opts, in, 0, 0);
    check(decode_all(side, opts, in, split, 0) == whole);
    check(decode_all(side, opts, in, split, std::size_t(cut % 7) + 1) == whole);
    // Encode what was decoded and decode it again, with no limits (the new
    // fragmentation differs from the old).
    decoder_options again_opts = opts;
    again_opts.max_frame = again_opts.max_message = again_opts.max_fragments =
        decoder_options::unlimited;
    const std::string wire = encode_log(side, whole.log, std::size_t(cut % 50) + 1);
    const decoded again = decode_all(side, again_opts, wire, wire.size() / 2, 0);
    check(again.log == whole.log);
    const bool closed = !whole.log.empty() && whole.log.back().op == opcode::close;
    check(again.status == (closed ? decode_status::closed : decode_status::need_more));
}

// Builds a stream from the input: each step draws a message or a control
// frame.  Returns the expected outcome alongside.
struct builder {
    std::string_view in;
    std::size_t i = 0;
    role side;
    std::string wire;
    decoded want;
    std::uint8_t k = 0;

    bool more() const { return i < in.size() && !done(); }
    bool done() const { return want.status != decode_status::need_more; }
    std::uint8_t byte() { return i < in.size() ? std::uint8_t(in[i++]) : 0; }
    std::string bytes(std::size_t n) {
        n = std::min(n, in.size() - i);
        std::string s(in.substr(i, n));
        i += n;
        return s;
    }
    frame_options opts(bool fin) {
        frame_options o;
        o.fin = fin;
        if (side == role::server) {
            o.mask = mask_key{std::uint8_t(k + 1), k, std::uint8_t(k * 5), std::uint8_t(~k)};
            k++;
        }
        return o;
    }
    // Appends a frame; returns the wire offset of its first payload byte.
    std::size_t frame(opcode op, std::string_view payload, bool fin) {
        const frame_options o = opts(fin);
        append_frame(wire, op, payload, o);
        return wire.size() - payload.size();
    }
    void fail(frame_error e, std::uint64_t at) {
        want.status = decode_status::error;
        want.error = e;
        want.error_offset = at;
    }

    void message(std::uint8_t c) {
        const opcode op = (c & 1) ? opcode::binary : opcode::text;
        const std::size_t len = std::size_t(byte()) * ((c & 0x80) ? 97 : 1);
        const std::string payload = bytes(len);
        const std::size_t piece = std::size_t(byte() % 40) + 1;
        const bool pings = (c & 0x40) != 0;
        const utf8_verdict v = reference_utf8(payload);
        std::vector<std::size_t> where; // wire offset of every payload byte
        std::size_t at = 0;
        do {
            const std::size_t n = std::min(piece, payload.size() - at);
            const std::size_t p =
                frame(at == 0 ? op : opcode::continuation, std::string_view(payload).substr(at, n),
                      at + n == payload.size());
            for (std::size_t j = 0; j < n; j++) {
                where.push_back(p + j);
            }
            at += n;
            if (op == opcode::text && v.fail != utf8_verdict::npos && v.fail < at) {
                fail(frame_error::invalid_utf8, where[v.fail]);
                return;
            }
            if (pings && at < payload.size()) {
                frame(opcode::ping, "p", true);
                want.log.push_back({opcode::ping, 0, "p", 0, {}});
            }
        } while (at < payload.size());
        if (op == opcode::text && !v.complete) {
            fail(frame_error::invalid_utf8, wire.size() - 1); // cut short
            return;
        }
        want.log.push_back({op, 0, payload, 0, {}});
    }

    void control(std::uint8_t c) {
        const opcode op = (c & 1) ? opcode::pong : opcode::ping;
        const std::string payload = bytes(byte() % 126);
        frame(op, payload, true);
        want.log.push_back({op, 0, payload, 0, {}});
    }

    void close() {
        const auto code = std::uint16_t(byte() << 8 | byte());
        const std::string reason = bytes(byte() % 124);
        std::string payload;
        payload.push_back(char(code >> 8));
        payload.push_back(char(code & 0xFF));
        payload += reason;
        frame(opcode::close, payload, true);
        if (!is_valid_close_code(code)) {
            fail(frame_error::invalid_close_code, wire.size() - 1);
        } else if (!reference_utf8(reason).complete) {
            fail(frame_error::invalid_close_reason, wire.size() - 1);
        } else {
            want.log.push_back({opcode::close, 0, payload, code, reason});
            want.status = decode_status::closed;
        }
    }
};

void fuzz_built(std::uint8_t s, std::uint8_t cut, std::string_view in) {
    builder b{in, 0, (s & 0x20) ? role::client : role::server};
    while (b.more() && b.want.log.size() < 64) {
        const std::uint8_t c = b.byte();
        switch ((c >> 1) % 4) {
        case 0:
        case 1:
            b.message(c);
            break;
        case 2:
            b.control(c);
            break;
        default:
            b.close();
            break;
        }
    }
    decoder_options o;
    const std::size_t split = b.wire.empty() ? 0 : cut * b.wire.size() / 256;
    check(decode_all(b.side, o, b.wire, split, 0) == b.want);
    check(decode_all(b.side, o, b.wire, 0, std::size_t(cut % 13) + 1) == b.want);
}

void fuzz_utf8(std::uint8_t cut, std::string_view in) {
    const utf8_verdict want = reference_utf8(in);
    const std::size_t a = in.empty() ? 0 : cut * in.size() / 256;
    const std::size_t c = (a + in.size()) / 2;
    utf8_validator v;
    utf8_verdict got{utf8_verdict::npos, false};
    std::size_t from = 0;
    for (std::size_t to : {a, c, in.size()}) {
        const std::size_t ok = v.feed(in.substr(from, to - from));
        if (ok < to - from) {
            got.fail = from + ok;
            break;
        }
        from = to;
    }
    if (got.fail == utf8_verdict::npos) {
        got.complete = v.complete();
    }
    check(got == want);
    check(is_valid_utf8(in) == want.complete);
    if (want.complete) {
        std::string_view f = fit_close_reason(in);
        check(f.size() <= max_close_reason && is_valid_utf8(f));
        check(f.size() == in.size() || in.size() > max_close_reason);
    }
}

// is_valid_key by OpenSSL: 24 characters that decode and encode back to
// themselves from 16 bytes.
bool reference_key(std::string_view key) {
    if (key.size() != 24) {
        return false;
    }
    unsigned char raw[18];
    if (EVP_DecodeBlock(raw, reinterpret_cast<const unsigned char*>(key.data()), 24) != 18) {
        return false;
    }
    unsigned char text[25];
    EVP_EncodeBlock(text, raw, 16);
    return std::string_view(reinterpret_cast<const char*>(text), 24) == key;
}

void fuzz_strings(std::string_view in) {
    std::vector<extension> exts;
    if (parse_extensions(in, exts)) {
        check(!exts.empty());
        std::string text;
        append_extensions(text, exts);
        std::vector<extension> again;
        check(parse_extensions(text, again) && again == exts);
    } else {
        check(exts.empty());
    }
    std::vector<std::string_view> tokens;
    const bool list_ok = parse_token_list(in, tokens);
    for (std::string_view t : tokens) {
        check(token_list_contains(in, t));
    }
    check(list_ok || !token_list_contains(in, "upgrade"));
    if (list_ok && token_list_contains(in, "websocket")) {
        check(upgrade_has_websocket(in));
    }
    std::vector<std::string_view> offered;
    if (parse_protocols(in, offered)) {
        check(offered.size() == tokens.size());
        for (std::string_view p : offered) {
            check(is_offered_protocol(offered, p));
            const std::string_view one[] = {p};
            check(choose_protocol(offered, one) == p);
        }
    }
    check(is_valid_key(in) == reference_key(in));
    check(accept_key(in).size() == 28);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) {
        return 0;
    }
    const std::uint8_t mode = data[0];
    std::string_view in(reinterpret_cast<const char*>(data + 2), size - 2);
    switch (mode & 3) {
    case 0:
        fuzz_raw(mode, data[1], in);
        break;
    case 1:
        fuzz_built(mode, data[1], in);
        break;
    case 2:
        fuzz_utf8(data[1], in);
        break;
    default:
        fuzz_strings(in);
        break;
    }
    return 0;
}
