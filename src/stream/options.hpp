// Typed option access, as NNG's nng_*_get_<type> / nng_*_set_<type> do it.
//
// A caller names the type it passes (opt_type).  The typed calls must match
// the option's own type exactly, else NNG_EBADTYPE; the untyped calls
// (nng_stream_get / nng_stream_set) pass opt_type::opaque with a byte size,
// which must equal the option's size (NNG_EINVAL otherwise; a get into a
// smaller buffer copies what fits, reports the full size and fails with
// NNG_EINVAL).  An unknown name is NNG_ENOTSUP; a get on a write-only option
// NNG_EWRITEONLY; a set on a read-only option NNG_EREADONLY.
#pragma once

#include <nng/nng.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace nnghttp::detail {

// nng-http's own listener option (bool, tcp only, before listen): bind
// with SO_REUSEPORT, so that several processes share one port.
inline constexpr std::string_view opt_reuse_port = "nnghttp:reuse-port";
// Another (bool, tcp only, before listen): accepted sockets report with
// each receive whether bytes or the peer's FIN are left (TCP_INQ), which
// spares the next receive a recv(2) that would find nothing (see
// socket_stream::rx_op).  The cost: an RST that comes together with the
// last bytes read is noticed at the next send or timeout rather than at
// once, so only an owner that always has one (the HTTP server) sets it.
inline constexpr std::string_view opt_tcp_inq = "nnghttp:tcp-inq";

enum class opt_type { opaque, boolean, int32, ms, size, uint64, string, ptr, sockaddr };

// The C++ type carried by each opt_type.
template <typename V> constexpr opt_type opt_type_of();
template <> constexpr opt_type opt_type_of<bool>() { return opt_type::boolean; }
template <> constexpr opt_type opt_type_of<int>() { return opt_type::int32; }
template <> constexpr opt_type opt_type_of<std::size_t>() { return opt_type::size; }
// (uint64_t is size_t here: uint64 values name their type explicitly.)
template <> constexpr opt_type opt_type_of<void*>() { return opt_type::ptr; }
template <> constexpr opt_type opt_type_of<nng_sockaddr>() { return opt_type::sockaddr; }

// Where a get writes its value.
struct opt_out {
    void* buf;
    std::size_t* size; // in: room in buf (opaque only); out: the value's size
    opt_type type;
};

// What a set reads.
struct opt_in {
    const void* buf;
    std::size_t size;
    opt_type type;
};

// Copies raw bytes for an opaque get.
int copy_out_bytes(const void* src, std::size_t n, const opt_out& out) noexcept;

template <typename V> int copy_out(const V& v, const opt_out& out, opt_type as = opt_type_of<V>()) {
    if (out.type == as) {
        std::memcpy(out.buf, &v, sizeof v);
        return 0;
    }
    if (out.type == opt_type::opaque) {
        return copy_out_bytes(&v, sizeof v, out);
    }
    return NNG_EBADTYPE;
}

inline int copy_out_ms(nng_duration d, const opt_out& out) { return copy_out(d, out, opt_type::ms); }

// A string get: typed, the caller receives an nng_strdup'ed copy to free
// with nng_strfree; opaque, the bytes with their terminating NUL.
int copy_out_string(std::string_view s, const opt_out& out) noexcept;

template <typename V> int copy_in(V& v, const opt_in& in, opt_type as = opt_type_of<V>()) {
    if (in.type == as) {
        std::memcpy(&v, in.buf, sizeof v);
        return 0;
    }
    if (in.type == opt_type::opaque) {
        if (in.size != sizeof v) {
            return NNG_EINVAL;
        }
        std::memcpy(&v, in.buf, sizeof v);
        return 0;
    }
    return NNG_EBADTYPE;
}

// An int within [lo, hi], NNG_EINVAL outside.
int copy_in_int(int& v, const opt_in& in, int lo, int hi);
// A duration: >= -1 (NNG_DURATION_INFINITE), NNG_EINVAL otherwise.
int copy_in_ms(nng_duration& v, const opt_in& in);
// A string shorter than max_len bytes.
int copy_in_string(std::string_view& v, const opt_in& in, std::size_t max_len);

// A table of options for an object of type T.
template <typename T> struct option {
    std::string_view name;
    int (*get)(T&, const opt_out&);
    int (*set)(T&, const opt_in&);
};

template <typename T>
int get_option(std::span<const option<T>> table, T& obj, std::string_view name,
               const opt_out& out) {
    for (const auto& o : table) {
        if (o.name == name) {
            return o.get != nullptr ? o.get(obj, out) : NNG_EWRITEONLY;
        }
    }
    return NNG_ENOTSUP;
}

template <typename T>
int set_option(std::span<const option<T>> table, T& obj, std::string_view name, const opt_in& in) {
    for (const auto& o : table) {
        if (o.name == name) {
            return o.set != nullptr ? o.set(obj, in) : NNG_EREADONLY;
        }
    }
    return NNG_ENOTSUP;
}

} // namespace nnghttp::detail
