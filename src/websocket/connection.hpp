// One WebSocket connection after its opening handshake: frames in and out
// over a byte stream (RFC 6455 sections 5 to 7), for both roles.  The
// object behind the C++ nnghttp::websocket and the C API's ws:// streams.
//
// Receiving.  Two views of the same messages, one per API:
//  * recv_message() completes with one whole message and its type (the C++
//    API: boundaries and types kept);
//  * recv_bytes() fills the aio's vectors with payload bytes (at least
//    one), joining the frames of one message but never going past its end
//    (the C API's ws:// streams: one receive never mixes two messages);
//    empty messages give nothing and are skipped.
// The stream is read only while a receive is waiting (or the closing
// handshake needs it), so a slow consumer holds the peer back through TCP
// instead of filling memory.  Control frames are handled as they come,
// between fragments too: a ping is answered with a pong (only the latest
// one, if several are waiting: RFC 6455 section 5.5.3), a close frame
// starts or ends the closing handshake.  Every violation the frame decoder
// finds fails the connection: a close frame with the decoder's code is
// sent, the waiting receives fail (NNG_EPROTO, NNG_EMSGSIZE for 1009), and
// the stream is closed after a bounded wait for the peer to go.
//
// Sending.  send_message() sends the aio's vectors as one message of the
// given type, in frames of at most settings::send_frame payload bytes, and
// completes once every byte is handed to the stream.  Sends are queued and
// go out in order; several may be outstanding; control frames (pongs, the
// close frame) slip in between the frames of a long message.  A client
// masks each frame with a fresh key into its own buffer (the caller's bytes
// never change); a server sends large payloads from the caller's memory
// with a gathered write.
//
// Closing.  close() starts the closing handshake: the close frame goes out
// after the messages already queued, then the connection waits (at most
// settings::close_timeout) for the peer's close frame; a server then closes
// the TCP connection, a client waits (bounded the same way) for the server
// to close it first (section 7.1.1).  A close frame from the peer is
// echoed with its code and the connection ends the same way.  abort()
// closes the stream at once.  After the close, operations fail with
// closed_error() (NNG_ECLOSED unless set otherwise).  close_and_end() is
// close() for an owner that is done with the connection (nng_stream_close):
// the handshake goes on in the background while the owner's waiting
// receives and not yet started sends fail at once.
//
// Threads and lifetime.  Any thread may call anything; completions run on
// the stream's event loop.  The object is reference counted: the owner
// calls abort() or close() and then release(); destruction happens on an
// event loop once nothing is in flight.
#pragma once

#include "core/aio.hpp"
#include "core/ref_counted.hpp"
#include "stream/stream.hpp"
#include "websocket/decoder.hpp"
#include "websocket/deflate.hpp"
#include "websocket/frame.hpp"
#include "websocket/utf8.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nnghttp::detail::ws {

struct settings {
    role side = role::server;
    // Receive limits (frame, message, fragments) and text validation.
    decoder_options limits{};
    // Largest payload of one frame sent; longer messages are fragmented.
    std::size_t send_frame = 65536;
    // Bound on each wait of the closing handshake (<= 0: 5000).
    nng_duration close_timeout = 5000;
    // Text messages are refused: the first one fails the connection with
    // close code 1003 (unsupported data) and the waiting receive with
    // NNG_EPROTO (a ws:// stream without NNG_OPT_WS_RECV_TEXT).
    bool refuse_text = false;
    // Keepalive (0: off, as NNG).  While the stream is read (a receive
    // waits), a ping goes out after ping_interval without a byte from the
    // peer; if pong_timeout more pass without one (<= 0: ping_interval),
    // the connection fails with 1011 and the waiting receive with
    // NNG_ETIMEDOUT.  While nobody receives, the peer's bytes stay unread,
    // so nothing is concluded and no ping is sent.
    nng_duration ping_interval = 0;
    nng_duration pong_timeout = 0;
    // Bound on the payload bytes of messages queued and not yet wholly
    // handed to the stream (0: none, as NNG).  A send past it waits, in
    // order, until the queue has room (a message larger than the bound is
    // let in when the queue is empty).
    std::size_t max_send_queue = 0;
    // permessage-deflate as agreed in the opening handshake (unset: off).
    // Messages of at least deflate_min bytes are sent compressed, with
    // zlib's level and memLevel; received ones are inflated, every limit
    // applying to their inflated size, and text is checked after.
    std::optional<deflate_params> deflate;
    int deflate_level = 1; // as ws_compression::level (include/nnghttp/websocket.hpp)
    int deflate_mem_level = 8;
    std::size_t deflate_min = 32;
};

// What recv_message() delivers.
struct message {
    std::string data;
    bool text = false;
};

class connection final : public ref_counted {
  public:
    // leftover: bytes the handshake read beyond its head (the start of
    // the frames).  Takes over one reference to s.
    connection(ref_ptr<stream> s, std::string leftover, const settings& cfg);

    void recv_message(aio* a, message* out);
    void recv_bytes(aio* a);
    // The aio's vectors, as one message (text or binary).  Completes with
    // the count of payload bytes.  limit > 0: only the first limit bytes
    // of the vectors make the message (the count says how many went).
    void send_message(aio* a, bool text, std::size_t limit = 0);
    // Takes *data over as one message and completes as soon as it is
    // queued (within settings::max_send_queue), not when it is sent.
    // *data must stay valid until then.
    void send_owned(aio* a, std::string* data, bool text);
    // Payload bytes queued for sending and not yet handed to the stream.
    std::size_t queued_bytes() const;
    // A ping with this payload (at most 125 bytes, else NNG_EINVAL);
    // completes once the frame is handed to the stream.
    void ping(aio* a, std::string_view payload);
    // Starts the closing handshake with this code and reason (code 0: an
    // empty close frame; an invalid code or a reason that does not fit:
    // NNG_EINVAL).  a, if given, completes when the connection is closed.
    // A second call only waits (a) for the first to finish.
    int close(std::uint16_t code, std::string_view reason, aio* a);
    // close(code, {}, nullptr), and the owner's side ends now: waiting
    // receives (those without bytes yet) and sends not yet started fail
    // with closed_error(), and so do all later operations.  The closing
    // handshake and the sends already on the wire go on in the background,
    // bounded by settings::close_timeout.
    void close_and_end(std::uint16_t code);
    // Closes the stream now; everything pending fails with closed_error().
    void abort();

    // The error operations fail with once the connection is closed.
    void set_closed_error(int err);
    // The peer's close frame: code 1005 if it had none, 1006 if the
    // connection ended without one (0 while open); and its reason.
    std::uint16_t peer_close_code() const;
    std::string peer_close_reason() const;
    // Called with the payload of every pong that arrives (on the
    // connection's loop, no lock held; an exception it throws is dropped).
    void set_pong_handler(std::function<void(std::string_view)> f);
    // Called once, on the connection's loop, when it has ended (the stream
    // closed); at once (posted) if it already has.
    void set_end_hook(std::function<void()> f);

    // Whether the connection is fully closed (the stream too).
    bool closed() const;
    // Whether it is still open for messages both ways: no close frame
    // queued, sent or received, no failure, not ended by close_and_end().
    bool open() const;

    stream& underlying() noexcept { return *stream_; }
    role side() const noexcept { return cfg_.side; }
    const settings& config() const noexcept { return cfg_; }

  private:
    // A message (or control frame) waiting to be sent.
    struct out_item {
        aio* user = nullptr;   // completes when sent (null: internal)
        opcode op = opcode::binary;
        std::string own;       // payload owned here (control frames)
        std::array<nng_iov, aio::max_iov> iov{}; // else: the user's bytes
        unsigned niov = 0;
        unsigned cur_iov = 0;     // where framing continues
        std::size_t cur_off = 0;
        std::size_t total = 0;    // payload bytes
        std::size_t framed = 0;   // payload bytes put into frames so far
        std::unique_ptr<std::string> kept; // a message taken over, or compressed
        std::size_t reported = 0; // the count its sender gets (before compression)
        bool compressed = false;  // RSV1 on its first frame
        bool started = false;     // a frame of it has gone to the stream
        bool is_close = false;
        int err = 0;              // failed while its bytes were in flight
    };
    // A piece of the write in flight: bytes of wbuf_ or of a user buffer.
    struct segment {
        const char* ptr; // null: wbuf_ from off
        std::size_t off;
        std::size_t len;
    };
    enum class phase : std::uint8_t {
        open,
        closing,   // close frame queued or sent; waiting for the peer's
        draining,  // both close frames done (client) or failing: wait for EOF
        done,      // stream closed
    };

    ~connection() override;
    void destroy() noexcept override;

    // Reading.
    void read_more_locked();
    void pump_locked(aio_list& done);
    bool want_input_locked() const;
    bool take_payload_locked(const decode_result& r, std::string& out, aio_list& done);
    bool deliver_staged_locked(aio_list& done);
    bool compress_locked(out_item& it);
    void on_control_locked(const decode_result& r, aio_list& done);
    void on_peer_close_locked(std::uint16_t code, std::string_view reason, aio_list& done);
    void fail_locked(std::uint16_t code, int err, aio_list& done);
    static void rd_cb(void* arg);
    static void cancel_rd(aio* a, void* arg, int err);
    static void cancel_wait(aio* a, void* arg, int err);

    // Writing.
    void queue_control_locked(opcode op, std::string payload);
    void queue_app_close_locked(std::string payload, aio_list& done);
    void write_start_locked(aio_list& done);
    bool batch_sent_locked(aio_list& done);
    void submit_send(aio* a, std::uintptr_t tag, void* ptr);
    static std::size_t send_size(const aio* a);
    bool fits_locked(std::size_t n) const;
    void admit_locked(aio* a, aio_list& done);
    void admit_waiting_locked(aio_list& done);
    void fail_waiting_locked(int err, aio_list& done);
    void build_batch_locked();
    void after_close_sent_locked(aio_list& done);
    // Whether a close frame waits in ctlq_, or one is being written.
    bool close_pending_locked() const;
    static void wr_cb(void* arg);
    static void cancel_wr(aio* a, void* arg, int err);

    // Keepalive (connection_timers.cpp).
    void keepalive_locked();
    static void keepalive_cb(void* arg);
    void post_pong_locked(std::string_view payload);

    // Ending.
    void start_timer_locked();
    static void timer_cb(void* arg);
    void shut_locked(aio_list& done);
    void fail_all_locked(int err, aio_list& done);
    void after_unlock(aio_list& done, bool close_stream, bool sync);

    mutable std::mutex mtx_;
    ref_ptr<stream> stream_;
    settings cfg_;
    loop* home_ = nullptr;
    phase phase_ = phase::open;
    bool close_queued_ = false; // no more messages may be queued
    bool close_sent_ = false;
    bool close_received_ = false;
    bool failed_ = false;
    bool user_ended_ = false; // close_and_end(): the owner's side is over
    bool stream_close_pending_ = false;
    int closed_err_ = NNG_ECLOSED;
    int fail_err_ = 0; // the error receives fail with after a failure
    std::uint16_t peer_code_ = 0;
    std::string peer_reason_;
    aio_queue close_waiters_;

    // Reading.
    frame_decoder dec_;
    aio rd_aio_;
    bool reading_ = false;
    aio_queue rq_;
    std::unique_ptr<char[]> rbuf_;
    std::size_t rcap_ = 0, rget_ = 0, rput_ = 0;
    std::size_t last_offer_ = 0, last_read_ = 0; // the last read's room and take
    std::uint8_t small_reads_ = 0; // reads in a row that used little of a grown buffer
    std::string cur_;        // the message being assembled (recv_message)
    bool cur_text_ = false;
    bool cur_open_ = false;  // a message is being assembled
    bool dropping_ = false;  // the rest of a message dropped while closing
    // permessage-deflate (made when agreed; zlib's state only when used).
    std::unique_ptr<deflater> defl_;
    std::unique_ptr<inflater> infl_;
    bool cur_compressed_ = false; // the message being received has RSV1
    utf8_validator inflated_utf8_; // its inflated text, checked as it comes
    std::uint64_t msg_in_ = 0;     // payload bytes of an uncompressed one so far
    std::string staged_;          // inflated bytes for byte receives
    bool staged_end_ = false;     // staged_ ends its message

    // Writing.
    std::unique_ptr<aio> wr_aio_; // made when first needed (see write_start_locked)
    bool writing_ = false;
    // (Vectors: an idle connection's empty vector holds no memory, where
    // a deque holds a block.)
    std::vector<out_item> ctlq_; // control frames: before the next data frame
    std::vector<out_item> wq_;   // messages (and a close from close())
    std::size_t queued_bytes_ = 0; // payload bytes of the messages in wq_
    aio_queue sendwait_;           // sends waiting for room in wq_
    std::string wbuf_;
    std::vector<segment> segs_;
    // Items the write in flight finishes (popped from their queue on
    // completion): how many of ctlq_'s front and of wq_'s front.
    std::size_t batch_ctl_ = 0, batch_data_done_ = 0;
    bool batch_has_close_ = false;

    // The closing handshake's bound (made when first needed).
    std::unique_ptr<aio> timer_;
    bool timer_running_ = false;
    bool rearm_ = false; // the running timer was aborted to start again

    // Keepalive (made when first needed).
    std::unique_ptr<aio> ka_timer_;
    bool ka_running_ = false;
    bool ka_heard_ = false;  // a byte from the peer since the timer was set
    bool ka_pinged_ = false; // our ping is out, unanswered
    std::unique_ptr<std::function<void(std::string_view)>> on_pong_;
    std::unique_ptr<std::function<void()>> on_end_;
};

} // namespace nnghttp::detail::ws
