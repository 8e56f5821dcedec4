// HTTP requests and responses: the C API (nng_http_req_*, nng_http_res_*)
// and the C++ classes behind it (nnghttp::detail::http::request, response,
// header_list, body).
//
// tests/compat/http_msg.c compares the C API with NNG 1.5.2 side by side;
// this file checks the same contract directly, and the places where
// nng-http deliberately differs (docs/compat.md, "HTTP messages"): CR/LF
// and ':' refused, NULL arguments, Content-Length beyond 4 GiB, the seven
// extra reason phrases, the error page, and the bytes append_head writes.
#include "capi/http_handles.hpp"
#include "http/message.hpp"

#include <cstdint>
#include <cstring>
#include <gtest/gtest.h>
#include <map>
#include <memory>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>
#include <string>

using nnghttp::detail::http::header_list;
using nnghttp::detail::http::request;
using nnghttp::detail::http::response;

namespace {

struct req_deleter {
    void operator()(nng_http_req* r) const { nng_http_req_free(r); }
};
struct res_deleter {
    void operator()(nng_http_res* r) const { nng_http_res_free(r); }
};
using req_ptr = std::unique_ptr<nng_http_req, req_deleter>;
using res_ptr = std::unique_ptr<nng_http_res, res_deleter>;

req_ptr new_req(const nng_url* url = nullptr) {
    nng_http_req* r = nullptr;
    EXPECT_EQ(nng_http_req_alloc(&r, url), 0);
    return req_ptr(r);
}

res_ptr new_res() {
    nng_http_res* r = nullptr;
    EXPECT_EQ(nng_http_res_alloc(&r), 0);
    return res_ptr(r);
}

std::string str(const char* s) {
    return s != nullptr ? s : "(null)";
}

std::string req_header(nng_http_req* r, const char* name) {
    return str(nng_http_req_get_header(r, name));
}

std::string res_header(nng_http_res* r, const char* name) {
    return str(nng_http_res_get_header(r, name));
}

// NNG 1.5.2's reason phrases (its table, spelling included), plus the seven
// standard phrases nng-http adds.
const std::map<int, std::string>& expected_reasons() {
    static const std::map<int, std::string> m = {
        {100, "Continue"},
        {101, "Switching Protocols"},
        {102, "Processing"},
        {200, "OK"},
        {201, "Created"},
        {202, "Accepted"},
        {203, "Not Authoritative"},
        {204, "No Content"},
        {205, "Reset Content"},
        {206, "Partial Content"},
        {207, "Multi-Status"},
        {208, "Already Reported"},
        {226, "IM Used"},
        {300, "Multiple Choices"},
        {301, "Moved Permanently"},
        {302, "Found"},
        {303, "See Other"},
        {304, "Not Modified"},
        {305, "Use Proxy"},
        {307, "Temporary Redirect"},
        {308, "Permanent Redirect"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {402, "Payment Required"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {406, "Not Acceptable"},
        {407, "Proxy Authentication Required"},
        {408, "Request Timeout"},
        {409, "Conflict"},
        {410, "Gone"},
        {411, "Length Required"},
        {412, "Precondition Failed"},
        {413, "Payload Too Large"},
        {414, "Request Entity Too Long"},
        {415, "Unsupported Media Type"},
        {416, "Requested Range Not Satisfiable"},
        {417, "Expectation Failed"},
        {418, "I Am A Teapot"},
        {422, "Unprocessable Entity"},
        {423, "Locked"},
        {424, "Failed Dependency"},
        {426, "Upgrade Required"},
        {428, "Precondition Required"},
        {429, "Too Many Requests"},
        {431, "Headers Too Large"},
        {451, "Unavailable For Legal Reasons"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
        {505, "HTTP Version Not Supported"},
        {506, "Variant Also Negotiates"},
        {507, "Insufficient Storage"},
        {508, "Loop Detected"},
        {510, "Not Extended"},
        {511, "Network Authentication Required"},
    };
    return m;
}

} // namespace

// ---- requests through the C API ----

TEST(MessageRequest, Defaults) {
    auto r = new_req();
    EXPECT_STREQ(nng_http_req_get_method(r.get()), "GET");
    EXPECT_STREQ(nng_http_req_get_version(r.get()), "HTTP/1.1");
    EXPECT_STREQ(nng_http_req_get_uri(r.get()), "");
    EXPECT_EQ(nng_http_req_get_header(r.get(), "Host"), nullptr);
    void* d = reinterpret_cast<void*>(1);
    size_t n = 99;
    nng_http_req_get_data(r.get(), &d, &n);
    EXPECT_EQ(d, nullptr);
    EXPECT_EQ(n, 0u);
}

TEST(MessageRequest, MethodUriVersionAndNullRestoresDefault) {
    auto r = new_req();
    EXPECT_EQ(nng_http_req_set_method(r.get(), "POST"), 0);
    EXPECT_STREQ(nng_http_req_get_method(r.get()), "POST");
    EXPECT_EQ(nng_http_req_set_method(r.get(), "get"), 0); // stored as given
    EXPECT_STREQ(nng_http_req_get_method(r.get()), "get");
    EXPECT_EQ(nng_http_req_set_method(r.get(), nullptr), 0);
    EXPECT_STREQ(nng_http_req_get_method(r.get()), "GET");

    EXPECT_EQ(nng_http_req_set_uri(r.get(), "/a/b?c=d"), 0);
    EXPECT_STREQ(nng_http_req_get_uri(r.get()), "/a/b?c=d");
    EXPECT_EQ(nng_http_req_set_uri(r.get(), nullptr), 0);
    EXPECT_STREQ(nng_http_req_get_uri(r.get()), "");

    // Any version string is stored, as NNG does.
    for (const char* v : {"HTTP/1.0", "HTTP/2.0", "FOO", ""}) {
        EXPECT_EQ(nng_http_req_set_version(r.get(), v), 0);
        EXPECT_STREQ(nng_http_req_get_version(r.get()), v);
    }
    EXPECT_EQ(nng_http_req_set_version(r.get(), nullptr), 0);
    EXPECT_STREQ(nng_http_req_get_version(r.get()), "HTTP/1.1");
}

TEST(MessageRequest, HeadersCaseInsensitiveSetAddDelGet) {
    auto r = new_req();
    EXPECT_EQ(nng_http_req_set_header(r.get(), "Accept", "text/plain"), 0);
    EXPECT_EQ(req_header(r.get(), "accept"), "text/plain");
    EXPECT_EQ(req_header(r.get(), "ACCEPT"), "text/plain");
    EXPECT_EQ(nng_http_req_set_header(r.get(), "aCCEPT", "text/html"), 0);
    EXPECT_EQ(req_header(r.get(), "Accept"), "text/html");
    EXPECT_EQ(nng_http_req_add_header(r.get(), "accept", "image/png"), 0);
    EXPECT_EQ(nng_http_req_add_header(r.get(), "ACCEPT", "*/*"), 0);
    EXPECT_EQ(req_header(r.get(), "Accept"), "text/html, image/png, */*");
    EXPECT_EQ(nng_http_req_add_header(r.get(), "X-New", "1"), 0); // add when absent
    EXPECT_EQ(req_header(r.get(), "x-new"), "1");
    EXPECT_EQ(nng_http_req_set_header(r.get(), "X-Empty", ""), 0);
    EXPECT_EQ(req_header(r.get(), "X-Empty"), "");
    EXPECT_EQ(nng_http_req_add_header(r.get(), "X-Empty", ""), 0);
    EXPECT_EQ(req_header(r.get(), "X-Empty"), ", ");
    EXPECT_EQ(nng_http_req_del_header(r.get(), "ACCEPT"), 0);
    EXPECT_EQ(nng_http_req_get_header(r.get(), "Accept"), nullptr);
    EXPECT_EQ(nng_http_req_del_header(r.get(), "Accept"), NNG_ENOENT);
    EXPECT_EQ(nng_http_req_del_header(r.get(), "Missing"), NNG_ENOENT);
    EXPECT_EQ(nng_http_req_get_header(r.get(), "X-Ne"), nullptr); // no prefix match
    EXPECT_EQ(req_header(r.get(), "X-New"), "1");
}

TEST(MessageRequest, SetDataBorrowsCopyDataCopiesBothSetContentLength) {
    auto r = new_req();
    static char body[] = "hello, body";
    EXPECT_EQ(nng_http_req_set_data(r.get(), body, 11), 0);
    void* d = nullptr;
    size_t n = 0;
    nng_http_req_get_data(r.get(), &d, &n);
    EXPECT_EQ(d, body);
    EXPECT_EQ(n, 11u);
    EXPECT_EQ(req_header(r.get(), "Content-Length"), "11");

    char src[] = "xyz";
    EXPECT_EQ(nng_http_req_copy_data(r.get(), src, 3), 0);
    src[0] = 'Q'; // the copy does not see later changes
    nng_http_req_get_data(r.get(), &d, &n);
    EXPECT_NE(d, static_cast<void*>(src));
    ASSERT_EQ(n, 3u);
    EXPECT_EQ(std::memcmp(d, "xyz", 3), 0);
    EXPECT_EQ(req_header(r.get(), "content-length"), "3");

    EXPECT_EQ(nng_http_req_set_data(r.get(), body, 0), 0);
    EXPECT_EQ(req_header(r.get(), "Content-Length"), "0");

    // A hand-set Content-Length is replaced, not folded.
    EXPECT_EQ(nng_http_req_set_header(r.get(), "Content-Length", "42"), 0);
    EXPECT_EQ(nng_http_req_copy_data(r.get(), "12345", 5), 0);
    EXPECT_EQ(req_header(r.get(), "Content-Length"), "5");
}

// NNG 1.5.2 fails copy_data of zero bytes with NNG_ENOMEM (it asks its
// allocator for zero bytes); nng-http stores the empty body.
TEST(MessageRequest, CopyDataOfZeroBytesSucceeds) {
    auto r = new_req();
    EXPECT_EQ(nng_http_req_copy_data(r.get(), "abc", 0), 0);
    EXPECT_EQ(req_header(r.get(), "Content-Length"), "0");
    void* d = nullptr;
    size_t n = 1;
    nng_http_req_get_data(r.get(), &d, &n);
    EXPECT_EQ(n, 0u);
}

TEST(MessageRequest, ResetRestoresFreshState) {
    auto r = new_req();
    ASSERT_EQ(nng_http_req_set_method(r.get(), "PUT"), 0);
    ASSERT_EQ(nng_http_req_set_uri(r.get(), "/x"), 0);
    ASSERT_EQ(nng_http_req_set_version(r.get(), "HTTP/1.0"), 0);
    ASSERT_EQ(nng_http_req_set_header(r.get(), "X-Gone", "yes"), 0);
    ASSERT_EQ(nng_http_req_copy_data(r.get(), "data", 4), 0);
    nng_http_req_reset(r.get());
    EXPECT_STREQ(nng_http_req_get_method(r.get()), "GET");
    EXPECT_STREQ(nng_http_req_get_uri(r.get()), "");
    EXPECT_STREQ(nng_http_req_get_version(r.get()), "HTTP/1.1");
    EXPECT_EQ(nng_http_req_get_header(r.get(), "X-Gone"), nullptr);
    EXPECT_EQ(nng_http_req_get_header(r.get(), "Content-Length"), nullptr);
    void* d = reinterpret_cast<void*>(1);
    size_t n = 1;
    nng_http_req_get_data(r.get(), &d, &n);
    EXPECT_EQ(d, nullptr);
    EXPECT_EQ(n, 0u);
}

TEST(MessageRequest, AllocFromUrlSetsUriAndHost) {
    struct tc {
        const char* url;
        const char* uri;
        const char* host;
    };
    const tc cases[] = {
        {"http://example.com", "", "example.com"},
        {"http://example.com:80/", "/", "example.com"},
        {"http://example.com:8080/", "/", "example.com:8080"},
        {"http://example.com/a/b?x=1&y=2", "/a/b?x=1&y=2", "example.com"},
        {"https://example.com:443/s", "/s", "example.com"},
        {"https://example.com:80/s", "/s", "example.com:80"},
        {"https://example.com:8443/s?t", "/s?t", "example.com:8443"},
        {"http://[::1]:8080/v6?z", "/v6?z", "[::1]:8080"},
        // NNG puts the bare hostname in Host with the default port, so an
        // IPv6 literal loses its brackets; kept for compatibility.
        {"http://[::1]/v6", "/v6", "::1"},
        {"ws://example.com:80/ws", "/ws", "example.com"},
        {"wss://example.com:8443/w", "/w", "example.com:8443"},
    };
    for (const auto& c : cases) {
        nng_url* u = nullptr;
        ASSERT_EQ(nng_url_parse(&u, c.url), 0) << c.url;
        auto r = new_req(u);
        nng_url_free(u); // the request keeps copies
        EXPECT_STREQ(nng_http_req_get_uri(r.get()), c.uri) << c.url;
        EXPECT_EQ(req_header(r.get(), "Host"), c.host) << c.url;
        EXPECT_STREQ(nng_http_req_get_method(r.get()), "GET");
        EXPECT_STREQ(nng_http_req_get_version(r.get()), "HTTP/1.1");
    }
}

// ---- responses through the C API ----

TEST(MessageResponse, DefaultsStatusAndReason) {
    auto r = new_res();
    EXPECT_EQ(nng_http_res_get_status(r.get()), 200);
    EXPECT_STREQ(nng_http_res_get_reason(r.get()), "OK");
    EXPECT_STREQ(nng_http_res_get_version(r.get()), "HTTP/1.1");
    EXPECT_EQ(nng_http_res_set_status(r.get(), 404), 0);
    EXPECT_STREQ(nng_http_res_get_reason(r.get()), "Not Found");
    EXPECT_EQ(nng_http_res_set_status(r.get(), 999), 0);
    EXPECT_STREQ(nng_http_res_get_reason(r.get()), "Unknown HTTP Status");

    EXPECT_EQ(nng_http_res_set_reason(r.get(), "Fine Thanks"), 0);
    EXPECT_EQ(nng_http_res_set_status(r.get(), 200), 0);
    EXPECT_STREQ(nng_http_res_get_reason(r.get()), "Fine Thanks"); // kept
    EXPECT_EQ(nng_http_res_set_reason(r.get(), nullptr), 0);
    EXPECT_STREQ(nng_http_res_get_reason(r.get()), "OK");
    EXPECT_EQ(nng_http_res_set_reason(r.get(), ""), 0);
    EXPECT_STREQ(nng_http_res_get_reason(r.get()), "");
    // The standard phrase of the current status means "none" (as NNG).
    EXPECT_EQ(nng_http_res_set_status(r.get(), 404), 0);
    EXPECT_EQ(nng_http_res_set_reason(r.get(), "Not Found"), 0);
    EXPECT_EQ(nng_http_res_set_status(r.get(), 500), 0);
    EXPECT_STREQ(nng_http_res_get_reason(r.get()), "Internal Server Error");

    for (const char* v : {"HTTP/1.0", "HTTP/2.0", "FOO"}) {
        EXPECT_EQ(nng_http_res_set_version(r.get(), v), 0);
        EXPECT_STREQ(nng_http_res_get_version(r.get()), v);
    }
    EXPECT_EQ(nng_http_res_set_version(r.get(), nullptr), 0);
    EXPECT_STREQ(nng_http_res_get_version(r.get()), "HTTP/1.1");
}

TEST(MessageResponse, HeadersDataAndReset) {
    auto r = new_res();
    EXPECT_EQ(nng_http_res_set_header(r.get(), "Server", "a"), 0);
    EXPECT_EQ(nng_http_res_set_header(r.get(), "SERVER", "b"), 0);
    EXPECT_EQ(nng_http_res_add_header(r.get(), "server", "c"), 0);
    EXPECT_EQ(res_header(r.get(), "Server"), "b, c");
    EXPECT_EQ(nng_http_res_del_header(r.get(), "sErVeR"), 0);
    EXPECT_EQ(nng_http_res_del_header(r.get(), "Server"), NNG_ENOENT);

    static char body[] = "response body";
    EXPECT_EQ(nng_http_res_set_data(r.get(), body, 13), 0);
    void* d = nullptr;
    size_t n = 0;
    nng_http_res_get_data(r.get(), &d, &n);
    EXPECT_EQ(d, body);
    EXPECT_EQ(n, 13u);
    EXPECT_EQ(res_header(r.get(), "Content-Length"), "13");
    EXPECT_EQ(nng_http_res_copy_data(r.get(), "abcdef", 6), 0);
    nng_http_res_get_data(r.get(), &d, &n);
    ASSERT_EQ(n, 6u);
    EXPECT_NE(d, static_cast<void*>(body));
    EXPECT_EQ(std::memcmp(d, "abcdef", 6), 0);
    EXPECT_EQ(res_header(r.get(), "Content-Length"), "6");

    ASSERT_EQ(nng_http_res_set_status(r.get(), 503), 0);
    ASSERT_EQ(nng_http_res_set_reason(r.get(), "Busy"), 0);
    ASSERT_EQ(nng_http_res_set_version(r.get(), "HTTP/1.0"), 0);
    nng_http_res_reset(r.get());
    EXPECT_EQ(nng_http_res_get_status(r.get()), 200);
    EXPECT_STREQ(nng_http_res_get_reason(r.get()), "OK");
    EXPECT_STREQ(nng_http_res_get_version(r.get()), "HTTP/1.1");
    EXPECT_EQ(nng_http_res_get_header(r.get(), "Content-Length"), nullptr);
    nng_http_res_get_data(r.get(), &d, &n);
    EXPECT_EQ(d, nullptr);
    EXPECT_EQ(n, 0u);
}

TEST(MessageResponse, ReasonForEveryStatus100To599) {
    auto r = new_res();
    const auto& want = expected_reasons();
    for (int code = 100; code <= 599; code++) {
        ASSERT_EQ(nng_http_res_set_status(r.get(), static_cast<uint16_t>(code)), 0);
        auto it = want.find(code);
        std::string expect = it != want.end() ? it->second : "Unknown HTTP Status";
        EXPECT_EQ(str(nng_http_res_get_reason(r.get())), expect) << code;
        EXPECT_EQ(std::string(nnghttp::detail::http::reason_phrase(static_cast<uint16_t>(code))), expect)
            << code;
    }
}

// docs/compat.md: NNG 1.5.2 has no phrase for these (and its 502 entry is
// keyed 400, so 502 is "Unknown HTTP Status" there).
TEST(MessageResponse, SevenStandardPhrasesNngLacks) {
    auto r = new_res();
    const std::pair<int, const char*> extra[] = {
        {207, "Multi-Status"},       {208, "Already Reported"},  {226, "IM Used"},
        {308, "Permanent Redirect"}, {413, "Payload Too Large"}, {422, "Unprocessable Entity"},
        {502, "Bad Gateway"},
    };
    for (auto [code, phrase] : extra) {
        ASSERT_EQ(nng_http_res_set_status(r.get(), static_cast<uint16_t>(code)), 0);
        EXPECT_STREQ(nng_http_res_get_reason(r.get()), phrase) << code;
    }
    // 400 keeps its own phrase.
    ASSERT_EQ(nng_http_res_set_status(r.get(), 400), 0);
    EXPECT_STREQ(nng_http_res_get_reason(r.get()), "Bad Request");
}

TEST(MessageResponse, AllocErrorParts) {
    for (int code : {400, 404, 405, 500, 503, 505, 207, 999, 0}) {
        nng_http_res* raw = nullptr;
        ASSERT_EQ(nng_http_res_alloc_error(&raw, static_cast<uint16_t>(code)), 0);
        res_ptr r(raw);
        EXPECT_EQ(nng_http_res_get_status(r.get()), code);
        std::string reason = nnghttp::detail::http::reason_phrase(static_cast<uint16_t>(code));
        EXPECT_EQ(str(nng_http_res_get_reason(r.get())), reason);
        EXPECT_EQ(res_header(r.get(), "Content-Type"), "text/html; charset=UTF-8");
        void* d = nullptr;
        size_t n = 0;
        nng_http_res_get_data(r.get(), &d, &n);
        ASSERT_GT(n, 0u);
        std::string page(static_cast<const char*>(d), n);
        EXPECT_EQ(res_header(r.get(), "Content-Length"), std::to_string(n));
        EXPECT_NE(page.find("<!DOCTYPE html>"), std::string::npos);
        EXPECT_NE(page.find("<title>" + std::to_string(code) + " " + reason + "</title>"),
                  std::string::npos)
            << page;
        EXPECT_NE(page.find("<h2>" + reason + "</h2>"), std::string::npos) << page;
        EXPECT_NE(page.find(">" + std::to_string(code) + "<"), std::string::npos) << page;
    }
}

// ---- deliberate differences: CR/LF, ':' and NULL ----

TEST(MessageDifferences, CrLfRefusedEverywhere) {
    auto q = new_req();
    auto s = new_res();
    for (const char* bad : {"a\r\nX-Evil: 1", "a\rb", "a\nb", "\r\n", "x\n"}) {
        EXPECT_EQ(nng_http_req_set_method(q.get(), bad), NNG_EINVAL) << bad;
        EXPECT_EQ(nng_http_req_set_uri(q.get(), bad), NNG_EINVAL);
        EXPECT_EQ(nng_http_req_set_version(q.get(), bad), NNG_EINVAL);
        EXPECT_EQ(nng_http_req_set_header(q.get(), "X-A", bad), NNG_EINVAL);
        EXPECT_EQ(nng_http_req_add_header(q.get(), "X-A", bad), NNG_EINVAL);
        EXPECT_EQ(nng_http_req_set_header(q.get(), bad, "v"), NNG_EINVAL);
        EXPECT_EQ(nng_http_req_add_header(q.get(), bad, "v"), NNG_EINVAL);
        EXPECT_EQ(nng_http_res_set_reason(s.get(), bad), NNG_EINVAL);
        EXPECT_EQ(nng_http_res_set_version(s.get(), bad), NNG_EINVAL);
        EXPECT_EQ(nng_http_res_set_header(s.get(), "X-A", bad), NNG_EINVAL);
        EXPECT_EQ(nng_http_res_add_header(s.get(), "X-A", bad), NNG_EINVAL);
        EXPECT_EQ(nng_http_res_set_header(s.get(), bad, "v"), NNG_EINVAL);
        EXPECT_EQ(nng_http_res_add_header(s.get(), bad, "v"), NNG_EINVAL);
    }
    // Nothing was stored.
    EXPECT_STREQ(nng_http_req_get_method(q.get()), "GET");
    EXPECT_STREQ(nng_http_req_get_uri(q.get()), "");
    EXPECT_STREQ(nng_http_req_get_version(q.get()), "HTTP/1.1");
    EXPECT_EQ(nng_http_req_get_header(q.get(), "X-A"), nullptr);
    EXPECT_STREQ(nng_http_res_get_reason(s.get()), "OK");
    EXPECT_EQ(nng_http_res_get_header(s.get(), "X-A"), nullptr);
    EXPECT_EQ(nnghttp::detail::capi::from_c(q.get())->headers().size(), 0u);
}

TEST(MessageDifferences, ColonInHeaderNameRefused) {
    auto q = new_req();
    auto s = new_res();
    EXPECT_EQ(nng_http_req_set_header(q.get(), "X:Y", "v"), NNG_EINVAL);
    EXPECT_EQ(nng_http_req_add_header(q.get(), "Host:", "v"), NNG_EINVAL);
    EXPECT_EQ(nng_http_res_set_header(s.get(), ":", "v"), NNG_EINVAL);
    EXPECT_EQ(nng_http_res_add_header(s.get(), "a:b", "v"), NNG_EINVAL);
    // A colon in a value is fine.
    EXPECT_EQ(nng_http_req_set_header(q.get(), "Host", "h:80"), 0);
    EXPECT_EQ(req_header(q.get(), "Host"), "h:80");
    EXPECT_EQ(nnghttp::detail::capi::from_c(q.get())->headers().size(), 1u);
}

TEST(MessageDifferences, NullArguments) {
    auto q = new_req();
    auto s = new_res();
    EXPECT_EQ(nng_http_req_alloc(nullptr, nullptr), NNG_EINVAL);
    EXPECT_EQ(nng_http_res_alloc(nullptr), NNG_EINVAL);
    EXPECT_EQ(nng_http_res_alloc_error(nullptr, 404), NNG_EINVAL);
    nng_http_req_free(nullptr);
    nng_http_res_free(nullptr);
    nng_http_req_reset(nullptr);
    nng_http_res_reset(nullptr);

    EXPECT_EQ(nng_http_req_get_method(nullptr), nullptr);
    EXPECT_EQ(nng_http_req_get_uri(nullptr), nullptr);
    EXPECT_EQ(nng_http_req_get_version(nullptr), nullptr);
    EXPECT_EQ(nng_http_req_set_method(nullptr, "GET"), NNG_EINVAL);
    EXPECT_EQ(nng_http_req_set_uri(nullptr, "/"), NNG_EINVAL);
    EXPECT_EQ(nng_http_req_set_version(nullptr, "HTTP/1.1"), NNG_EINVAL);
    EXPECT_EQ(nng_http_req_set_header(nullptr, "a", "b"), NNG_EINVAL);
    EXPECT_EQ(nng_http_req_set_header(q.get(), nullptr, "b"), NNG_EINVAL);
    EXPECT_EQ(nng_http_req_set_header(q.get(), "a", nullptr), NNG_EINVAL);
    EXPECT_EQ(nng_http_req_add_header(nullptr, "a", "b"), NNG_EINVAL);
    EXPECT_EQ(nng_http_req_add_header(q.get(), nullptr, "b"), NNG_EINVAL);
    EXPECT_EQ(nng_http_req_add_header(q.get(), "a", nullptr), NNG_EINVAL);
    EXPECT_EQ(nng_http_req_del_header(nullptr, "a"), NNG_EINVAL);
    EXPECT_EQ(nng_http_req_del_header(q.get(), nullptr), NNG_EINVAL);
    EXPECT_EQ(nng_http_req_get_header(nullptr, "a"), nullptr);
    EXPECT_EQ(nng_http_req_get_header(q.get(), nullptr), nullptr);
    EXPECT_EQ(nng_http_req_set_data(nullptr, "x", 1), NNG_EINVAL);
    EXPECT_EQ(nng_http_req_set_data(q.get(), nullptr, 1), NNG_EINVAL);
    EXPECT_EQ(nng_http_req_copy_data(nullptr, "x", 1), NNG_EINVAL);
    EXPECT_EQ(nng_http_req_copy_data(q.get(), nullptr, 1), NNG_EINVAL);
    EXPECT_EQ(nng_http_req_set_data(q.get(), nullptr, 0), 0); // empty body
    EXPECT_EQ(req_header(q.get(), "Content-Length"), "0");
    void* d = reinterpret_cast<void*>(1);
    size_t n = 5;
    nng_http_req_get_data(nullptr, &d, &n);
    EXPECT_EQ(d, nullptr);
    EXPECT_EQ(n, 0u);
    nng_http_req_get_data(q.get(), nullptr, nullptr);

    EXPECT_EQ(nng_http_res_get_status(nullptr), 0);
    EXPECT_EQ(nng_http_res_set_status(nullptr, 200), NNG_EINVAL);
    EXPECT_EQ(nng_http_res_get_reason(nullptr), nullptr);
    EXPECT_EQ(nng_http_res_set_reason(nullptr, "x"), NNG_EINVAL);
    EXPECT_EQ(nng_http_res_get_version(nullptr), nullptr);
    EXPECT_EQ(nng_http_res_set_version(nullptr, "HTTP/1.1"), NNG_EINVAL);
    EXPECT_EQ(nng_http_res_set_header(nullptr, "a", "b"), NNG_EINVAL);
    EXPECT_EQ(nng_http_res_set_header(s.get(), nullptr, "b"), NNG_EINVAL);
    EXPECT_EQ(nng_http_res_set_header(s.get(), "a", nullptr), NNG_EINVAL);
    EXPECT_EQ(nng_http_res_add_header(nullptr, "a", "b"), NNG_EINVAL);
    EXPECT_EQ(nng_http_res_add_header(s.get(), nullptr, "b"), NNG_EINVAL);
    EXPECT_EQ(nng_http_res_add_header(s.get(), "a", nullptr), NNG_EINVAL);
    EXPECT_EQ(nng_http_res_del_header(nullptr, "a"), NNG_EINVAL);
    EXPECT_EQ(nng_http_res_del_header(s.get(), nullptr), NNG_EINVAL);
    EXPECT_EQ(nng_http_res_get_header(nullptr, "a"), nullptr);
    EXPECT_EQ(nng_http_res_get_header(s.get(), nullptr), nullptr);
    EXPECT_EQ(nng_http_res_set_data(nullptr, "x", 1), NNG_EINVAL);
    EXPECT_EQ(nng_http_res_set_data(s.get(), nullptr, 1), NNG_EINVAL);
    EXPECT_EQ(nng_http_res_copy_data(nullptr, "x", 1), NNG_EINVAL);
    EXPECT_EQ(nng_http_res_copy_data(s.get(), nullptr, 1), NNG_EINVAL);
    nng_http_res_get_data(nullptr, &d, &n);
    EXPECT_EQ(d, nullptr);
    EXPECT_EQ(n, 0u);
}

// NNG prints Content-Length with %u (wrong beyond 4 GiB); nng-http writes the
// exact size.  set_data borrows, so a fake size costs nothing.
TEST(MessageDifferences, ContentLengthBeyondFourGiBIsExact) {
    static char dummy[1];
    const std::size_t big = (std::size_t{5} << 32) + 7; // 21474836487
    request rq;
    rq.set_data(dummy, big);
    EXPECT_STREQ(rq.get_header("Content-Length"), "21474836487");
    EXPECT_EQ(rq.body().size(), big);
    EXPECT_FALSE(rq.body().owned());

    auto r = new_res();
    ASSERT_EQ(nng_http_res_set_data(r.get(), dummy, std::size_t{1} << 32), 0);
    EXPECT_EQ(res_header(r.get(), "Content-Length"), "4294967296");
    void* d = nullptr;
    size_t n = 0;
    nng_http_res_get_data(r.get(), &d, &n);
    EXPECT_EQ(d, dummy);
    EXPECT_EQ(n, std::size_t{1} << 32);
    ASSERT_EQ(nng_http_res_set_data(r.get(), dummy, SIZE_MAX), 0);
    EXPECT_EQ(res_header(r.get(), "Content-Length"), std::to_string(SIZE_MAX));
}

// ---- the C++ classes ----

TEST(MessageClasses, NameEqualsAndHeaderList) {
    EXPECT_TRUE(nnghttp::detail::http::name_equals("Content-Length", "content-LENGTH"));
    EXPECT_FALSE(nnghttp::detail::http::name_equals("Content-Length", "Content-Lengt"));
    EXPECT_FALSE(nnghttp::detail::http::name_equals("a", "b"));
    EXPECT_TRUE(nnghttp::detail::http::name_equals("", ""));

    header_list h;
    EXPECT_EQ(h.find("x"), nullptr);
    EXPECT_FALSE(h.remove("x"));
    h.set("X-A", "1");
    h.add("Y", "2");
    h.add("x-a", "3");
    h.set("y", "4");
    ASSERT_EQ(h.size(), 2u);
    EXPECT_EQ(h.fields()[0].name, "X-A"); // first spelling kept
    EXPECT_EQ(h.fields()[0].value, "1, 3");
    EXPECT_EQ(h.fields()[1].name, "Y");
    EXPECT_EQ(h.fields()[1].value, "4");
    EXPECT_TRUE(h.remove("X-a"));
    EXPECT_EQ(h.size(), 1u);
    h.clear();
    EXPECT_EQ(h.size(), 0u);
}

TEST(MessageClasses, BodyBorrowCopyAdoptClear) {
    nnghttp::detail::http::body b;
    EXPECT_EQ(b.data(), nullptr);
    EXPECT_EQ(b.size(), 0u);
    char buf[] = "abc";
    b.borrow(buf, 3);
    EXPECT_EQ(b.data(), buf);
    EXPECT_FALSE(b.owned());
    b.copy(buf, 3);
    EXPECT_NE(b.data(), buf);
    EXPECT_TRUE(b.owned());
    EXPECT_EQ(std::memcmp(b.data(), "abc", 3), 0);
    std::unique_ptr<char[]> p(new char[2]{'h', 'i'});
    char* raw = p.get();
    b.adopt(std::move(p), 2);
    EXPECT_EQ(b.data(), raw);
    EXPECT_TRUE(b.owned());
    b.borrow(buf, 1); // drops the owned buffer
    EXPECT_FALSE(b.owned());
    b.clear();
    EXPECT_EQ(b.data(), nullptr);
    EXPECT_EQ(b.size(), 0u);
}

TEST(MessageClasses, RequestAndResponseDefaultsAndSetters) {
    request rq;
    EXPECT_STREQ(rq.method(), "GET");
    EXPECT_STREQ(rq.uri(), "");
    EXPECT_FALSE(rq.has_uri());
    EXPECT_STREQ(rq.version(), "HTTP/1.1");
    rq.set_uri("/p");
    EXPECT_TRUE(rq.has_uri());
    rq.set_method("DELETE");
    rq.set_version("HTTP/1.0");
    rq.copy_data("xy", 2);
    EXPECT_STREQ(rq.get_header("content-length"), "2");
    rq.reset();
    EXPECT_STREQ(rq.method(), "GET");
    EXPECT_FALSE(rq.has_uri());
    EXPECT_STREQ(rq.version(), "HTTP/1.1");
    EXPECT_EQ(rq.headers().size(), 0u);
    EXPECT_EQ(rq.body().size(), 0u);

    response rs;
    EXPECT_EQ(rs.status(), 200);
    EXPECT_STREQ(rs.reason(), "OK");
    rs.set_status(431);
    EXPECT_STREQ(rs.reason(), "Headers Too Large");
    rs.set_reason("Too Much");
    EXPECT_STREQ(rs.reason(), "Too Much");
    rs.reset();
    EXPECT_EQ(rs.status(), 200);
    EXPECT_STREQ(rs.reason(), "OK");
}

TEST(MessageClasses, AppendHeadBytes) {
    request rq;
    rq.set_method("POST");
    rq.set_uri("/submit?x=1");
    rq.headers().add("Host", "example.com");
    rq.headers().add("Accept", "a");
    rq.headers().add("accept", "b");
    rq.copy_data("hello", 5);
    std::string out = "prefix|";
    nnghttp::detail::http::append_head(out, rq);
    EXPECT_EQ(out, "prefix|POST /submit?x=1 HTTP/1.1\r\n"
                   "Host: example.com\r\n"
                   "Accept: a, b\r\n"
                   "Content-Length: 5\r\n"
                   "\r\n"); // the body is not part of the head

    request plain;
    out.clear();
    nnghttp::detail::http::append_head(out, plain);
    EXPECT_EQ(out, "GET  HTTP/1.1\r\n\r\n"); // no URI set: written empty

    response rs;
    rs.set_status(404);
    rs.set_version("HTTP/1.0");
    rs.headers().set("Content-Type", "text/plain");
    out.clear();
    nnghttp::detail::http::append_head(out, rs);
    EXPECT_EQ(out, "HTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n\r\n");

    response custom;
    custom.set_status(299);
    custom.set_reason("Custom Thing");
    out.clear();
    nnghttp::detail::http::append_head(out, custom);
    EXPECT_EQ(out, "HTTP/1.1 299 Custom Thing\r\n\r\n");

    response unknown;
    unknown.set_status(599);
    out.clear();
    nnghttp::detail::http::append_head(out, unknown);
    EXPECT_EQ(out, "HTTP/1.1 599 Unknown HTTP Status\r\n\r\n");
}

TEST(MessageClasses, ErrorPageAndMakeError) {
    std::string page = nnghttp::detail::http::error_page(404, "no <such> & \"thing\"");
    EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
    EXPECT_NE(page.find("<title>404 Not Found</title>"), std::string::npos);
    EXPECT_NE(page.find("<h2>Not Found</h2>"), std::string::npos);
    EXPECT_NE(page.find(">404<"), std::string::npos);
    // details are escaped
    EXPECT_NE(page.find("no &lt;such&gt; &amp; &quot;thing&quot;"), std::string::npos) << page;
    EXPECT_EQ(page.find("<such>"), std::string::npos);
    EXPECT_NE(page.find("</html>"), std::string::npos);

    response rs;
    rs.set_reason("Old");
    nnghttp::detail::http::make_error(rs, 503, "later");
    EXPECT_EQ(rs.status(), 503);
    EXPECT_STREQ(rs.get_header("Content-Type"), "text/html; charset=UTF-8");
    EXPECT_TRUE(rs.body().owned());
    std::string body(static_cast<const char*>(rs.body().data()), rs.body().size());
    EXPECT_EQ(body, nnghttp::detail::http::error_page(503, "later"));
    EXPECT_EQ(std::string(rs.get_header("Content-Length")), std::to_string(body.size()));
}
