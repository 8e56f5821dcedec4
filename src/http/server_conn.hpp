// The connection machinery behind http::server (private to server.cpp and
// session.cpp).
//
// Life of a connection:
//
//   accept -> park (wait for bytes, head_timeout) -> session: read head ->
//   (100 Continue) -> body -> handler -> response -> park (idle_timeout) or,
//   with bytes already buffered (pipelining), straight to the next head ->
//   ... -> close.
//
// server_conn is the small record every open connection has for its whole
// life (about 220 bytes).  While parked it holds the stream itself and
// waits with stream::wait_readable (no aio, no session); the slot's sweep
// timer closes it when it has been idle too long.  While active it points
// to a session, the heavy per-request state, which returns to its slot's
// pool when the connection parks or ends.
//
// Locking: each record belongs to the slot of the event loop its stream
// lives on, and that slot's mutex guards its lists, its pool and the
// records' state fields.  Slots are per loop, so connections on different
// loops share no lock.
#pragma once

#include "core/clock.hpp"
#include "http/server.hpp"

#include <asio/steady_timer.hpp>

#include <memory>
#include <mutex>
#include <vector>

namespace nnghttp::detail::http {

class session;

class server_conn {
  public:
    server* srv = nullptr;
    server::slot* home = nullptr;
    // Every connection of the slot (for stop()).
    server_conn* prev = nullptr;
    server_conn* next = nullptr;
    // Parked connections only, oldest first (for the idle sweep).
    server_conn* pprev = nullptr;
    server_conn* pnext = nullptr;
    time_ms deadline = 0;
    stream* parked_stream = nullptr; // owned reference while parked
    session* active = nullptr;       // while active
    bool parked = false;
    bool fresh = false;   // parked before its first request
    bool closing = false; // stop() or the sweep closed it while parked
    // While parked, the stream receives the first bytes of the next
    // request here (see stream::wait_readable): most request heads fit, so
    // the woken session parses them without another read.  Sized so that
    // the whole record stays within 256 bytes.
    char wake[128];
};

template <server_conn* server_conn::*Prev, server_conn* server_conn::*Next>
struct conn_list {
    server_conn* head = nullptr;
    server_conn* tail = nullptr;
    void push_back(server_conn* c) noexcept {
        c->*Prev = tail;
        c->*Next = nullptr;
        if (tail != nullptr) {
            tail->*Next = c;
        } else {
            head = c;
        }
        tail = c;
    }
    void remove(server_conn* c) noexcept {
        if (c->*Prev != nullptr) {
            (c->*Prev)->*Next = c->*Next;
        } else {
            head = c->*Next;
        }
        if (c->*Next != nullptr) {
            (c->*Next)->*Prev = c->*Prev;
        } else {
            tail = c->*Prev;
        }
        c->*Prev = c->*Next = nullptr;
    }
};

struct server::slot {
    std::mutex mtx;
    conn_list<&server_conn::prev, &server_conn::next> all;
    // Parked: before the first request (head_timeout), between requests
    // (idle_timeout); oldest first.
    conn_list<&server_conn::pprev, &server_conn::pnext> fresh;
    conn_list<&server_conn::pprev, &server_conn::pnext> idle;
    std::vector<session*> pool; // sessions ready for reuse
    std::unique_ptr<asio::steady_timer> sweep;
    bool sweep_armed = false;
    time_ms sweep_at = 0;        // when the armed wait ends
    std::uint64_t sweep_gen = 0; // which wait is the current one
    unsigned index = 0;
};

// Sessions kept per slot for reuse; more are freed.  Only the first few
// keep their read buffer (16 KiB) while pooled: a burst of connections
// would otherwise leave 64 of them behind, about 0.1 KiB on each of 10,000
// idle connections.
inline constexpr std::size_t session_pool_max = 64;
inline constexpr std::size_t session_pool_buffered = 8;
// TLS connections park between requests (giving back OpenSSL's record
// buffers and the session's read buffer: about 58 KiB idle against 19)
// only while the server holds more connections than this.  Parking costs
// a TLS request about 4% more CPU (the buffers are allocated again for
// the next request); below this many connections the memory is the
// better bargain.  Below it a new TLS connection takes a session at
// accept, too, instead of waiting parked for its first bytes.
inline constexpr std::size_t tls_park_above = 256;

} // namespace nnghttp::detail::http
