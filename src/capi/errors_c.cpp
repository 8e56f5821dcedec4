// nng_strerror, nng_version and NNG's allocation helpers.
#include <nng/nng.h>

#include "core/error.hpp"

#include <cstdlib>
#include <cstring>

extern "C" {

const char* nng_strerror(int num) { return nnghttp::detail::error_text(num); }

// The NNG API level we implement (the header's NNG_*_VERSION): programs use
// it to detect features.  nnghttp's own version is in the C++ API.
const char* nng_version(void) { return "1.5.2"; }

// As NNG: a zero-size request yields NULL; memory comes from malloc, so
// nng_free ignores the size and memory from nng_alloc may be passed to free().
void* nng_alloc(size_t sz) { return sz > 0 ? std::malloc(sz) : nullptr; }

void nng_free(void* ptr, size_t) { std::free(ptr); }

char* nng_strdup(const char* src) {
    if (src == nullptr) {
        return nullptr; // NNG would crash; a NULL in gives a NULL out here
    }
    std::size_t len = std::strlen(src) + 1;
    auto* dst = static_cast<char*>(std::malloc(len));
    if (dst != nullptr) {
        std::memcpy(dst, src, len);
    }
    return dst;
}

void nng_strfree(char* s) { std::free(s); }

} // extern "C"
