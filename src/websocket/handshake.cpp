#include "websocket/handshake.hpp"

#include "http/parser.hpp"

#include <algorithm>
#include <openssl/evp.h>

namespace nnghttp::detail::ws {

namespace {

inline bool is_ows(char c) {
    return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && is_ows(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && is_ows(s.back())) {
        s.remove_suffix(1);
    }
    return s;
}

// Calls each(element) for every non-empty element of a comma-separated
// list, trimmed; returns false, looking no further, as soon as each() does.
template <class F> bool for_each_element(std::string_view list, F each) {
    for (;;) {
        const std::size_t comma = list.find(',');
        std::string_view e = trim(list.substr(0, comma));
        if (!e.empty() && !each(e)) {
            return false;
        }
        if (comma == std::string_view::npos) {
            return true;
        }
        list.remove_prefix(comma + 1);
    }
}

// An Upgrade element: protocol-name ["/" protocol-version] (RFC 9110
// section 7.8).
bool is_upgrade_protocol(std::string_view e) {
    const std::size_t slash = e.find('/');
    if (slash == std::string_view::npos) {
        return http::is_token(e);
    }
    return http::is_token(e.substr(0, slash)) && http::is_token(e.substr(slash + 1));
}

int base64_value(char c) {
    if (c >= 'A' && c <= 'Z') {
        return c - 'A';
    }
    if (c >= 'a' && c <= 'z') {
        return c - 'a' + 26;
    }
    if (c >= '0' && c <= '9') {
        return c - '0' + 52;
    }
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

} // namespace

std::string accept_key(std::string_view key) {
    std::string input;
    input.reserve(key.size() + handshake_guid.size());
    input.append(key).append(handshake_guid);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha1(), nullptr) != 1 ||
        len != 20) {
        return {};
    }
    // 20 bytes give 28 characters (the last one '='), plus the NUL that
    // EVP_EncodeBlock writes.
    unsigned char text[29];
    const int n = EVP_EncodeBlock(text, digest, 20);
    return n == 28 ? std::string(reinterpret_cast<const char*>(text), 28) : std::string();
}

bool accept_matches(std::string_view key, std::string_view accept) {
    const std::string want = accept_key(key);
    return !want.empty() && accept == want;
}

bool is_valid_key(std::string_view key) noexcept {
    if (key.size() != 24 || key.substr(22) != "==") {
        return false;
    }
    for (std::size_t i = 0; i < 22; i++) {
        if (base64_value(key[i]) < 0) {
            return false;
        }
    }
    // The 22nd character holds the last 2 bits of byte 16 and 4 bits of
    // padding, which a canonical encoder leaves at zero.
    return (base64_value(key[21]) & 0x0F) == 0;
}

bool is_supported_version(std::string_view value) noexcept {
    return value == websocket_version;
}

bool parse_token_list(std::string_view value, std::vector<std::string_view>& out) {
    const std::size_t before = out.size();
    const bool ok = for_each_element(value, [&](std::string_view e) {
        if (!http::is_token(e)) {
            return false;
        }
        out.push_back(e);
        return true;
    });
    if (!ok) {
        out.resize(before);
    }
    return ok;
}

bool token_list_contains(std::string_view value, std::string_view token) noexcept {
    bool found = false;
    const bool ok = for_each_element(value, [&](std::string_view e) {
        found = found || http::iequals(e, token);
        return http::is_token(e);
    });
    return ok && found;
}

bool upgrade_has_websocket(std::string_view value) noexcept {
    bool found = false;
    const bool ok = for_each_element(value, [&](std::string_view e) {
        found = found || http::iequals(e, "websocket");
        return is_upgrade_protocol(e);
    });
    return ok && found;
}

bool parse_protocols(std::string_view value, std::vector<std::string_view>& offered) {
    const std::size_t before = offered.size();
    const bool ok = for_each_element(value, [&](std::string_view e) {
        if (!http::is_token(e) || std::find(offered.begin(), offered.end(), e) != offered.end()) {
            return false;
        }
        offered.push_back(e);
        return true;
    });
    if (!ok) {
        offered.resize(before);
    }
    return ok;
}

std::optional<std::string_view> choose_protocol(std::span<const std::string_view> offered,
                                                std::span<const std::string_view> supported) {
    for (std::string_view s : supported) {
        auto it = std::find(offered.begin(), offered.end(), s);
        if (it != offered.end()) {
            return *it;
        }
    }
    return std::nullopt;
}

bool is_offered_protocol(std::span<const std::string_view> offered,
                         std::string_view answer) noexcept {
    return std::find(offered.begin(), offered.end(), answer) != offered.end();
}

} // namespace nnghttp::detail::ws
