#pragma once
// A per-thread cache of small memory blocks in front of malloc, for
// OpenSSL's allocations.
//
// Why: a full TLS handshake makes ~700 allocations inside OpenSSL (EC key
// generation, signing, the PRF's MAC copies), most of them small and freed
// before the handshake ends.  glibc's own per-thread cache keeps 7 blocks
// of a size; the rest go to the arena, which takes a lock in any process
// that has started a second thread (ours always has: the event loops).
// Measured on the https benchmark (bench/server/run_tls.sh), that lock and
// the slower arena paths cost ~3% of the server's CPU per handshake, the
// difference between nng-http and single-threaded nginx.
//
// How: blocks are real malloc blocks; a freed block up to max_cached bytes
// goes onto a list of blocks of its usable size (malloc_usable_size), a
// request takes one from the list of the smallest size that fits.  Nothing
// is prefixed to a block, so a block OpenSSL hands out may still be freed
// with free() by a careless caller, and any malloc'd block OpenSSL is given
// to free is accepted.  Each thread caches at most max_bytes_per_thread and
// returns everything to malloc when it ends.
//
// install_openssl_allocator() routes OpenSSL's allocations here.  OpenSSL
// takes that only before its first allocation in the process, so it is
// called first thing by init_openssl(); when the program (or another
// library) used OpenSSL before, OpenSSL keeps its allocator and so do we.
// NNGHTTP_TLS_ALLOC=system in the environment keeps malloc; so do builds
// with AddressSanitizer or ThreadSanitizer (they must see every block).

#include <cstddef>

namespace nnghttp::detail::tls {

// The largest block kept, and the most bytes one thread keeps.
inline constexpr std::size_t max_cached = 1032;
inline constexpr std::size_t max_bytes_per_thread = 512 * 1024;
inline constexpr unsigned max_blocks_per_size = 256;

// malloc, free and realloc with this thread's cache in front.  cache_malloc
// returns nullptr for 0 bytes (as OpenSSL's own allocator does).
void* cache_malloc(std::size_t n) noexcept;
void cache_free(void* p) noexcept;
void* cache_realloc(void* p, std::size_t n) noexcept;

// What this thread's cache holds now (for tests).
struct cache_stats {
    std::size_t blocks;
    std::size_t bytes;
};
cache_stats thread_cache_stats() noexcept;
// Returns every block this thread holds to malloc.
void thread_cache_flush() noexcept;

// Installs the cache as OpenSSL's allocator (see above).  Called once, by
// init_openssl(), before anything else touches OpenSSL.  Returns whether
// OpenSSL took it.
bool install_openssl_allocator() noexcept;
// Whether OpenSSL's allocations go through the cache in this process.
bool openssl_allocator_cached() noexcept;

} // namespace nnghttp::detail::tls
