#include "http/router.hpp"

#include "core/url.hpp"
#include "http/parser.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cstring>
#include <nng/nng.h>

namespace nnghttp::detail::http {

namespace {

std::string_view trim_slashes(std::string_view p) {
    while (!p.empty() && p.back() == '/') {
        p.remove_suffix(1);
    }
    return p;
}

bool starts_with_nocase(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// An IPv4 or IPv6 literal (IPv6 possibly in brackets, possibly with a
// port after the brackets) as 16 bytes plus family; false if not one.
struct ip_addr {
    int family = 0;
    unsigned char bytes[16] = {};
    bool operator==(const ip_addr& o) const {
        return family == o.family && std::memcmp(bytes, o.bytes, 16) == 0;
    }
};

bool parse_ip(std::string_view text, bool allow_port, ip_addr& out) {
    char buf[INET6_ADDRSTRLEN + 1];
    auto pton = [&](int family, std::string_view v) {
        if (v.size() >= sizeof buf) {
            return false;
        }
        std::memcpy(buf, v.data(), v.size());
        buf[v.size()] = '\0';
        out.family = family;
        return inet_pton(family, buf, out.bytes) == 1;
    };
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos) {
            return false;
        }
        std::string_view rest = text.substr(close + 1);
        if (!rest.empty() && !(allow_port && rest.front() == ':')) {
            return false;
        }
        return pton(AF_INET6, text.substr(1, close - 1));
    }
    if (pton(AF_INET6, text)) {
        return true;
    }
    if (allow_port) {
        text = text.substr(0, text.find(':'));
    }
    return pton(AF_INET, text);
}

bool host_matches(const route& r, const char* host) {
    if (r.host.empty()) {
        return true;
    }
    if (host == nullptr) {
        return false;
    }
    std::string_view h(host);
    ip_addr want;
    if (parse_ip(r.host, false, want)) {
        ip_addr got;
        return parse_ip(h, true, got) && got == want;
    }
    if (!starts_with_nocase(h, r.host)) {
        return false;
    }
    std::string_view rest = h.substr(r.host.size());
    return rest.empty() || rest.front() == ':' || rest == ".";
}

// Does the request path fall under the route's path?
bool path_matches(const route& r, std::string_view path) {
    std::string_view rp = r.path;
    if (path.substr(0, rp.size()) != rp) {
        return false;
    }
    std::string_view rest = path.substr(rp.size());
    if (rest.empty() || rest == "/") {
        return true;
    }
    return rest.front() == '/' && r.tree;
}

void add_allowed(std::string& allow, std::string_view m) {
    // Small lists: a linear scan for duplicates is fine.
    std::size_t pos = 0;
    while (pos < allow.size()) {
        std::size_t end = allow.find(", ", pos);
        std::string_view item = std::string_view(allow).substr(
            pos, end == std::string::npos ? std::string::npos : end - pos);
        if (item == m) {
            return;
        }
        if (end == std::string::npos) {
            break;
        }
        pos = end + 2;
    }
    if (!allow.empty()) {
        allow += ", ";
    }
    allow += m;
}

} // namespace

bool canonical_path(std::string_view target, std::string& out) {
    out.clear();
    // Absolute form: keep only the path.
    for (std::string_view scheme : {std::string_view("http://"), std::string_view("https://")}) {
        if (starts_with_nocase(target, scheme)) {
            target.remove_prefix(scheme.size());
            auto slash = target.find_first_of("/?#");
            if (slash == std::string_view::npos || target[slash] != '/') {
                target = "/";
            } else {
                target.remove_prefix(slash);
            }
            break;
        }
    }
    if (auto q = target.find_first_of("?#"); q != std::string_view::npos) {
        target = target.substr(0, q);
    }
    if (target.empty() || target.front() != '/') {
        return false;
    }
    // Decode, then split into segments, resolving "." and "..".
    std::string decoded;
    decoded.reserve(target.size());
    for (std::size_t i = 0; i < target.size(); i++) {
        char c = target[i];
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            return false;
        }
        if (c != '%') {
            decoded += c;
            continue;
        }
        if (i + 2 >= target.size()) {
            return false; // '%' needs two hex digits after it
        }
        int hi = hex_digit(target[i + 1]);
        int lo = hex_digit(target[i + 2]);
        if (hi < 0 || lo < 0) {
            return false;
        }
        char d = static_cast<char>(hi * 16 + lo);
        // An escaped NUL, control, or separator would let one segment pose
        // as several (or a file name as a path): refused.
        if (static_cast<unsigned char>(d) < 0x20 || d == 0x7f || d == '/' || d == '\\') {
            return false;
        }
        decoded += d;
        i += 2;
    }
    out.reserve(decoded.size());
    std::size_t pos = 0;
    while (pos < decoded.size()) {
        while (pos < decoded.size() && decoded[pos] == '/') {
            pos++;
        }
        std::size_t end = decoded.find('/', pos);
        if (end == std::string::npos) {
            end = decoded.size();
        }
        std::string_view seg(decoded.data() + pos, end - pos);
        if (seg.empty() || seg == ".") {
            // nothing
        } else if (seg == "..") {
            auto last = out.rfind('/');
            out.resize(last == std::string::npos ? 0 : last);
        } else {
            out += '/';
            out += seg;
        }
        pos = end;
    }
    // A trailing slash is kept: it tells a directory request apart.
    if (out.empty()) {
        out.push_back('/');
    } else if (decoded.back() == '/') {
        out += '/';
    } else if (std::string_view tail = std::string_view(decoded).substr(decoded.rfind('/') + 1);
               tail == "." || tail == "..") {
        out += '/';
    }
    return true;
}

int router::add(route r) {
    if ((!r.path.empty() && r.path.front() != '/') || r.target == nullptr) {
        return NNG_EINVAL;
    }
    r.path = std::string(trim_slashes(r.path));
    for (const route& o : routes_) {
        if (!iequals(o.host, r.host) || o.method != r.method) {
            continue; // different hosts or methods never conflict
        }
        if ((o.tree && o.exclusive) || (r.tree && r.exclusive)) {
            std::string_view a = r.path;
            std::string_view b = o.path;
            std::size_t n = std::min(a.size(), b.size());
            if (a.substr(0, n) != b.substr(0, n)) {
                continue;
            }
            if (a.size() == b.size()) {
                return NNG_EADDRINUSE;
            }
            // The longer one lies below the shorter, tree one.
            if (b.size() > a.size() && b[a.size()] == '/' && r.tree) {
                return NNG_EADDRINUSE;
            }
            if (a.size() > b.size() && a[b.size()] == '/' && o.tree) {
                return NNG_EADDRINUSE;
            }
        } else if (o.path == r.path) {
            return NNG_EADDRINUSE;
        }
    }
    auto pos = std::find_if(routes_.begin(), routes_.end(),
                            [&](const route& o) { return r.path.size() > o.path.size(); });
    routes_.insert(pos, std::move(r));
    return 0;
}

bool router::remove(const void* target) {
    auto it = std::find_if(routes_.begin(), routes_.end(),
                           [&](const route& o) { return o.target == target; });
    if (it == routes_.end()) {
        return false;
    }
    routes_.erase(it);
    return true;
}

match_result router::match(std::string_view path, std::string_view method, const char* host) const {
    match_result res;
    const route* head_via_get = nullptr;
    bool is_head = method == "HEAD";
    for (const route& r : routes_) {
        if (!host_matches(r, host) || !path_matches(r, path)) {
            continue;
        }
        if (r.method.empty() || r.method == method) {
            res.status = match_status::found;
            res.target = r.target;
            res.allow.clear();
            return res;
        }
        if (is_head && r.method == "GET") {
            if (head_via_get == nullptr) {
                head_via_get = &r;
            }
            continue;
        }
        add_allowed(res.allow, r.method);
        if (r.method == "GET") {
            add_allowed(res.allow, "HEAD");
        }
    }
    if (head_via_get != nullptr) {
        res.status = match_status::found;
        res.target = head_via_get->target;
        res.allow.clear();
        return res;
    }
    res.status = res.allow.empty() ? match_status::not_found : match_status::bad_method;
    return res;
}

} // namespace nnghttp::detail::http
