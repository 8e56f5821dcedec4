// Conversions between the HTTP C handles and the C++ objects behind them
// (the pointer is the object; nothing wraps).
#pragma once

#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

#include "http/conn.hpp"
#include "http/message.hpp"

namespace nnghttp::detail::capi {

inline http::request* from_c(nng_http_req* r) noexcept { return reinterpret_cast<http::request*>(r); }
inline nng_http_req* to_c(http::request* r) noexcept { return reinterpret_cast<nng_http_req*>(r); }
inline http::response* from_c(nng_http_res* r) noexcept {
    return reinterpret_cast<http::response*>(r);
}
inline nng_http_res* to_c(http::response* r) noexcept { return reinterpret_cast<nng_http_res*>(r); }
inline http::conn* from_c(nng_http_conn* c) noexcept { return reinterpret_cast<http::conn*>(c); }
inline nng_http_conn* to_c(http::conn* c) noexcept { return reinterpret_cast<nng_http_conn*>(c); }

} // namespace nnghttp::detail::capi
