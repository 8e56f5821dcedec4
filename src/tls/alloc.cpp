#include "tls/alloc.hpp"

#include <openssl/crypto.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <malloc.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NNGHTTP_TLS_ALLOC_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define NNGHTTP_TLS_ALLOC_SANITIZED 1
#endif
#endif

namespace nnghttp::detail::tls {

namespace {

// Size classes follow glibc's: usable sizes 24, 40, 56, ... 1032 (16 apart).
// Class c serves requests up to cap(c) bytes; a block whose usable size is u
// is filed under the largest class with cap <= u, so every block on a list
// is big enough for any request of that class whatever the allocator's
// rounding (AddressSanitizer's usable size is the size asked for).
constexpr std::size_t min_class = 24;
constexpr std::size_t class_step = 16;
constexpr unsigned nclasses = (max_cached - min_class) / class_step + 1;
static_assert(min_class + (nclasses - 1) * class_step == max_cached);

constexpr std::size_t cap(unsigned c) { return min_class + c * class_step; }
constexpr unsigned class_for_request(std::size_t n) {
    return n <= min_class ? 0 : static_cast<unsigned>((n - min_class + class_step - 1) / class_step);
}
constexpr unsigned class_for_block(std::size_t usable) {
    return static_cast<unsigned>((usable - min_class) / class_step);
}

enum class state : std::uint8_t { unused, live, gone };

// Trivially constructed and destroyed, so that touching it costs no guard
// and it stays usable (as "gone") while the thread's destructors run.
struct cache {
    void* head[nclasses];
    std::uint16_t count[nclasses];
    std::size_t blocks;
    std::size_t bytes;
    state st;
};
constinit thread_local cache tc{};

void flush(cache& c) noexcept {
    for (unsigned i = 0; i < nclasses; i++) {
        void* p = c.head[i];
        while (p != nullptr) {
            void* next;
            std::memcpy(&next, p, sizeof next);
            std::free(p);
            p = next;
        }
        c.head[i] = nullptr;
        c.count[i] = 0;
    }
    c.blocks = 0;
    c.bytes = 0;
}

// Gives the thread's blocks back when the thread ends.  Made on the first
// block a thread keeps, so a thread that never frees one pays nothing.
struct reaper {
    reaper() noexcept { tc.st = state::live; }
    ~reaper() {
        flush(tc);
        tc.st = state::gone;
    }
};

bool keep(void* p) noexcept {
    std::size_t u = malloc_usable_size(p);
    if (u < min_class || u > max_cached) {
        return false;
    }
    if (tc.st != state::live) {
        if (tc.st == state::gone) {
            return false;
        }
        static thread_local reaper r;
        (void)r;
    }
    unsigned c = class_for_block(u);
    if (tc.count[c] >= max_blocks_per_size || tc.bytes + cap(c) > max_bytes_per_thread) {
        return false;
    }
    std::memcpy(p, &tc.head[c], sizeof(void*));
    tc.head[c] = p;
    tc.count[c]++;
    tc.blocks++;
    tc.bytes += cap(c);
    return true;
}

bool installed = false;

void* ossl_malloc(std::size_t n, const char*, int) { return cache_malloc(n); }
void ossl_free(void* p, const char*, int) { cache_free(p); }
void* ossl_realloc(void* p, std::size_t n, const char*, int) { return cache_realloc(p, n); }

} // namespace

void* cache_malloc(std::size_t n) noexcept {
    if (n == 0) {
        return nullptr;
    }
    if (n > max_cached) {
        return std::malloc(n);
    }
    unsigned c = class_for_request(n);
    if (void* p = tc.head[c]) {
        std::memcpy(&tc.head[c], p, sizeof(void*));
        tc.count[c]--;
        tc.blocks--;
        tc.bytes -= cap(c);
        return p;
    }
    return std::malloc(cap(c));
}

void cache_free(void* p) noexcept {
    if (p != nullptr && !keep(p)) {
        std::free(p);
    }
}

void* cache_realloc(void* p, std::size_t n) noexcept {
    if (p == nullptr) {
        return cache_malloc(n);
    }
    if (n == 0) {
        cache_free(p);
        return nullptr;
    }
    return std::realloc(p, n);
}

cache_stats thread_cache_stats() noexcept { return {tc.blocks, tc.bytes}; }

void thread_cache_flush() noexcept { flush(tc); }

bool install_openssl_allocator() noexcept {
#ifdef NNGHTTP_TLS_ALLOC_SANITIZED
    return false;
#else
    const char* env = std::getenv("NNGHTTP_TLS_ALLOC");
    if (env != nullptr && std::strcmp(env, "system") == 0) {
        return false;
    }
    installed = CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free) == 1;
    return installed;
#endif
}

bool openssl_allocator_cached() noexcept { return installed; }

} // namespace nnghttp::detail::tls
