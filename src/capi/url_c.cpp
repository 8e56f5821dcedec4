// nng_url_parse, nng_url_clone, nng_url_free: shims over nnghttp::detail::parse_url.
//
// An nng_url and each of its strings are separate malloc() blocks, as in
// NNG, so a program may free or replace a single field with nng_strfree and
// nng_strdup.  A field NNG leaves NULL is NULL here too.  On any error the
// caller's pointer is left untouched.
#include "core/url.hpp"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <nng/nng.h>
#include <optional>
#include <string>

namespace {

// The ten string fields, in declaration order.
constexpr char* nng_url::*url_fields[] = {
    &nng_url::u_rawurl,   &nng_url::u_scheme, &nng_url::u_userinfo, &nng_url::u_host,
    &nng_url::u_hostname, &nng_url::u_port,   &nng_url::u_path,     &nng_url::u_query,
    &nng_url::u_fragment, &nng_url::u_requri,
};

void free_url(nng_url* u) noexcept {
    if (u != nullptr) {
        for (auto field : url_fields) {
            std::free(u->*field);
        }
        std::free(u);
    }
}

struct url_deleter {
    void operator()(nng_url* u) const noexcept { free_url(u); }
};
using url_ptr = std::unique_ptr<nng_url, url_deleter>;

// A fresh, all-NULL nng_url.
url_ptr new_url() {
    auto* u = static_cast<nng_url*>(std::calloc(1, sizeof(nng_url)));
    if (u == nullptr) {
        throw std::bad_alloc();
    }
    return url_ptr(u);
}

// A malloc'ed, NUL-terminated copy of s (which holds no NUL), or NULL for NULL.
char* copy_string(const char* s, std::size_t n) {
    if (s == nullptr) {
        return nullptr;
    }
    auto* p = static_cast<char*>(std::malloc(n + 1));
    if (p == nullptr) {
        throw std::bad_alloc();
    }
    std::memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char* copy_string(const char* s) {
    return copy_string(s, s == nullptr ? 0 : std::strlen(s));
}

char* copy_string(const std::string& s) {
    return copy_string(s.c_str(), s.size());
}

char* copy_string(const std::optional<std::string>& s) {
    return s ? copy_string(*s) : nullptr;
}

// The C form of a parsed URL.  Each field is stored as soon as it is
// copied, so a failed copy frees the earlier ones.
url_ptr to_c(const nnghttp::detail::url& v) {
    url_ptr u = new_url();
    u->u_rawurl = copy_string(v.rawurl);
    u->u_scheme = copy_string(v.scheme);
    u->u_userinfo = copy_string(v.userinfo);
    u->u_host = copy_string(v.host);
    u->u_hostname = copy_string(v.hostname);
    u->u_port = copy_string(v.port);
    u->u_path = copy_string(v.path);
    u->u_query = copy_string(v.query);
    u->u_fragment = copy_string(v.fragment);
    u->u_requri = copy_string(v.requri);
    return u;
}

// A field-by-field copy, NULL kept as NULL; the source may have been built
// by hand, so it is not assumed to be anything parse_url produced.
url_ptr copy_c(const nng_url& src) {
    url_ptr u = new_url();
    for (auto field : url_fields) {
        u.get()->*field = copy_string(src.*field);
    }
    return u;
}

} // namespace

extern "C" int nng_url_parse(nng_url** urlp, const char* raw) {
    if (urlp == nullptr || raw == nullptr) {
        return NNG_EINVAL;
    }
    try {
        nnghttp::detail::url v;
        int rv = nnghttp::detail::parse_url(raw, v);
        if (rv == 0) {
            *urlp = to_c(v).release();
        }
        return rv;
    } catch (const std::bad_alloc&) {
        return NNG_ENOMEM;
    }
}

extern "C" void nng_url_free(nng_url* url) {
    free_url(url);
}

extern "C" int nng_url_clone(nng_url** dstp, const nng_url* src) {
    if (dstp == nullptr || src == nullptr) {
        return NNG_EINVAL;
    }
    try {
        *dstp = copy_c(*src).release();
        return 0;
    } catch (const std::bad_alloc&) {
        return NNG_ENOMEM;
    }
}
