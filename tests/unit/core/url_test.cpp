// Tests for nnghttp::detail::parse_url and the nng_url_* shims.  Expected values
// are NNG 1.5.2's results for the same text (tests/compat/url.c checks the
// two side by side).
#include "core/url.hpp"

#include <cstdlib>
#include <cstring>
#include <gtest/gtest.h>
#include <nng/nng.h>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace nnghttp::detail {

// Lets GoogleTest print a url readably when a comparison fails.
void PrintTo(const url& u, std::ostream* os) {
    auto field = [os](const char* name, const std::optional<std::string>& v) {
        *os << ' ' << name << '=' << (v ? '"' + *v + '"' : std::string("null"));
    };
    *os << "{rawurl=\"" << u.rawurl << "\" scheme=\"" << u.scheme << '"';
    field("userinfo", u.userinfo);
    field("host", u.host);
    field("hostname", u.hostname);
    field("port", u.port);
    *os << " path=\"" << u.path << '"';
    field("query", u.query);
    field("fragment", u.fragment);
    field("requri", u.requri);
    *os << '}';
}

} // namespace nnghttp::detail

namespace {

using nnghttp::detail::parse_url;
using nnghttp::detail::url;

std::optional<std::string> opt(const char* s) {
    return s == nullptr ? std::nullopt : std::optional<std::string>(s);
}

// What a hierarchical URL should parse to; nullptr stands for NULL.
struct fields {
    const char* scheme;
    const char* userinfo;
    const char* host;
    const char* hostname;
    const char* port;
    const char* path;
    const char* query;
    const char* fragment;
    const char* requri;
};

url make(std::string_view raw, const fields& f) {
    return url{std::string(raw), f.scheme, opt(f.userinfo), opt(f.host),     opt(f.hostname),
               opt(f.port),      f.path,   opt(f.query),    opt(f.fragment), opt(f.requri)};
}

void expect_parse(std::string_view raw, const fields& f) {
    SCOPED_TRACE(std::string(raw));
    url u;
    ASSERT_EQ(parse_url(raw, u), 0);
    EXPECT_EQ(u, make(raw, f));
}

void expect_reject(std::string_view raw) {
    SCOPED_TRACE(std::string(raw));
    url u;
    u.rawurl = "sentinel";
    EXPECT_EQ(parse_url(raw, u), NNG_EINVAL);
    EXPECT_EQ(u.rawurl, "sentinel"); // out untouched on error
}

// Only the path-related fields of an "http://h" URL.
void expect_requri(std::string_view raw, const char* path, const char* query, const char* fragment,
                   const char* requri) {
    SCOPED_TRACE(std::string(raw));
    url u;
    ASSERT_EQ(parse_url(raw, u), 0);
    EXPECT_EQ(u.path, path);
    EXPECT_EQ(u.query, opt(query));
    EXPECT_EQ(u.fragment, opt(fragment));
    EXPECT_EQ(u.requri, opt(requri));
}

// ---- the C++ parser ----

TEST(Url, HostOnly) {
    expect_parse("http://www.google.com", {"http", nullptr, "www.google.com", "www.google.com",
                                           "80", "", nullptr, nullptr, ""});
}

TEST(Url, HostPortPath) {
    expect_parse("http://www.google.com:1234/somewhere",
                 {"http", nullptr, "www.google.com:1234", "www.google.com", "1234", "/somewhere",
                  nullptr, nullptr, "/somewhere"});
}

TEST(Url, QueryAndFragment) {
    expect_parse("http://h/p?result=yes#chapter1",
                 {"http", nullptr, "h", "h", "80", "/p", "result=yes", "chapter1",
                  "/p?result=yes#chapter1"});
    expect_requri("http://h#chapter3", "", nullptr, "chapter3", "#chapter3");
    expect_requri("http://h?color=red", "", "color=red", nullptr, "?color=red");
    expect_requri("http://h/?", "/", "", nullptr, "/?");
    expect_requri("http://h/#", "/", nullptr, "", "/#");
}

TEST(Url, QueryEndsAtFirstHashAndFragmentTakesTheRest) {
    expect_requri("http://h?a?b#c#d", "", "a?b", "c#d", "?a?b#c#d");
    expect_requri("http://h/?a#b?c", "/", "a", "b?c", "/?a#b?c");
}

TEST(Url, SchemeAndHostAreLowerCasedButNotThePath) {
    expect_parse("HTTP://WWW.Example.COM/Path?Q=U#F",
                 {"http", nullptr, "www.example.com", "www.example.com", "80", "/Path", "Q=U", "F",
                  "/Path?Q=U#F"});
}

TEST(Url, SchemeNeedsColonSlashSlash) {
    expect_reject("www.google.com");
    expect_reject("http:www.google.com");
    expect_reject("http:/x");
    expect_reject("http//x");
    expect_reject("");
    expect_reject(":");
    expect_reject("mailto:user@example.com");
}

TEST(Url, SchemeIsAnythingBeforeTheFirstColon) {
    expect_parse("://", {"", nullptr, "", "", "", "", nullptr, nullptr, ""});
    expect_parse("a/b://x/y", {"a/b", nullptr, "x", "x", "", "/y", nullptr, nullptr, "/y"});
    expect_parse("1http://x", {"1http", nullptr, "x", "x", "", "", nullptr, nullptr, ""});
}

TEST(Url, PathSchemesKeepTheRestVerbatim) {
    for (std::string scheme : {"ipc", "unix", "abstract", "inproc"}) {
        std::string raw = scheme + "://a/./b/../%zz?q#f@[:";
        url u;
        ASSERT_EQ(parse_url(raw, u), 0) << raw;
        url want;
        want.rawurl = raw;
        want.scheme = scheme;
        want.path = "a/./b/../%zz?q#f@[:";
        EXPECT_EQ(u, want);
    }
    url u;
    ASSERT_EQ(parse_url("IPC://", u), 0);
    EXPECT_EQ(u.scheme, "ipc");
    EXPECT_EQ(u.path, "");
    EXPECT_FALSE(u.host.has_value());
    EXPECT_FALSE(u.requri.has_value());
}

TEST(Url, OtherSchemesAlwaysHaveHostPortAndRequri) {
    expect_parse("tcp://host", {"tcp", nullptr, "host", "host", "", "", nullptr, nullptr, ""});
    expect_parse("zmtp://h:1", {"zmtp", nullptr, "h:1", "h", "1", "", nullptr, nullptr, ""});
}

TEST(Url, DefaultPorts) {
    using nnghttp::detail::default_port;
    EXPECT_EQ(default_port("http"), "80");
    EXPECT_EQ(default_port("https"), "443");
    EXPECT_EQ(default_port("ws"), "80");
    EXPECT_EQ(default_port("wss"), "443");
    EXPECT_EQ(default_port("git"), "9418");
    EXPECT_EQ(default_port("gopher"), "70");
    EXPECT_EQ(default_port("ssh"), "22");
    EXPECT_EQ(default_port("telnet"), "23");
    EXPECT_EQ(default_port("http4"), "80");
    EXPECT_EQ(default_port("wss6"), "443");
    EXPECT_EQ(default_port("https4"), "443");
    EXPECT_EQ(default_port("http44"), "");
    EXPECT_EQ(default_port("http5"), "");
    EXPECT_EQ(default_port("httpx"), "");
    EXPECT_EQ(default_port("gitx"), "");
    EXPECT_EQ(default_port("tcp"), "");
    EXPECT_EQ(default_port("tls+tcp"), "");
    EXPECT_EQ(default_port("4"), "");
    EXPECT_EQ(default_port(""), "");
    EXPECT_EQ(default_port("HTTP"), ""); // callers lower-case first
}

TEST(Url, DefaultPortIsFilledInButNotAddedToHost) {
    expect_parse("ws6://host/", {"ws6", nullptr, "host", "host", "80", "/", nullptr, nullptr, "/"});
    expect_parse(
        "ssh://user@host.example.com",
        {"ssh", "user", "host.example.com", "host.example.com", "22", "", nullptr, nullptr, ""});
}

TEST(Url, PathSchemeList) {
    EXPECT_TRUE(nnghttp::detail::is_path_scheme("ipc"));
    EXPECT_TRUE(nnghttp::detail::is_path_scheme("unix"));
    EXPECT_TRUE(nnghttp::detail::is_path_scheme("abstract"));
    EXPECT_TRUE(nnghttp::detail::is_path_scheme("inproc"));
    EXPECT_FALSE(nnghttp::detail::is_path_scheme("ipc+abstract"));
    EXPECT_FALSE(nnghttp::detail::is_path_scheme("tcp"));
}

TEST(Url, WildcardHostIsDropped) {
    expect_parse("ws://*:12345/foobar",
                 {"ws", nullptr, ":12345", "", "12345", "/foobar", nullptr, nullptr, "/foobar"});
    expect_parse("tcp://*", {"tcp", nullptr, "", "", "", "", nullptr, nullptr, ""});
    expect_parse("tcp://*x", {"tcp", nullptr, "*x", "*x", "", "", nullptr, nullptr, ""});
    expect_parse("http://u@*:80/", {"http", "u", ":80", "", "80", "/", nullptr, nullptr, "/"});
    expect_reject("tcp://*:");
}

TEST(Url, EmptyHost) {
    expect_parse("ws://", {"ws", nullptr, "", "", "80", "", nullptr, nullptr, ""});
    expect_parse("tcp://:9876/", {"tcp", nullptr, ":9876", "", "9876", "/", nullptr, nullptr, "/"});
}

TEST(Url, Ipv6Literals) {
    expect_parse("http://[::1]", {"http", nullptr, "[::1]", "::1", "80", "", nullptr, nullptr, ""});
    expect_parse("http://[::1]:29/bottles", {"http", nullptr, "[::1]:29", "::1", "29", "/bottles",
                                             nullptr, nullptr, "/bottles"});
    expect_parse("tcp6://[::1]:80",
                 {"tcp6", nullptr, "[::1]:80", "::1", "80", "", nullptr, nullptr, ""});
    expect_parse("http://[]:80/", {"http", nullptr, "[]:80", "", "80", "/", nullptr, nullptr, "/"});
    expect_parse("http://user@[::1]:8/x",
                 {"http", "user", "[::1]:8", "::1", "8", "/x", nullptr, nullptr, "/x"});
}

TEST(Url, Ipv6ZoneIsNeitherDecodedNorChecked) {
    expect_parse("http://[FE80::1%25eth0]:8080/",
                 {"http", nullptr, "[fe80::1%25eth0]:8080", "fe80::1%25eth0", "8080", "/", nullptr,
                  nullptr, "/"});
    expect_parse("http://[fe80::1%eth0]/", {"http", nullptr, "[fe80::1%eth0]", "fe80::1%eth0", "80",
                                            "/", nullptr, nullptr, "/"});
}

TEST(Url, Ipv6Errors) {
    expect_reject("http://[::1");
    expect_reject("http://[::1]bogus");
    expect_reject("http://[::1]:");
    expect_reject("http://[[::1]]/");
}

TEST(Url, UnbracketedIpv6SplitsAtTheFirstColon) {
    expect_parse("http://::1/", {"http", nullptr, "::1", "", ":1", "/", nullptr, nullptr, "/"});
}

TEST(Url, PortIsAnyNonEmptyText) {
    expect_reject("http://host:");
    expect_reject("http://host:/");
    expect_parse("http://host:abc/",
                 {"http", nullptr, "host:abc", "host", "abc", "/", nullptr, nullptr, "/"});
    expect_parse("http://host:80:90",
                 {"http", nullptr, "host:80:90", "host", "80:90", "", nullptr, nullptr, ""});
    expect_parse("http://[::1]:80:90",
                 {"http", nullptr, "[::1]:80:90", "::1", "80:90", "", nullptr, nullptr, ""});
    url u;
    ASSERT_EQ(parse_url("http://host:99999", u), 0);
    EXPECT_EQ(u.port, "99999");
    ASSERT_EQ(parse_url("http://host:-1", u), 0);
    EXPECT_EQ(u.port, "-1");
}

TEST(Url, Userinfo) {
    expect_parse("http://user:pass@host/",
                 {"http", "user:pass", "host", "host", "80", "/", nullptr, nullptr, "/"});
    expect_parse("http://@host/", {"http", "", "host", "host", "80", "/", nullptr, nullptr, "/"});
    expect_parse("http://u%20x@host/",
                 {"http", "u%20x", "host", "host", "80", "/", nullptr, nullptr, "/"});
    expect_reject("http://a@b@c/");
}

TEST(Url, AtSignAfterTheAuthorityIsNotUserinfo) {
    expect_parse("http://a?b@c/", {"http", nullptr, "a", "a", "80", "", "b@c/", nullptr, "?b@c/"});
    expect_parse("http://a/b@c/",
                 {"http", nullptr, "a", "a", "80", "/b@c/", nullptr, nullptr, "/b@c/"});
    expect_parse("http://a#b@c", {"http", nullptr, "a", "a", "80", "", nullptr, "b@c", "#b@c"});
}

// NNG 1.5.2 resumes its host scan one byte after an '@'.
TEST(Url, ByteAfterTheAtSignAlwaysJoinsTheHost) {
    expect_parse("http://a@@b/", {"http", "a", "@b", "@b", "80", "/", nullptr, nullptr, "/"});
    expect_parse("http://user@/path",
                 {"http", "user", "/path", "/path", "80", "", nullptr, nullptr, ""});
    expect_parse("http://user@/a/b",
                 {"http", "user", "/a", "/a", "80", "/b", nullptr, nullptr, "/b"});
    expect_parse("http://user@?q", {"http", "user", "?q", "?q", "80", "", nullptr, nullptr, ""});
    expect_parse("http://user@", {"http", "user", "", "", "80", "", nullptr, nullptr, ""});
    expect_parse("http://u@*", {"http", "u", "", "", "80", "", nullptr, nullptr, ""});
}

TEST(Url, HostIsNotDecodedOrValidated) {
    expect_parse("http://ho%41st/",
                 {"http", nullptr, "ho%41st", "ho%41st", "80", "/", nullptr, nullptr, "/"});
    expect_parse("http://ho%zzst/",
                 {"http", nullptr, "ho%zzst", "ho%zzst", "80", "/", nullptr, nullptr, "/"});
    expect_parse("http://h\xc3\xa9st\xff/", {"http", nullptr, "h\xc3\xa9st\xff", "h\xc3\xa9st\xff",
                                             "80", "/", nullptr, nullptr, "/"});
    expect_parse("http://host name/with space", {"http", nullptr, "host name", "host name", "80",
                                                 "/with space", nullptr, nullptr, "/with space"});
}

TEST(Url, SafeEscapesAreDecoded) {
    expect_requri("http://h/%41%42%43", "/ABC", nullptr, nullptr, "/ABC");
    expect_requri("http://h/%7e%5F%2d%2E", "/~_-.", nullptr, nullptr, "/~_-.");
    expect_requri("http://h/%7egarrett", "/~garrett", nullptr, nullptr, "/~garrett");
    expect_requri("http://h/?q=%41%20%2e", "/", "q=A%20.", nullptr, "/?q=A%20.");
}

TEST(Url, OtherEscapesAreKeptInUpperCase) {
    expect_requri("http://h/a%2fb%3f", "/a%2Fb%3F", nullptr, nullptr, "/a%2Fb%3F");
    expect_requri("http://h/#%61%2f", "/", nullptr, "a%2F", "/#a%2F");
}

TEST(Url, EscapedNulIsKept) {
    expect_requri("http://h/%00", "/%00", nullptr, nullptr, "/%00");
    expect_requri("http://h/a%00b?c%00#%00", "/a%00b", "c%00", "%00", "/a%00b?c%00#%00");
}

TEST(Url, MalformedEscapesAreRejectedAnywhereAfterTheHost) {
    expect_reject("http://h/%");
    expect_reject("http://h/%4");
    expect_reject("http://h/%zz");
    expect_reject("http://h/%%20");
    expect_reject("http://h/?q=%zz");
    expect_reject("http://h/#%g1");
    expect_reject("http://h?%");
}

TEST(Url, RunsOfSlashesCollapseInThePathOnly) {
    expect_requri("http://h///", "/", nullptr, nullptr, "/");
    expect_requri("http://h/a//b?c//d#e//f", "/a/b", "c//d", "e//f", "/a/b?c//d#e//f");
}

TEST(Url, DotSegments) {
    expect_requri("http://h//abc/def/./x/..///./../y", "/abc/y", nullptr, nullptr, "/abc/y");
    expect_requri("http://h/a/./b/../c/", "/a/c/", nullptr, nullptr, "/a/c/");
    expect_requri("http://h/a/b/c/../../d", "/a/d", nullptr, nullptr, "/a/d");
    expect_requri("http://h/a/..b/.c/...", "/a/..b/.c/...", nullptr, nullptr, "/a/..b/.c/...");
    expect_requri("http://h/a/.#f", "/a", nullptr, "f", "/a#f");
}

TEST(Url, DotSegmentsAboveTheRootAndAtTheEndLeaveNoSlash) {
    expect_requri("http://h/a/..", "", nullptr, nullptr, "");
    expect_requri("http://h/..", "", nullptr, nullptr, "");
    expect_requri("http://h/.", "", nullptr, nullptr, "");
    expect_requri("http://h/../../..", "", nullptr, nullptr, "");
    expect_requri("http://h/../a", "/a", nullptr, nullptr, "/a");
    expect_requri("http://h/a/..?q#f", "", "q", "f", "?q#f");
}

TEST(Url, DotSegmentsAreNotResolvedInQueryOrFragment) {
    expect_requri("http://h/?/abc/def/./x/.././../y", "/", "/abc/def/./x/.././../y", nullptr,
                  "/?/abc/def/./x/.././../y");
    expect_requri("http://h/a#b/../c", "/a", nullptr, "b/../c", "/a#b/../c");
}

TEST(Url, EscapedDotsAreDotSegments) {
    expect_requri("http://h/%2e%2e/a/%2E/b", "/a/b", nullptr, nullptr, "/a/b");
}

TEST(Url, Utf8Accepted) {
    expect_requri("http://h/%c2%a2_cents", "/\xc2\xa2_cents", nullptr, nullptr, "/\xc2\xa2_cents");
    expect_requri("http://h/%e2%82%ac", "/\xe2\x82\xac", nullptr, nullptr, "/\xe2\x82\xac");
    expect_requri("http://h/%f0%9f%98%80", "/\xf0\x9f\x98\x80", nullptr, nullptr,
                  "/\xf0\x9f\x98\x80");
    expect_requri("http://h/caf\xc3\xa9", "/caf\xc3\xa9", nullptr, nullptr, "/caf\xc3\xa9");
}

TEST(Url, Utf8Rejected) {
    expect_reject("http://h/x%80x");           // stray continuation byte
    expect_reject("http://h/x%c0%81");         // overlong
    expect_reject("http://h/%c1%bf");          // overlong
    expect_reject("http://h/%f8%88%80%80%80"); // five-byte form
    expect_reject("http://h/%c2");             // truncated
    expect_reject("http://h/%e2%82");          // truncated
    expect_reject("http://h/\xff");            // raw bytes are checked too
    expect_reject("http://h/?\xff");           // and so is the query
    expect_reject("http://h/#\xc0\x80");       // and the fragment
}

// NNG 1.5.2 computes a sequence's value from the bytes one place after the
// continuation bytes it checks; these results follow from that.
TEST(Url, Utf8CheckQuirks) {
    expect_reject("http://h/%e0%a0%80");    // U+0800 is valid UTF-8
    expect_reject("http://h/%e0%a0%80%bf"); // still rejected
    expect_reject("http://h/%ed%9f%bf");    // U+D7FF is valid UTF-8
    expect_reject("http://h/%f4%8f%bf%bf"); // U+10FFFF is valid UTF-8
    expect_requri("http://h/%ed%9f%80", "/\xed\x9f\x80", nullptr, nullptr, "/\xed\x9f\x80");
    expect_requri("http://h/%ed%a0%80", "/\xed\xa0\x80", nullptr, nullptr, "/\xed\xa0\x80");
    expect_requri("http://h/%f0%8f%bf%bf", "/\xf0\x8f\xbf\xbf", nullptr, nullptr,
                  "/\xf0\x8f\xbf\xbf");
    expect_requri("http://h/%f4%90%80%80", "/\xf4\x90\x80\x80", nullptr, nullptr,
                  "/\xf4\x90\x80\x80");
}

TEST(Url, ControlCharactersAndBackslashesPassThrough) {
    expect_parse("http://\x01/\x7f",
                 {"http", nullptr, "\x01", "\x01", "80", "/\x7f", nullptr, nullptr, "/\x7f"});
    expect_parse("http://host\\path",
                 {"http", nullptr, "host\\path", "host\\path", "80", "", nullptr, nullptr, ""});
}

TEST(Url, TextEndsAtTheFirstNul) {
    using namespace std::string_view_literals;
    url u;
    ASSERT_EQ(parse_url("http://h/a\0/../b"sv, u), 0);
    EXPECT_EQ(u,
              make("http://h/a", {"http", nullptr, "h", "h", "80", "/a", nullptr, nullptr, "/a"}));
    expect_reject("http\0://h"sv);
}

TEST(Url, Equality) {
    url a;
    url b;
    ASSERT_EQ(parse_url("http://h/x?y", a), 0);
    ASSERT_EQ(parse_url("http://h/x?y", b), 0);
    EXPECT_EQ(a, b);
    b.query.reset();
    EXPECT_NE(a, b);
}

TEST(PercentDecode, DecodesEveryEscape) {
    using nnghttp::detail::percent_decode;
    EXPECT_EQ(percent_decode("abc"), "abc");
    EXPECT_EQ(percent_decode(""), "");
    EXPECT_EQ(percent_decode("%3987"), "987");
    EXPECT_EQ(percent_decode("78%39"), "789");
    EXPECT_EQ(percent_decode("a%2fb%2F"), "a/b/");
    EXPECT_EQ(percent_decode("x%00y"), std::string("x\0y", 3));
}

TEST(PercentDecode, RejectsMalformedEscapes) {
    using nnghttp::detail::percent_decode;
    EXPECT_EQ(percent_decode("78%"), std::nullopt);
    EXPECT_EQ(percent_decode("78%4"), std::nullopt);
    EXPECT_EQ(percent_decode("78%xy"), std::nullopt);
    EXPECT_EQ(percent_decode("78%1$"), std::nullopt);
    EXPECT_EQ(percent_decode("%%20"), std::nullopt);
}

// ---- the C shims ----

void expect_field(const char* got, const char* want, const char* name) {
    if (want == nullptr) {
        EXPECT_EQ(got, nullptr) << name;
    } else {
        ASSERT_NE(got, nullptr) << name;
        EXPECT_STREQ(got, want) << name;
    }
}

void expect_c_url(const nng_url* u, const char* raw, const fields& f) {
    expect_field(u->u_rawurl, raw, "rawurl");
    expect_field(u->u_scheme, f.scheme, "scheme");
    expect_field(u->u_userinfo, f.userinfo, "userinfo");
    expect_field(u->u_host, f.host, "host");
    expect_field(u->u_hostname, f.hostname, "hostname");
    expect_field(u->u_port, f.port, "port");
    expect_field(u->u_path, f.path, "path");
    expect_field(u->u_query, f.query, "query");
    expect_field(u->u_fragment, f.fragment, "fragment");
    expect_field(u->u_requri, f.requri, "requri");
}

void field_array(const nng_url* u, const char* (&out)[10]) {
    const char* f[] = {u->u_rawurl, u->u_scheme, u->u_userinfo, u->u_host,     u->u_hostname,
                       u->u_port,   u->u_path,   u->u_query,    u->u_fragment, u->u_requri};
    std::memcpy(out, f, sizeof(f));
}

// Each non-NULL field is its own block: fields never share memory.
void expect_distinct_blocks(const nng_url* a, const nng_url* b) {
    const char* fa[10];
    const char* fb[10];
    field_array(a, fa);
    field_array(b, fb);
    for (int i = 0; i < 10; ++i) {
        for (int j = 0; j < 10; ++j) {
            if (fa[i] != nullptr && (a != b || i != j)) {
                EXPECT_NE(fa[i], fb[j]) << i << ' ' << j;
            }
        }
    }
}

TEST(UrlCApi, ParseFillsEveryField) {
    const char* raw = "http://garrett@www.google.com:1234/some/../where?q=1#f";
    nng_url* u = nullptr;
    ASSERT_EQ(nng_url_parse(&u, raw), 0);
    ASSERT_NE(u, nullptr);
    expect_c_url(u, raw,
                 {"http", "garrett", "www.google.com:1234", "www.google.com", "1234", "/where",
                  "q=1", "f", "/where?q=1#f"});
    expect_distinct_blocks(u, u);
    nng_url_free(u);
}

TEST(UrlCApi, PathSchemeFieldsAreNull) {
    nng_url* u = nullptr;
    ASSERT_EQ(nng_url_parse(&u, "ipc:///tmp/sock"), 0);
    expect_c_url(
        u, "ipc:///tmp/sock",
        {"ipc", nullptr, nullptr, nullptr, nullptr, "/tmp/sock", nullptr, nullptr, nullptr});
    nng_url_free(u);
}

TEST(UrlCApi, FailureLeavesThePointerAlone) {
    nng_url dummy{};
    nng_url* u = &dummy;
    EXPECT_EQ(nng_url_parse(&u, "http://[::1"), NNG_EINVAL);
    EXPECT_EQ(u, &dummy);
    EXPECT_EQ(nng_url_parse(&u, "no scheme"), NNG_EINVAL);
    EXPECT_EQ(u, &dummy);
}

TEST(UrlCApi, NullArgumentsAreInvalid) {
    nng_url* u = nullptr;
    EXPECT_EQ(nng_url_parse(nullptr, "http://h"), NNG_EINVAL);
    EXPECT_EQ(nng_url_parse(&u, nullptr), NNG_EINVAL);
    EXPECT_EQ(nng_url_clone(nullptr, nullptr), NNG_EINVAL);
    EXPECT_EQ(nng_url_clone(&u, nullptr), NNG_EINVAL);
    EXPECT_EQ(u, nullptr);
}

TEST(UrlCApi, FreeNullIsHarmless) {
    nng_url_free(nullptr);
}

TEST(UrlCApi, CloneCopiesEveryFieldIntoNewMemory) {
    for (const char* raw : {"https://u@[::1]:8443/a?b#c", "inproc://name", "tcp://*:5555"}) {
        SCOPED_TRACE(raw);
        nng_url* u = nullptr;
        nng_url* c = nullptr;
        ASSERT_EQ(nng_url_parse(&u, raw), 0);
        ASSERT_EQ(nng_url_clone(&c, u), 0);
        ASSERT_NE(c, u);
        const char* fu[10];
        const char* fc[10];
        field_array(u, fu);
        field_array(c, fc);
        for (int i = 0; i < 10; ++i) {
            expect_field(fc[i], fu[i], "field");
        }
        expect_distinct_blocks(u, c);
        nng_url_free(u); // the clone must outlive its source
        EXPECT_STREQ(c->u_rawurl, raw);
        nng_url_free(c);
    }
}

TEST(UrlCApi, CloneOfAHandBuiltUrlKeepsItsNulls) {
    nng_url blank{};
    nng_url* c = nullptr;
    ASSERT_EQ(nng_url_clone(&c, &blank), 0);
    expect_c_url(c, nullptr,
                 {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr});
    nng_url_free(c);

    char raw[] = "x://y";
    char path[] = "/p";
    blank.u_rawurl = raw;
    blank.u_path = path;
    ASSERT_EQ(nng_url_clone(&c, &blank), 0);
    expect_c_url(c, "x://y",
                 {nullptr, nullptr, nullptr, nullptr, nullptr, "/p", nullptr, nullptr, nullptr});
    EXPECT_NE(c->u_path, path);
    nng_url_free(c);
}

TEST(UrlCApi, FieldsAreMallocBlocksTheCallerMayReplace) {
    nng_url* u = nullptr;
    ASSERT_EQ(nng_url_parse(&u, "http://h/p"), 0);
    std::free(u->u_path);
    u->u_path = static_cast<char*>(std::malloc(3));
    std::memcpy(u->u_path, "/q", 3);
    nng_url_free(u); // must free the replacement without complaint
}

} // namespace
