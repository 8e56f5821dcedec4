// The per-thread block cache in front of OpenSSL's allocations
// (src/tls/alloc.hpp): blocks are reused, always big enough, mix freely with
// malloc/free, stay within their limits, move between threads, and go back
// to malloc when a thread ends; and OpenSSL's own allocations go through
// it once init_openssl() installed it (not in sanitizer builds, where it
// stays out of the way).
//
// Under AddressSanitizer the cache is not installed for OpenSSL, but these
// tests still drive it directly: every block handed out is written to its
// full requested size, so a block too small for its request is a reported
// overflow, and blocks a thread kept past its end would be reported leaks.
#include "tls/alloc.hpp"
#include "tls/config.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <gtest/gtest.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <random>
#include <thread>
#include <vector>

namespace {

namespace tls = nnghttp::detail::tls;

bool sanitized() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
    return true;
#else
    return false;
#endif
#else
    return false;
#endif
}

// Each test starts and ends with an empty cache on its thread.
class TlsAlloc : public ::testing::Test {
protected:
    void SetUp() override { tls::thread_cache_flush(); }
    void TearDown() override { tls::thread_cache_flush(); }
};

TEST_F(TlsAlloc, ZeroBytesIsNullAndNullFreesNothing) {
    EXPECT_EQ(tls::cache_malloc(0), nullptr);
    tls::cache_free(nullptr);
    EXPECT_EQ(tls::thread_cache_stats().blocks, 0u);
}

TEST_F(TlsAlloc, AFreedBlockServesTheNextRequestOfItsSize) {
    void* p = tls::cache_malloc(100);
    ASSERT_NE(p, nullptr);
    std::memset(p, 0xab, 100);
    tls::cache_free(p);
    auto st = tls::thread_cache_stats();
    EXPECT_EQ(st.blocks, 1u);
    EXPECT_GE(st.bytes, 100u);
    void* q = tls::cache_malloc(100);
    EXPECT_EQ(q, p);
    EXPECT_EQ(tls::thread_cache_stats().blocks, 0u);
    tls::cache_free(q);
}

TEST_F(TlsAlloc, LargeBlocksAreNotKept) {
    void* p = tls::cache_malloc(tls::max_cached + 1);
    ASSERT_NE(p, nullptr);
    std::memset(p, 1, tls::max_cached + 1);
    tls::cache_free(p);
    EXPECT_EQ(tls::thread_cache_stats().blocks, 0u);
}

// Random sizes, random frees: whatever block a request gets back, all of
// its requested bytes are usable and no two live blocks overlap.
TEST_F(TlsAlloc, EveryBlockFitsItsRequest) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<std::size_t> size(1, tls::max_cached + 64);
    struct live {
        unsigned char* p;
        std::size_t n;
        unsigned char tag;
    };
    std::vector<live> blocks;
    for (int round = 0; round < 20000; round++) {
        if (blocks.size() < 200 && (blocks.empty() || rng() % 3 != 0)) {
            std::size_t n = size(rng);
            auto* p = static_cast<unsigned char*>(tls::cache_malloc(n));
            ASSERT_NE(p, nullptr);
            ASSERT_GE(malloc_usable_size(p), n);
            auto tag = static_cast<unsigned char>(rng());
            std::memset(p, tag, n);
            blocks.push_back({p, n, tag});
        } else {
            std::size_t i = rng() % blocks.size();
            live b = blocks[i];
            for (std::size_t k = 0; k < b.n; k++) {
                ASSERT_EQ(b.p[k], b.tag) << "block of " << b.n << " changed at " << k;
            }
            tls::cache_free(b.p);
            blocks[i] = blocks.back();
            blocks.pop_back();
        }
    }
    for (live& b : blocks) {
        tls::cache_free(b.p);
    }
    EXPECT_LE(tls::thread_cache_stats().bytes, tls::max_bytes_per_thread);
}

// Blocks carry no header: free() takes the cache's blocks, and the cache
// takes blocks malloc gave (OpenSSL's callers sometimes mix the two).
TEST_F(TlsAlloc, MixesWithMallocAndFree) {
    void* p = tls::cache_malloc(64);
    ASSERT_NE(p, nullptr);
    std::free(p);
    void* m = std::malloc(200);
    ASSERT_NE(m, nullptr);
    tls::cache_free(m);
    EXPECT_EQ(tls::thread_cache_stats().blocks, 1u);
    void* q = tls::cache_malloc(200);
    EXPECT_EQ(q, m);
    std::free(q);
}

TEST_F(TlsAlloc, ReallocKeepsTheBytes) {
    auto* p = static_cast<char*>(tls::cache_realloc(nullptr, 50));
    ASSERT_NE(p, nullptr);
    std::memcpy(p, "0123456789", 10);
    p = static_cast<char*>(tls::cache_realloc(p, 5000));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(std::memcmp(p, "0123456789", 10), 0);
    p = static_cast<char*>(tls::cache_realloc(p, 20));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(std::memcmp(p, "0123456789", 10), 0);
    EXPECT_EQ(tls::cache_realloc(p, 0), nullptr); // freed
}

TEST_F(TlsAlloc, KeepsAtMostItsLimits) {
    std::vector<void*> same(tls::max_blocks_per_size + 50);
    for (void*& p : same) {
        p = tls::cache_malloc(32);
    }
    // malloc may hand out a block a little bigger than asked: the cache
    // files blocks by usable size, in classes 16 bytes apart from 24.
    std::vector<std::size_t> per_class(tls::max_cached / 16 + 1);
    for (void* p : same) {
        per_class[(malloc_usable_size(p) - 24) / 16]++;
        tls::cache_free(p);
    }
    std::size_t expect = 0;
    for (std::size_t n : per_class) {
        expect += std::min<std::size_t>(n, tls::max_blocks_per_size);
    }
    EXPECT_EQ(tls::thread_cache_stats().blocks, expect);
    EXPECT_LT(expect, same.size());
    tls::thread_cache_flush();

    // Blocks of about 1 KiB in four sizes, twice what the byte limit holds.
    std::vector<void*> big;
    for (std::size_t n : {984, 1000, 1016, 1032}) {
        for (unsigned i = 0; i < tls::max_blocks_per_size; i++) {
            big.push_back(tls::cache_malloc(n));
        }
    }
    for (void* p : big) {
        tls::cache_free(p);
    }
    auto st = tls::thread_cache_stats();
    EXPECT_LE(st.bytes, tls::max_bytes_per_thread);
    EXPECT_GT(st.bytes, tls::max_bytes_per_thread - tls::max_cached);
}

// A block made on one thread and freed on another is kept by the one that
// freed it; a thread's blocks go back to malloc when it ends (under
// AddressSanitizer, blocks left behind would be reported as leaks).
TEST_F(TlsAlloc, BlocksMoveBetweenThreadsAndThreadsGiveThemBack) {
    std::vector<void*> made(100);
    for (void*& p : made) {
        p = tls::cache_malloc(48);
        ASSERT_NE(p, nullptr);
    }
    std::size_t kept_there = 0;
    bool reused_there = false;
    std::thread t([&] {
        for (void* p : made) {
            tls::cache_free(p);
        }
        kept_there = tls::thread_cache_stats().blocks;
        void* again = tls::cache_malloc(48);
        reused_there = again == made.back();
        tls::cache_free(again);
    });
    t.join();
    EXPECT_EQ(kept_there, made.size());
    EXPECT_TRUE(reused_there);
    EXPECT_EQ(tls::thread_cache_stats().blocks, 0u); // not this thread's

    // Many short threads, each keeping blocks when it ends.
    for (int i = 0; i < 20; i++) {
        std::thread([] {
            std::vector<void*> v(64);
            for (void*& p : v) {
                p = tls::cache_malloc(24 + 16 * (reinterpret_cast<std::uintptr_t>(&p) % 8));
            }
            for (void* p : v) {
                tls::cache_free(p);
            }
        }).join();
    }
}

// Installed by init_openssl() before OpenSSL's first allocation: then a
// block OPENSSL_free takes is the one the next OPENSSL_malloc of that size
// returns.  Builds with sanitizers leave OpenSSL on malloc.
TEST_F(TlsAlloc, OpenSslAllocatesThroughTheCacheOnceInitialised) {
    tls::init_openssl();
    tls::thread_cache_flush(); // what initialising kept
    const char* env = std::getenv("NNGHTTP_TLS_ALLOC");
    bool expect = !sanitized() && !(env != nullptr && std::strcmp(env, "system") == 0);
    ASSERT_EQ(tls::openssl_allocator_cached(), expect);
    void* p = OPENSSL_malloc(300);
    ASSERT_NE(p, nullptr);
    OPENSSL_free(p);
    EXPECT_EQ(tls::thread_cache_stats().blocks, expect ? 1u : 0u);
    void* q = OPENSSL_malloc(300);
    if (expect) {
        EXPECT_EQ(q, p);
    }
    OPENSSL_free(q);
}

} // namespace
