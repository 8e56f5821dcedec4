#include "http/handler.hpp"

#include <arpa/inet.h>
#include <cstring>

namespace nnghttp::detail::http {

namespace {

// The address wildcards "0.0.0.0" and "::" mean every host, as in NNG.
bool is_wildcard_address(const char* host) {
    unsigned char buf[16] = {};
    static const unsigned char zero[16] = {};
    if (inet_pton(AF_INET, host, buf) == 1) {
        return std::memcmp(buf, zero, 4) == 0;
    }
    if (inet_pton(AF_INET6, host, buf) == 1) {
        return std::memcmp(buf, zero, 16) == 0;
    }
    return false;
}

} // namespace

handler::handler(kind k, std::string_view path, callback_fn cb)
    : kind_(k), cb_(cb), path_(path.empty() ? "/" : path) {}

handler::~handler() {
    if (dtor_ != nullptr) {
        dtor_(data_);
    }
}

int handler::set_method(const char* method) {
    if (frozen()) {
        return NNG_EBUSY;
    }
    method_ = method != nullptr ? method : "";
    return 0;
}

int handler::set_host(const char* host) {
    if (frozen()) {
        return NNG_EBUSY;
    }
    if (host == nullptr || *host == '\0' || std::strcmp(host, "*") == 0 ||
        is_wildcard_address(host)) {
        host_.clear();
    } else {
        host_ = host;
    }
    return 0;
}

int handler::set_tree(bool exclusive) {
    if (frozen()) {
        return NNG_EBUSY;
    }
    tree_ = true;
    exclusive_ = exclusive;
    return 0;
}

void handler::collect_body(bool want, std::size_t max) noexcept {
    want_body_ = want;
    max_body_ = max;
}

int handler::set_data(void* data, void (*dtor)(void*)) {
    if (frozen()) {
        return NNG_EBUSY;
    }
    data_ = data;
    dtor_ = dtor;
    return 0;
}

route handler::to_route() const {
    route r;
    r.path = path_ == "/" ? std::string() : path_;
    r.method = method_;
    r.host = host_;
    r.tree = tree_;
    r.exclusive = exclusive_;
    r.target = this;
    return r;
}

} // namespace nnghttp::detail::http
