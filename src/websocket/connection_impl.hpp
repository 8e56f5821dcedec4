// What the parts of ws::connection (connection.cpp, connection_read.cpp,
// connection_write.cpp, connection_timers.cpp) share: sizes and tags.
// Private to those files.
#pragma once

#include "websocket/close.hpp"
#include "websocket/frame.hpp"

#include <cstddef>
#include <cstdint>

namespace nnghttp::detail::ws::conn_impl {

// The read buffer starts small (an idle connection keeps it) and grows
// while reads keep filling it.
inline constexpr std::size_t initial_rbuf = 512;
inline constexpr std::size_t max_rbuf = 64 * 1024;
// Payloads up to this size are copied next to their header, so that many
// small messages leave in one contiguous write.
inline constexpr std::size_t inline_payload = 1024;
// A write gathers frames up to this many bytes.
inline constexpr std::size_t batch_bytes = 256 * 1024;
// Room kept in the write buffer between writes, at most.
inline constexpr std::size_t max_idle_wbuf = 16 * 1024;
// Pongs waiting to be sent, at most.
inline constexpr std::size_t max_queued_pongs = 16;

// Which receive an aio in rq_ is (prov_tag).
inline constexpr std::uintptr_t tag_message = 1;
inline constexpr std::uintptr_t tag_bytes = 2;
// Which send an aio in sendwait_ is (prov_tag): the caller's bytes or a
// message taken over, and text or binary.
inline constexpr std::uintptr_t tag_send_ref = 4;
inline constexpr std::uintptr_t tag_send_owned = 8;
inline constexpr std::uintptr_t tag_text = 16;

// The error a receive fails with for a decoder's verdict.
inline int error_for(frame_error e) {
    return close_code(e) == close_too_big ? NNG_EMSGSIZE : NNG_EPROTO;
}

} // namespace nnghttp::detail::ws::conn_impl
