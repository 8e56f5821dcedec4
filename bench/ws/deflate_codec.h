// bench/ws/deflate_codec.h: permessage-deflate (RFC 7692) for wsload, the
// client side only: the parameters of an offer and of the server's answer,
// the check of that answer against the offer (section 7.1), and one
// connection's compressor and decompressor on zlib (section 7.2).
//
// A message is compressed as raw DEFLATE ended by a Z_SYNC_FLUSH, whose
// empty stored block ends in 00 00 ff ff; those four bytes are cut off
// before sending (7.2.1).  A received message gets them back before it is
// inflated (7.2.2).  Each direction keeps its LZ77 window from message to
// message ("context takeover") unless the answer says otherwise.
#ifndef BENCH_WS_DEFLATE_CODEC_H
#define BENCH_WS_DEFLATE_CODEC_H

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>
#include <zlib.h>

namespace wsb {

// The parameters of one permessage-deflate element, as written.  A window
// size is 0 when the parameter is absent, -1 when present without a value
// (allowed for client_max_window_bits in an offer only), else 8..15.
struct pmd_params {
    bool server_no_context_takeover = false;
    bool client_no_context_takeover = false;
    int server_max_window_bits = 0;
    int client_max_window_bits = 0;
};

// What the connection then does, once the answer has been checked.
struct pmd_agreement {
    bool client_reset = false;   // the client starts each message with an empty window
    bool server_reset = false;   // the server does
    int client_window_bits = 15; // the client's deflate window
    int server_window_bits = 15; // the window the server may use: the inflater's
};

namespace detail {

inline bool is_tchar(char ch) {
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')) {
        return true;
    }
    return ch != '\0' && std::strchr("!#$%&'*+-.^_`|~", ch) != nullptr;
}

inline void skip_ows(const std::string& s, std::size_t& i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) {
        i++;
    }
}

inline std::string lower(std::string s) {
    for (char& ch : s) {
        if (ch >= 'A' && ch <= 'Z') {
            ch = static_cast<char>(ch - 'A' + 'a');
        }
    }
    return s;
}

// A token at i, or "" if there is none.
inline std::string token(const std::string& s, std::size_t& i) {
    std::size_t b = i;
    while (i < s.size() && is_tchar(s[i])) {
        i++;
    }
    return s.substr(b, i - b);
}

// A quoted-string at i (RFC 7230 section 3.2.6), unquoted; false if malformed.
inline bool quoted(const std::string& s, std::size_t& i, std::string& out) {
    out.clear();
    i++; // the opening quote
    while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\') {
            i++;
            if (i == s.size()) {
                return false;
            }
        }
        out += s[i++];
    }
    if (i == s.size()) {
        return false;
    }
    i++;
    return true;
}

// A window-bits value: "8" to "15", no sign, no leading zero (RFC 7692
// section 7.1.2).
inline int window_value(const std::string& v) {
    if (v.empty() || v.size() > 2 || v[0] == '0') {
        return -2;
    }
    int n = 0;
    for (char ch : v) {
        if (ch < '0' || ch > '9') {
            return -2;
        }
        n = n * 10 + (ch - '0');
    }
    return n >= 8 && n <= 15 ? n : -2;
}

} // namespace detail

// Parses a Sec-WebSocket-Extensions value that must hold exactly one
// element, permessage-deflate with its parameters.  offer: a client's offer
// (client_max_window_bits may come without a value).  Returns "" or what is
// wrong with it.
inline std::string pmd_parse(const std::string& text, bool offer, pmd_params& out) {
    using namespace detail;
    out = pmd_params{};
    std::size_t i = 0;
    skip_ows(text, i);
    std::string name = lower(token(text, i));
    if (name != "permessage-deflate") {
        return name.empty() ? "no extension named"
                            : "an extension other than permessage-deflate: " + name;
    }
    bool seen[4] = {false, false, false, false};
    for (;;) {
        skip_ows(text, i);
        if (i == text.size()) {
            return "";
        }
        if (text[i] == ',') {
            return "more than one extension (only permessage-deflate was offered, once)";
        }
        if (text[i] != ';') {
            return "malformed parameter list";
        }
        i++;
        skip_ows(text, i);
        std::string key = lower(token(text, i));
        if (key.empty()) {
            return "malformed parameter list";
        }
        skip_ows(text, i);
        bool has_value = false;
        std::string value;
        if (i < text.size() && text[i] == '=') {
            i++;
            skip_ows(text, i);
            has_value = true;
            if (i < text.size() && text[i] == '"') {
                if (!quoted(text, i, value)) {
                    return "unterminated quoted value";
                }
            } else {
                value = token(text, i);
            }
        }
        int which;
        if (key == "server_no_context_takeover") {
            which = 0;
        } else if (key == "client_no_context_takeover") {
            which = 1;
        } else if (key == "server_max_window_bits") {
            which = 2;
        } else if (key == "client_max_window_bits") {
            which = 3;
        } else {
            return "unknown parameter " + key;
        }
        if (seen[which]) {
            return "parameter " + key + " given twice";
        }
        seen[which] = true;
        if (which < 2) {
            if (has_value) {
                return "parameter " + key + " takes no value";
            }
            (which == 0 ? out.server_no_context_takeover : out.client_no_context_takeover) = true;
            continue;
        }
        int bits = -1;
        if (has_value) {
            bits = window_value(value);
            if (bits < 0) {
                return "parameter " + key + " needs a value from 8 to 15, not " + value;
            }
        } else if (which == 2 || !offer) {
            return "parameter " + key + " needs a value";
        }
        (which == 2 ? out.server_max_window_bits : out.client_max_window_bits) = bits;
    }
}

// Checks the server's answer against the client's offer (RFC 7692 section
// 7.1) and works out what both sides then do.  Returns "" or the reason to
// fail the connection.
inline std::string pmd_agree(const pmd_params& offer, const pmd_params& answer,
                             pmd_agreement& out) {
    out = pmd_agreement{};
    if (answer.client_max_window_bits != 0 && offer.client_max_window_bits == 0) {
        return "the answer has client_max_window_bits, which was not offered";
    }
    if (offer.server_max_window_bits > 0) {
        if (answer.server_max_window_bits == 0) {
            return "server_max_window_bits was offered and the answer lacks it";
        }
        if (answer.server_max_window_bits > offer.server_max_window_bits) {
            return "the answer's server_max_window_bits is above the offer's";
        }
    }
    out.client_reset = offer.client_no_context_takeover || answer.client_no_context_takeover;
    out.server_reset = answer.server_no_context_takeover;
    out.server_window_bits = answer.server_max_window_bits > 0 ? answer.server_max_window_bits : 15;
    int client = 15;
    if (offer.client_max_window_bits > 0) {
        client = offer.client_max_window_bits;
    }
    if (answer.client_max_window_bits > 0 && answer.client_max_window_bits < client) {
        client = answer.client_max_window_bits;
    }
    if (client == 8) {
        // zlib refuses a 256-byte window for raw deflate (deflateInit2).
        return "client_max_window_bits=8: zlib cannot compress with a 256-byte window";
    }
    out.client_window_bits = client;
    return "";
}

// One direction's compressor: each call compresses one whole message.
class pmd_deflater {
  public:
    pmd_deflater() = default;
    pmd_deflater(const pmd_deflater&) = delete;
    pmd_deflater& operator=(const pmd_deflater&) = delete;
    ~pmd_deflater() {
        if (live_) {
            deflateEnd(&z_);
        }
    }

    // level 0..9 (or -1, zlib's default 6), window_bits 9..15, mem_level 1..9.
    bool init(int level, int window_bits, int mem_level, bool reset_each) {
        z_ = z_stream{};
        live_ = deflateInit2(&z_, level, Z_DEFLATED, -window_bits, mem_level, Z_DEFAULT_STRATEGY) ==
                Z_OK;
        reset_each_ = reset_each;
        return live_;
    }

    // An upper bound of compress's output for a message of n bytes.
    std::size_t bound(std::size_t n) { return deflateBound(&z_, static_cast<uLong>(n)) + 16; }

    // Compresses the message [p, p + n) into out (grown when too small; its
    // size is the capacity, not the result) and returns the length of the
    // payload to send, the trailing 00 00 ff ff cut off; or -1 on an error.
    long compress(const uint8_t* p, std::size_t n, std::vector<uint8_t>& out) {
        if (out.size() < 64) {
            out.resize(bound(n));
        }
        z_.next_in = const_cast<Bytef*>(p);
        z_.avail_in = static_cast<uInt>(n);
        std::size_t have = 0;
        for (;;) {
            z_.next_out = out.data() + have;
            z_.avail_out = static_cast<uInt>(out.size() - have);
            int rc = deflate(&z_, Z_SYNC_FLUSH);
            have = out.size() - z_.avail_out;
            if (rc != Z_OK && rc != Z_BUF_ERROR) {
                return -1;
            }
            // Output space left over means the flush is complete.
            if (z_.avail_out != 0) {
                break;
            }
            out.resize(out.size() * 2);
        }
        long len;
        static const uint8_t tail[4] = {0x00, 0x00, 0xff, 0xff};
        if (have == 0 && n == 0) {
            // An empty message right after a flush: zlib writes nothing for
            // a second flush in a row.  A lone 0x00 starts an empty stored
            // block, which the receiver's appended tail completes (RFC 7692
            // section 7.2.3.6).
            out[0] = 0x00;
            len = 1;
        } else if (have >= 4 && std::memcmp(out.data() + have - 4, tail, 4) == 0) {
            len = static_cast<long>(have - 4);
        } else {
            return -1;
        }
        if (reset_each_ && deflateReset(&z_) != Z_OK) {
            return -1;
        }
        return len;
    }

  private:
    z_stream z_{};
    bool live_ = false;
    bool reset_each_ = false;
};

// One direction's decompressor: a message's payload is fed in pieces as it
// arrives, then finished; the output goes to a sink in pieces.
class pmd_inflater {
  public:
    pmd_inflater() = default;
    pmd_inflater(const pmd_inflater&) = delete;
    pmd_inflater& operator=(const pmd_inflater&) = delete;
    ~pmd_inflater() {
        if (live_) {
            inflateEnd(&z_);
        }
    }

    // window_bits 8..15: the largest window the peer may use; a back
    // reference beyond it is an error.
    bool init(int window_bits, bool reset_each) {
        z_ = z_stream{};
        live_ = inflateInit2(&z_, -window_bits) == Z_OK;
        reset_each_ = reset_each;
        ended_ = false;
        return live_;
    }

    // Feeds [p, p + n) of the current message's payload; sink(const uint8_t*,
    // std::size_t) gets the output, through scratch, and returns false to
    // abandon.  Returns 0, -1 if the sink abandoned, or 1 on a DEFLATE error
    // (error() says which).
    template <class Sink>
    int feed(const uint8_t* p, std::size_t n, std::vector<uint8_t>& scratch, Sink&& sink) {
        if (ended_) {
            return 0; // after a final block the rest of the message is ignored
        }
        z_.next_in = const_cast<Bytef*>(p);
        z_.avail_in = static_cast<uInt>(n);
        for (;;) {
            z_.next_out = scratch.data();
            z_.avail_out = static_cast<uInt>(scratch.size());
            int rc = inflate(&z_, Z_SYNC_FLUSH);
            std::size_t got = scratch.size() - z_.avail_out;
            if (rc == Z_STREAM_END) {
                ended_ = true;
            } else if (rc != Z_OK && !(rc == Z_BUF_ERROR && (got > 0 || z_.avail_in == 0))) {
                error_ = "the compressed echo does not inflate: ";
                error_ +=
                    z_.msg != nullptr ? std::string(z_.msg) : "zlib error " + std::to_string(rc);
                return 1;
            }
            if (got > 0 && !sink(static_cast<const uint8_t*>(scratch.data()), got)) {
                return -1;
            }
            if (ended_ || (z_.avail_in == 0 && z_.avail_out != 0)) {
                return 0;
            }
        }
    }

    // Ends the current message: its 00 00 ff ff tail, then a reset if the
    // sender starts every message afresh.  Same results as feed.
    template <class Sink> int finish(std::vector<uint8_t>& scratch, Sink&& sink) {
        static const uint8_t tail[4] = {0x00, 0x00, 0xff, 0xff};
        int rc = feed(tail, sizeof tail, scratch, sink);
        if (rc != 0) {
            return rc;
        }
        if (reset_each_) {
            ended_ = false;
            return inflateReset(&z_) == Z_OK ? 0 : fault("inflateReset failed");
        }
        if (ended_) {
            // A final block (BFINAL) ended the DEFLATE stream, but the next
            // message may still refer back into this one's window: keep it.
            uint8_t window[32768];
            uInt len = 0;
            if (inflateGetDictionary(&z_, window, &len) != Z_OK || inflateReset(&z_) != Z_OK ||
                (len > 0 && inflateSetDictionary(&z_, window, len) != Z_OK)) {
                return fault("carrying the window over a final block failed");
            }
        }
        ended_ = false;
        return 0;
    }

    const std::string& error() const { return error_; }

  private:
    int fault(const char* why) {
        error_ = why;
        return 1;
    }
    z_stream z_{};
    bool live_ = false;
    bool reset_each_ = false;
    bool ended_ = false;
    std::string error_;
};

} // namespace wsb

#endif
