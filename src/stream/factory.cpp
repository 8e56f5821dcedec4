#include "stream/ipc.hpp"
#include "stream/stream.hpp"
#include "stream/tcp.hpp"

#include <string_view>

namespace nnghttp::detail {

namespace {

struct transport {
    std::string_view scheme;
    int (*dialer)(const nng_url&, stream_dialer*&);
    int (*listener)(const nng_url&, stream_listener*&);
};

constexpr transport transports[] = {
    {"tcp", make_tcp_dialer, make_tcp_listener},
    {"tcp4", make_tcp_dialer, make_tcp_listener},
    {"tcp6", make_tcp_dialer, make_tcp_listener},
    {"ipc", make_ipc_dialer, make_ipc_listener},
    {"unix", make_ipc_dialer, make_ipc_listener},
    {"abstract", make_ipc_dialer, make_ipc_listener},
};

const transport* find(const nng_url& url) {
    for (const auto& t : transports) {
        if (url.u_scheme != nullptr && t.scheme == url.u_scheme) {
            return &t;
        }
    }
    return nullptr;
}

} // namespace

int make_dialer(const nng_url& url, stream_dialer*& out) {
    const transport* t = find(url);
    return t != nullptr ? t->dialer(url, out) : NNG_ENOTSUP;
}

int make_listener(const nng_url& url, stream_listener*& out) {
    const transport* t = find(url);
    return t != nullptr ? t->listener(url, out) : NNG_ENOTSUP;
}

} // namespace nnghttp::detail
