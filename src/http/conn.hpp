// An HTTP/1.1 connection over any byte stream: the object behind
// nng_http_conn, shared by the server, the client and tests.
//
// Reads and writes are queued separately and each queue is served in order,
// one operation at a time:
//  * read / write complete after some bytes (at least one);
//  * read_all / write_all complete when every byte of the aio's vectors is
//    transferred, or on error, with nng_aio_count() saying how much was;
//  * read_req / read_res parse one message head into a message (the body is
//    left for read_all or a body reader); bytes that arrived beyond the head
//    stay buffered and are served first to the reads that follow;
//  * write_req / write_res send head and body with one gathered write (the
//    body is not copied).
// Errors.  A failed operation (timeout, cancel, peer close, a bad head)
// leaves the byte stream in an unknown state, so, as NNG does, it closes the
// connection: queued operations then fail with NNG_ECLOSED.  A head the
// parser rejects gives NNG_EPROTO (NNG_EMSGSIZE for one over the size
// limits); last_parse_error() tells which rule it broke.
//
// Threads.  Completions run on the stream's event loop, in place (no hop).
// The object is reference counted: the owner calls close() and release();
// destruction happens on an event loop once nothing is in flight.
#pragma once

#include "core/aio.hpp"
#include "core/ref_counted.hpp"
#include "http/message.hpp"
#include "http/parser.hpp"
#include "stream/stream.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

namespace nnghttp::detail::http {

class conn final : public ref_counted {
  public:
    // Takes over one reference to s.
    explicit conn(ref_ptr<stream> s, parser_options opts = {});

    void read(aio* a);
    void read_all(aio* a);
    void write(aio* a);
    void write_all(aio* a);
    void read_req(request& req, aio* a);
    void read_res(response& res, aio* a);
    void write_req(request& req, aio* a);
    void write_res(response& res, aio* a);
    // write_res of the connection's last response: the caller closes the
    // conn once it is sent (the stream is told: stream::last_send).
    void write_last_res(response& res, aio* a);
    // Sends f's bytes after what is queued before it (a file body after a
    // write_res of its head).  f is updated as bytes go and must stay valid
    // until completion; count = bytes sent.  NNG_ENOTSUP if the stream
    // cannot send files.
    void write_file(file_span& f, aio* a);
    void close();

    // For a server between requests, so that an idle connection does not
    // hold this object: hands the stream back, leaving this conn with none
    // until attach().  Only when the conn is open, not hijacked, nothing is
    // queued and nothing is buffered; returns null otherwise.
    ref_ptr<stream> detach();
    // For a protocol that takes the connection over after an HTTP exchange
    // (a WebSocket upgrade): hands the stream over with the bytes received
    // beyond the last head (appended to rest), and leaves this conn closed
    // without closing the stream.  Only when no operation is queued or in
    // progress; returns null otherwise (or if already closed).
    ref_ptr<stream> take_stream(std::string& rest);
    // Gives a detached conn a (new) stream, as if freshly made.
    void attach(ref_ptr<stream> s);
    // Frees the read buffer if nothing is buffered and no read is in
    // progress (a detached conn kept for reuse); the next read allocates.
    void drop_buffer();

    stream& underlying() noexcept { return *stream_; }

    // Why the last read_req/read_res failed to parse (none if it did not).
    parse_error last_parse_error() const;
    // How the body of the last head read is delimited, and its length.
    body_kind last_body_kind() const;
    std::int64_t last_content_length() const;
    // For read_res: the request was HEAD, so the response has no body.
    void set_head_request(bool head);
    // Bytes received and buffered beyond what reads have consumed.
    std::size_t buffered() const;

    // For a server: after a head the parser rejects, keep the connection
    // open for writing so that the error status can be sent (NNG's conn,
    // and ours by default, closes at once).  Later reads fail.
    void answer_bad_heads(bool on) {
        std::lock_guard lk(mtx_);
        answer_bad_heads_ = on;
    }

    // Timeouts on progress, for a server: each receive (rd) or send (wr)
    // of the stream underneath may wait at most this long for a byte to
    // move, however long the whole operation takes (an upload or download
    // that keeps moving is never cut).  Expiry fails the operation with
    // NNG_ETIMEDOUT and closes the connection, as any failed operation
    // does.  NNG_DURATION_INFINITE (the default): no limit; the caller's
    // aio timeouts still bound whole operations.  Applies to receives and
    // sends started after the call.
    void set_progress_timeouts(nng_duration rd, nng_duration wr);

    // For a server about to close after answering: drops what is buffered
    // and lets raw reads (read()) go on after a rejected head, so that the
    // rest of the client's input can be read and dropped (see
    // stream::shutdown_send).  Only while no read is in progress.
    void discard_input();

    // Returns bytes a raw read took that belong to what follows (e.g. the
    // next request after a chunked body): the next read gets them first.
    // Only while no read is in progress.
    int put_back(std::string_view bytes);

    // nng_http_hijack: a server handler takes the connection over; the
    // server then neither answers on it nor closes it.
    // The hijacker gets a reference of its own (nng_http_conn_close drops it).
    // The server's progress timeouts stop applying: from here on the
    // hijacker's aios alone bound its operations, as on any conn.
    void hijack() noexcept {
        if (!hijacked_.exchange(true, std::memory_order_acq_rel)) {
            add_ref();
            set_progress_timeouts(NNG_DURATION_INFINITE, NNG_DURATION_INFINITE);
        }
    }
    bool hijacked() const noexcept { return hijacked_.load(std::memory_order_acquire); }

  private:
    enum class op : std::uintptr_t {
        read,
        read_all,
        read_req,
        read_res,
        write,
        write_all,
        write_req,
        write_res,
        write_last_res,
        write_file
    };

    ~conn() override;
    void destroy() noexcept override;

    void submit(aio* a, op kind, void* msg);
    void read_start(aio_list& done);
    int read_step(aio* a);
    int parse_step(aio* a, op kind);
    void write_start(aio_list& done);
    void close_locked(aio_list& done);
    void finish_locked(aio* a, int rv, aio_list& done);

    static void rd_cb(void* arg);
    static void wr_cb(void* arg);
    static void cancel_rd(aio* a, void* arg, int err);
    static void cancel_wr(aio* a, void* arg, int err);
    // Completes the aios in done, in order.  Those that cannot complete
    // here go to this thread's loop, or, from a thread that is no loop's,
    // to home_: always the same loop, so that they keep their order.
    void complete_all(aio_list& done, bool sync);
    static loop* home_loop_of(stream& s);

    mutable std::mutex mtx_;
    ref_ptr<stream> stream_;
    loop* home_ = nullptr; // see complete_all
    bool closed_ = false;
    bool stream_close_pending_ = false;
    std::atomic<bool> hijacked_{false};
    bool answer_bad_heads_ = false;
    bool read_broken_ = false;

    // Reading.
    aio rd_aio_;
    aio_queue rdq_;
    aio* rd_uaio_ = nullptr;  // the operation being served
    bool rd_to_user_ = false; // rd_aio_ reads into rd_uaio_'s vectors
    std::unique_ptr<char[]> rbuf_;
    std::size_t rcap_ = 0, rget_ = 0, rput_ = 0;
    head_parser req_parser_;
    head_parser res_parser_;
    parse_error parse_error_ = parse_error::none;
    body_kind body_kind_ = body_kind::none;
    std::int64_t content_length_ = -1;

    // Writing.
    aio wr_aio_;
    aio_queue wrq_;
    aio* wr_uaio_ = nullptr;
    std::string whead_; // serialized head of the write_req/res being sent
};

} // namespace nnghttp::detail::http
