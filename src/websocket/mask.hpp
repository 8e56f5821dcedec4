// Masking of payload bytes (RFC 6455 section 5.3): byte i of a payload is
// XORed with byte i % 4 of the frame's masking key.  Masking and unmasking
// are the same operation.
//
// The bytes given need not start a payload: `offset` is the position of the
// first of them in the payload (only offset % 4 matters), so a payload that
// arrives in pieces is unmasked piece by piece.  The key is rotated once to
// that offset; then 64 bytes at a time are XORed with 16-byte vectors (the
// compiler's vector extension: SSE2 on x86-64, NEON on AArch64), then 16 at
// a time, then 8 and 4 (as integers), then the last few bytes one by one.
// The key vector is built from whole words, so short payloads pay almost
// nothing for the set-up.  Loads and stores go through memcpy, so no
// alignment is needed.  bench/mask_bench.cpp measures it against a
// byte-at-a-time loop (about 20 times faster from 1500 bytes up).
#pragma once

#include "websocket/frame.hpp"

#include <cstddef>

namespace nnghttp::detail::ws {

// XORs data[0, n) in place with key, data[0] being payload byte `offset`.
void apply_mask(char* data, std::size_t n, const mask_key& key, std::size_t offset) noexcept;

// Writes src[0, n) XORed with key to dst[0, n) (src[0] being payload byte
// `offset`).  dst and src may be equal but must not otherwise overlap.
void copy_masked(char* dst, const char* src, std::size_t n, const mask_key& key,
                 std::size_t offset) noexcept;

} // namespace nnghttp::detail::ws
