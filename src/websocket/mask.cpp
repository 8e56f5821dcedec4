#include "websocket/mask.hpp"

#include <cstdint>
#include <cstring>

namespace nnghttp::detail::ws {

namespace {

// 16 bytes XORed as one value.  GCC and clang lower this to one SSE2 (or
// NEON) instruction; four of them per iteration keep the loads in flight.
typedef std::uint8_t block __attribute__((vector_size(16)));

inline block load(const char* p) noexcept {
    block b;
    std::memcpy(&b, p, sizeof b);
    return b;
}

inline void store(char* p, block b) noexcept {
    std::memcpy(p, &b, sizeof b);
}

} // namespace

void copy_masked(char* dst, const char* src, std::size_t n, const mask_key& key,
                 std::size_t offset) noexcept {
    // The key as it lines up with src[0], as one 32-bit word (memory order),
    // then widened.  Building the vector from whole words, not byte by
    // byte, keeps the set-up to a few instructions: a 16-byte payload costs
    // about what a 16-byte loop would.
    std::uint8_t k[4];
    for (std::size_t j = 0; j < 4; j++) {
        k[j] = key[(offset + j) & 3];
    }
    std::uint32_t k32;
    std::memcpy(&k32, k, 4);
    std::size_t i = 0;
    if (n >= sizeof(block)) {
        const std::uint32_t words[4] = {k32, k32, k32, k32};
        block kb;
        std::memcpy(&kb, words, sizeof kb);
        for (; i + 4 * sizeof(block) <= n; i += 4 * sizeof(block)) {
            block a = load(src + i) ^ kb;
            block b = load(src + i + 16) ^ kb;
            block c = load(src + i + 32) ^ kb;
            block d = load(src + i + 48) ^ kb;
            store(dst + i, a);
            store(dst + i + 16, b);
            store(dst + i + 32, c);
            store(dst + i + 48, d);
        }
        for (; i + sizeof(block) <= n; i += sizeof(block)) {
            store(dst + i, load(src + i) ^ kb);
        }
    }
    // Then 8 and 4 bytes at a time.  Every step so far was a multiple of 4
    // bytes long, so the key still lines up.
    const std::uint64_t k64 = std::uint64_t(k32) | (std::uint64_t(k32) << 32);
    for (; i + 8 <= n; i += 8) {
        std::uint64_t v;
        std::memcpy(&v, src + i, 8);
        v ^= k64;
        std::memcpy(dst + i, &v, 8);
    }
    if (i + 4 <= n) {
        std::uint32_t v;
        std::memcpy(&v, src + i, 4);
        v ^= k32;
        std::memcpy(dst + i, &v, 4);
        i += 4;
    }
    for (; i < n; i++) {
        dst[i] = char(std::uint8_t(src[i]) ^ k[i & 3]);
    }
}

void apply_mask(char* data, std::size_t n, const mask_key& key, std::size_t offset) noexcept {
    copy_masked(data, data, n, key, offset);
}

} // namespace nnghttp::detail::ws
