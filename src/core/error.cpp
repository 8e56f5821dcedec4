#include "core/error.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace nnghttp::detail {

namespace {

// Texts for the NNG_E* values 0..31, indexed by value.  These are the
// strings NNG 1.5.2 prints; programs and tests compare them.
constexpr std::array<const char*, 32> base_texts = {
    "Hunky dory",
    "Interrupted",
    "Out of memory",
    "Invalid argument",
    "Resource busy",
    "Timed out",
    "Connection refused",
    "Object closed",
    "Try again",
    "Not supported",
    "Address in use",
    "Incorrect state",
    "Entry not found",
    "Protocol error",
    "Destination unreachable",
    "Address invalid",
    "Permission denied",
    "Message too large",
    "Connection aborted",
    "Connection reset",
    "Operation canceled",
    "Out of files",
    "Out of space",
    "Resource already exists",
    "Read only resource",
    "Write only resource",
    "Cryptographic error",
    "Peer could not be authenticated",
    "Option requires argument",
    "Ambiguous option",
    "Incorrect type",
    "Connection shutdown",
};

// Formatted texts live in a per-thread buffer: NNG uses one static buffer,
// which two threads could overwrite under each other.
thread_local char format_buf[64];

} // namespace

const char* error_text(int num) noexcept {
    if (num >= 0 && static_cast<std::size_t>(num) < base_texts.size()) {
        return base_texts[static_cast<std::size_t>(num)];
    }
    if (num == NNG_EINTERNAL) {
        return "Internal error detected";
    }
    if ((num & NNG_ESYSERR) != 0) {
        // As NNG: the system text for the errno part.  A value above the
        // range loses one more NNG_ESYSERR (NNG 1.5.2 does the same).
        int e = num & ~NNG_ESYSERR;
        if (e > NNG_ESYSERR) {
            e -= NNG_ESYSERR;
        }
        // GNU strerror_r returns a pointer to a static string or to buf.
        const char* s = strerror_r(e, format_buf, sizeof(format_buf));
        return s;
    }
    if ((num & NNG_ETRANERR) != 0) {
        std::snprintf(format_buf, sizeof(format_buf), "Transport error #%d", num & ~NNG_ETRANERR);
        return format_buf;
    }
    std::snprintf(format_buf, sizeof(format_buf), "Unknown error #%d", num);
    return format_buf;
}

int from_errno(int err) noexcept {
    switch (err) {
    case 0:
        return 0;
    case EINTR:
        return NNG_EINTR;
    case EINVAL:
    case ENAMETOOLONG:
        return NNG_EINVAL;
    case ENOMEM:
    case ENOBUFS:
        return NNG_ENOMEM;
    case EACCES:
    case EPERM:
        return NNG_EPERM;
    case EADDRINUSE:
        return NNG_EADDRINUSE;
    case EADDRNOTAVAIL:
        return NNG_EADDRINVAL;
    case EAFNOSUPPORT:
    case ENOPROTOOPT:
    case ENOSYS:
    case ENOTSUP:
    case EPROTONOSUPPORT:
        return NNG_ENOTSUP;
    case EAGAIN:
        return NNG_EAGAIN;
    case EBADF:
    case EPIPE:
        return NNG_ECLOSED;
    case EBUSY:
        return NNG_EBUSY;
    case ECONNABORTED:
        return NNG_ECONNABORTED;
    case ECONNREFUSED:
        return NNG_ECONNREFUSED;
    case ECONNRESET:
        return NNG_ECONNRESET;
    case EHOSTUNREACH:
    case ENETUNREACH:
        return NNG_EUNREACHABLE;
    case ENOENT:
        return NNG_ENOENT;
    case EPROTO:
        return NNG_EPROTO;
    case ETIME:
    case ETIMEDOUT:
        return NNG_ETIMEDOUT;
    case ENOSPC:
    case EFBIG:
    case EDQUOT:
        return NNG_ENOSPC;
    case ENFILE:
    case EMFILE:
        return NNG_ENOFILES;
    case EEXIST:
        return NNG_EEXIST;
    default:
        return NNG_ESYSERR + err;
    }
}

} // namespace nnghttp::detail
