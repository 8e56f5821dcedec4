// permessage-deflate (RFC 7692): the negotiation of its parameters in the
// opening handshake, and the compression and decompression of message
// payloads with zlib's raw DEFLATE.  Pure code: no I/O, no locks; one
// deflater and one inflater belong to one connection and are used from one
// thread at a time.
//
// Negotiation (section 7.1).  A server picks the first permessage-deflate
// offer it can honour from the client's Sec-WebSocket-Extensions, in the
// client's order, and answers it (deflate_accept); a client sends one offer
// made from its configuration (append_deflate_offer) and checks the answer
// (check_deflate_answer).  Both end with the same deflate_params.  What each
// parameter means, and the choices this code makes, are written next to
// the functions below.  Parameter and extension names compare exactly, byte
// for byte (RFC 7692 defines them in lower case; section 9.1 of RFC 6455
// does not make them case-insensitive).
//
// Payloads (section 7.2).  A compressed message is the raw DEFLATE data of
// its payload, flushed with an empty stored block whose last 4 bytes
// (00 00 ff ff) are left off; RSV1 is set on its first frame.  deflater
// produces that from a whole message; inflater takes it back frame by
// frame, adding the 4 bytes at the end.  Each side keeps its LZ77 window
// from one message to the next ("context takeover") unless the negotiated
// no_context_takeover flag for the side that compresses says otherwise.
//
// zlib and windows of 256 bytes (window bits 8).  RFC 7692 allows window
// bits 8 to 15.  zlib compresses with at least 9 (zlib.h, deflateInit2:
// "a request for a 256-byte window is rejected as invalid" for raw
// deflate), so this end never promises to compress with 8: a server
// declines an offer that asks it to (its answer may not exceed the offered
// value), and a client fails a handshake whose answer tells it to.
// Decompressing with 8 is fine (inflateInit2 takes -8..-15), so a peer may
// compress with any window.
//
// Memory.  Nothing is allocated before the first message; an end with
// no_context_takeover frees its zlib state after every message, so an idle
// connection holds nothing; with context takeover the state (the window)
// is kept, which is the point.  memory() counts every byte zlib asked for
// (through zalloc/zfree) plus the stream itself.  At the defaults (window
// bits 15, memory level 8) a deflater holds about 262 KiB and an inflater
// about 39 KiB; zconf.h gives the formulas.
#pragma once

#include "websocket/extensions.hpp"
#include "websocket/frame.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace nnghttp::detail::ws {

inline constexpr std::string_view permessage_deflate = "permessage-deflate";

// What this end wants and allows; the same structure serves a client and a
// server, each field read from the role's point of view.  Window bits are
// 9..15 (see above for 8); is_valid() checks every field.
struct deflate_config {
    // Offer (client) or accept (server) permessage-deflate at all.
    bool enabled = false;
    // The server starts every message with an empty window.  A server sets
    // it for itself (it then needs no window between messages); a client
    // asks the server for it.
    bool server_no_context_takeover = false;
    // The same for the client's messages.  A server asks the client for it
    // (its inflater then holds nothing between messages); a client offers
    // it as a promise and keeps it whatever the answer.
    bool client_no_context_takeover = false;
    // The largest window the server compresses with.  A server uses it as
    // its own limit (and says so when under 15); a client asks for it when
    // under 15, which limits the memory of its inflater.
    int server_max_window_bits = 15;
    // The largest window the client compresses with.  A server asks for it
    // when under 15 and the client offered the parameter (RFC 7692 gives no
    // other way); a client offers it as a promise.
    int client_max_window_bits = 15;
    // Messages shorter than this are sent uncompressed (RSV1 clear): below a
    // few dozen bytes DEFLATE rarely saves anything.  The sender decides;
    // nothing here reads it.
    std::size_t min_size = 0;
    // zlib's compression level, 0 (stored) to 9; 6 is zlib's own default
    // (Z_DEFAULT_COMPRESSION) and a good balance; 1 is much faster on large
    // messages for a few percent more bytes.
    int level = 6;
    // zlib's memLevel, 1..9: the memory of the deflater's hash tables and
    // pending buffer (2^(mem_level+9) bytes together), for speed and ratio.
    int mem_level = 8;

    // Whether every field is in range.
    bool is_valid() const noexcept;
};

// How one side compresses: the window it may use and whether it starts
// each message afresh.
struct deflate_side {
    int window_bits = 15;
    bool no_context_takeover = false;

    friend bool operator==(const deflate_side&, const deflate_side&) = default;
};

// The outcome of a negotiation: the parameters in force for each side.
// Window bits are 8..15 (the server's may be 8, see above).
struct deflate_params {
    bool server_no_context_takeover = false;
    bool client_no_context_takeover = false;
    int server_max_window_bits = 15;
    int client_max_window_bits = 15;

    // How the end with role `self` compresses (its deflater), and how its
    // peer does (its inflater).
    deflate_side outgoing(role self) const noexcept;
    deflate_side incoming(role self) const noexcept;

    friend bool operator==(const deflate_params&, const deflate_params&) = default;
};

// Server: the first offer in `offers` (a request's parsed
// Sec-WebSocket-Extensions, in order; other extensions are passed over)
// that cfg can honour.  On success the answer ("permessage-deflate" and its
// parameters, see deflate.cpp for their order) is appended to `answer` and
// the agreed parameters returned; nullopt declines every offer (answer
// unchanged), and the connection goes on without compression.  An offer
// is declined (RFC 7692 section 7.1) when it has a parameter RFC 7692 does
// not define for offers, a parameter twice, or an invalid value; and when
// it asks the server for server_max_window_bits=8 (see above).  Beyond the
// client's requests the server adds what cfg asks for: its own
// no_context_takeover flags, and window limits under 15 (the client's only
// when the offer carried client_max_window_bits).  Declines everything if
// cfg is disabled or invalid.
std::optional<deflate_params>
deflate_accept(const deflate_config& cfg, std::span<const extension> offers, std::string& answer);

// Client: appends the offer for cfg (nothing if cfg is disabled or
// invalid), e.g. "permessage-deflate; client_max_window_bits".  The offer
// always carries client_max_window_bits, so the server may lower the
// client's window, with the value cfg.client_max_window_bits when under 15.
void append_deflate_offer(std::string& out, const deflate_config& cfg);

// What is wrong with a server's answer; every error fails the handshake
// (RFC 7692 section 7.1: "A client MUST _Fail the WebSocket Connection_").
enum class deflate_answer_error : std::uint8_t {
    none = 0,
    not_offered,        // an extension the client did not offer (RFC 6455 9.1)
    duplicate,          // permessage-deflate more than once
    unknown_param,      // a parameter not defined for a response
    repeated_param,     // the same parameter twice
    invalid_value,      // a missing, unexpected or out-of-range value
    server_window,      // server_max_window_bits asked for but missing or larger
    server_context,     // server_no_context_takeover asked for but missing
    unsupported_window, // client_max_window_bits=8: zlib cannot compress so
                        // (see above)
};

struct deflate_answer {
    deflate_answer_error error = deflate_answer_error::none;
    // No error and the server accepted: the parameters now in force.
    std::optional<deflate_params> params;
};

// Client: checks the server's answer (its parsed Sec-WebSocket-Extensions;
// empty when it sent none) against the offer append_deflate_offer made for
// cfg.  No error and no params: the server declined and the connection
// goes on without compression.  A server may add server_no_context_takeover,
// client_no_context_takeover and server_max_window_bits on its own, and may
// lower client_max_window_bits.  What the client offered as a promise it
// keeps whatever the answer: client_no_context_takeover, and
// client_max_window_bits=N (an answer above N leaves the window at N).
deflate_answer check_deflate_answer(const deflate_config& cfg, std::span<const extension> answer);

// Compresses whole messages for one side of a connection.
class deflater {
  public:
    // side.window_bits must be 9..15 (the negotiation never yields 8 for
    // this end), level 0..9 or -1, mem_level 1..9.
    explicit deflater(deflate_side side, int level = 6, int mem_level = 8) noexcept;
    ~deflater();
    deflater(deflater&&) noexcept;
    deflater& operator=(deflater&&) noexcept;

    // Compresses one message, the concatenation of `pieces`, and appends
    // its payload to out (which the caller may then cut into frames, RSV1
    // on the first).  An empty message gives the single byte 0x00 (RFC 7692
    // section 7.2.3.6).  False only if zlib fails (out of memory, or a
    // window, level or memory level out of range): the deflater is then
    // empty and the caller fails the connection (1011); out keeps its
    // earlier content.  std::bad_alloc from growing out leaves the same
    // state, and propagates.
    [[nodiscard]] bool compress(std::span<const std::string_view> pieces, std::string& out);
    [[nodiscard]] bool compress(std::string_view message, std::string& out) {
        return compress(std::span<const std::string_view>(&message, 1), out);
    }

    // Bytes of zlib state held now (0 when idle without context).
    std::size_t memory() const noexcept;
    // Frees the zlib state; the next message starts with an empty window.
    void release() noexcept;

  private:
    struct state;
    bool open() noexcept;
    bool pump(int flush, std::string& out, std::size_t& used);

    deflate_side side_;
    int level_;
    int mem_level_;
    std::unique_ptr<state> st_;
};

enum class inflate_status : std::uint8_t {
    ok,        // the payload so far is good; out holds its output
    too_big,   // the message would pass max_message bytes (1009)
    corrupt,   // not DEFLATE, not ended on a block boundary, or a distance
               // beyond the window (1007)
    no_memory, // zlib could not allocate (1011)
};

// The close code to fail the connection with: 0 for ok, 1009, 1007, 1011.
// RFC 7692 names no code for data that does not decompress; 1007 (RFC 6455
// section 7.4.1, "data within a message that was not consistent with the
// type of the message"; "Invalid frame payload data" in the IANA registry)
// says what happened: the frames were well formed, their payload was not.
std::uint16_t close_code(inflate_status s) noexcept;

// Decompresses the peer's messages, one at a time, frame by frame.
//
// Output is appended to the caller's std::string, at most max_message
// bytes per message: output space is handed to zlib in pieces of at most
// 64 KiB and never beyond max_message + 1 bytes of the message, so a bomb
// costs bounded work and memory before too_big.  An error (too_big,
// corrupt, no_memory) is sticky: every later call returns it, producing
// nothing; the zlib state is freed.
//
// Strictness: the message's data followed by 00 00 ff ff must end exactly
// on a DEFLATE block boundary (or at the end of a final block), with every
// byte used.  A truncated message is therefore corrupt, not short.  A
// final block (BFINAL, section 7.2.3.3) ends one DEFLATE stream and the
// bytes after it start another, with the window kept.  The one leniency: a
// compressed message with no payload bytes at all is taken as an empty
// message (RFC 7692 asks for 0x00, but some compressors send nothing) and
// zlib is not touched.
class inflater {
  public:
    // side: how the peer compresses; window_bits 8..15.
    inflater(deflate_side side, std::uint64_t max_message) noexcept;
    ~inflater();
    inflater(inflater&&) noexcept;
    inflater& operator=(inflater&&) noexcept;

    // Takes the next compressed bytes of the current message (any split:
    // a frame, part of one, or nothing), appending output to out.  `last`
    // marks the message's end: the 4-byte tail is then added and the end
    // checked, and the next call starts a new message.  std::bad_alloc
    // from growing out propagates, leaving the inflater failed (no_memory).
    [[nodiscard]] inflate_status feed(std::string_view in, bool last, std::string& out);

    // Output bytes of the message in progress so far (after too_big, what
    // was produced: max_message + 1).
    std::uint64_t message_size() const noexcept { return produced_; }
    // Bytes of zlib state held now (0 when idle without context).
    std::size_t memory() const noexcept;
    // Frees the zlib state and forgets the message in progress and any
    // error; the next message starts with an empty window.
    void release() noexcept;

  private:
    struct state;
    bool open() noexcept;
    inflate_status run(std::string_view in, std::string& out);
    inflate_status restart() noexcept;
    inflate_status fail(inflate_status s) noexcept;

    deflate_side side_;
    std::uint64_t max_;
    std::unique_ptr<state> st_;
    std::uint64_t produced_ = 0; // output of the message in progress
    std::uint64_t consumed_ = 0; // input of the message in progress
    bool boundary_ = true;       // zlib stands at a block boundary
    inflate_status error_ = inflate_status::ok;
};

} // namespace nnghttp::detail::ws
