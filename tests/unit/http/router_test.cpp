#include "http/router.hpp"

#include <gtest/gtest.h>
#include <nng/nng.h>
#include <string>

using nnghttp::detail::http::canonical_path;
using nnghttp::detail::http::match_status;
using nnghttp::detail::http::route;
using nnghttp::detail::http::router;

namespace {

struct path_case {
    const char* target;
    const char* want; // nullptr: rejected
};

TEST(CanonicalPath, Table) {
    const path_case cases[] = {
        {"/", "/"},
        {"/a/b", "/a/b"},
        {"/a//b", "/a/b"},
        {"/a/./b", "/a/b"},
        {"/a/../b", "/b"},
        {"/../../etc/passwd", "/etc/passwd"},
        {"/a/b/", "/a/b/"},
        {"/a/b/..", "/a/"},
        {"/a/.", "/a/"},
        {"/st%61tic", "/static"},
        {"/two%20words.txt", "/two words.txt"},
        {"/hello.txt?v=1", "/hello.txt"},
        {"/a#frag", "/a"},
        {"/%2e%2e/secret.txt", "/secret.txt"},
        {"/site/%2e%2e/%2e%2e/x", "/x"},
        {"/caf%C3%A9", "/caf\xc3\xa9"},
        {"http://example.com/x/y?q=1", "/x/y"},
        {"HTTPS://example.com", "/"},
        {"http://example.com?x", "/"},
        {"/a%2fb", nullptr},
        {"/a%2Fb", nullptr},
        {"/a%5cb", nullptr},
        {"/%00", nullptr},
        {"/%0d%0a", nullptr},
        {"/%zz", nullptr},
        {"/%4", nullptr},
        {"/%", nullptr},
        {"x", nullptr},
        {"", nullptr},
        {"*", nullptr},
        {"/a\x01", nullptr},
        {"/a\x7f", nullptr},
    };
    for (const auto& c : cases) {
        std::string out;
        bool ok = canonical_path(c.target, out);
        if (c.want == nullptr) {
            EXPECT_FALSE(ok) << c.target << " gave " << out;
        } else {
            EXPECT_TRUE(ok) << c.target;
            EXPECT_EQ(out, c.want) << c.target;
        }
    }
}

TEST(CanonicalPath, NeverLeavesTheRoot) {
    // However many ".." segments, the result stays under "/".
    std::string target;
    for (int i = 0; i < 50; i++) {
        target += "/..";
        std::string out;
        ASSERT_TRUE(canonical_path(target + "/x", out));
        EXPECT_EQ(out, "/x");
    }
}

int tag; // addresses used as route targets
const void* const A = &tag;
const void* const B = reinterpret_cast<const char*>(&tag) + 1;
const void* const C = reinterpret_cast<const char*>(&tag) + 2;

route mk(const char* path, const void* target, const char* method = "GET", bool tree = false,
         bool exclusive = false, const char* host = "") {
    route r;
    r.path = path;
    r.method = method;
    r.host = host;
    r.tree = tree;
    r.exclusive = exclusive;
    r.target = target;
    return r;
}

TEST(RouterAdd, RejectsRelativePathsAndNullTargets) {
    router rt;
    EXPECT_EQ(rt.add(mk("a", A)), NNG_EINVAL);
    EXPECT_EQ(rt.add(mk("/a", nullptr)), NNG_EINVAL);
    EXPECT_EQ(rt.add(mk("", A)), 0); // the root
    EXPECT_EQ(rt.size(), 1u);
}

TEST(RouterAdd, ConflictsAsNng) {
    router rt;
    ASSERT_EQ(rt.add(mk("/a", A)), 0);
    EXPECT_EQ(rt.add(mk("/a", B)), NNG_EADDRINUSE);
    EXPECT_EQ(rt.add(mk("/a/", B)), NNG_EADDRINUSE) << "trailing slashes are ignored";
    EXPECT_EQ(rt.add(mk("/a", B, "POST")), 0) << "another method";
    EXPECT_EQ(rt.add(mk("/a", C, "")), 0) << "any-method and GET do not conflict (NNG)";
    EXPECT_EQ(rt.add(mk("/a", C, "", false, false, "example.com")), 0) << "a host only on one";
    EXPECT_EQ(rt.add(mk("/a", C, "", false, false, "EXAMPLE.com")), NNG_EADDRINUSE);
    EXPECT_EQ(rt.add(mk("/a", C, "", false, false, "other.com")), 0);
}

TEST(RouterAdd, ExclusiveTreesOwnEverythingBelow) {
    router rt;
    ASSERT_EQ(rt.add(mk("/excl", A, "GET", true, true)), 0);
    EXPECT_EQ(rt.add(mk("/excl/sub", B)), NNG_EADDRINUSE);
    EXPECT_EQ(rt.add(mk("/excl", B)), NNG_EADDRINUSE);
    EXPECT_EQ(rt.add(mk("/exclusive", B)), 0) << "a longer name is not below";
    EXPECT_EQ(rt.add(mk("/excl/sub", B, "POST")), 0) << "another method";
    // A plain tree lets more specific routes in.
    ASSERT_EQ(rt.add(mk("/api", C, "GET", true)), 0);
    EXPECT_EQ(rt.add(mk("/api/v1", B)), 0);
    // An exclusive route under an existing tree.
    router rt2;
    ASSERT_EQ(rt2.add(mk("/t", A, "GET", true)), 0);
    EXPECT_EQ(rt2.add(mk("/t/x", B, "GET", true, true)), NNG_EADDRINUSE);
}

TEST(RouterAdd, RemoveFreesThePath) {
    router rt;
    ASSERT_EQ(rt.add(mk("/a", A)), 0);
    EXPECT_TRUE(rt.remove(A));
    EXPECT_FALSE(rt.remove(A));
    EXPECT_EQ(rt.add(mk("/a", B)), 0);
}

TEST(RouterMatch, PathsExactTreeAndLongestFirst) {
    router rt;
    ASSERT_EQ(rt.add(mk("/a", A)), 0);
    ASSERT_EQ(rt.add(mk("/a/b", B, "GET", true)), 0);
    ASSERT_EQ(rt.add(mk("", C, "GET", true)), 0);

    auto m = rt.match("/a", "GET", nullptr);
    EXPECT_EQ(m.status, match_status::found);
    EXPECT_EQ(m.target, A);
    EXPECT_EQ(rt.match("/a/", "GET", nullptr).target, A) << "a trailing slash still matches";
    EXPECT_EQ(rt.match("/a/b/c/d", "GET", nullptr).target, B);
    EXPECT_EQ(rt.match("/a/x", "GET", nullptr).target, C) << "/a is not a tree: falls to /";
    EXPECT_EQ(rt.match("/ab", "GET", nullptr).target, C) << "/a does not serve /ab";
    EXPECT_EQ(rt.match("/", "GET", nullptr).target, C);

    router only;
    ASSERT_EQ(only.add(mk("/a", A)), 0);
    EXPECT_EQ(only.match("/a/x", "GET", nullptr).status, match_status::not_found);
    EXPECT_EQ(only.match("/b", "GET", nullptr).status, match_status::not_found);
}

TEST(RouterMatch, MethodsHeadAndAllow) {
    router rt;
    ASSERT_EQ(rt.add(mk("/r", A, "GET")), 0);
    ASSERT_EQ(rt.add(mk("/r", B, "POST")), 0);
    EXPECT_EQ(rt.match("/r", "GET", nullptr).target, A);
    EXPECT_EQ(rt.match("/r", "POST", nullptr).target, B);
    auto head = rt.match("/r", "HEAD", nullptr);
    EXPECT_EQ(head.status, match_status::found);
    EXPECT_EQ(head.target, A) << "HEAD is served by the GET route";

    auto bad = rt.match("/r", "PUT", nullptr);
    EXPECT_EQ(bad.status, match_status::bad_method);
    EXPECT_EQ(bad.target, nullptr);
    EXPECT_EQ(bad.allow, "GET, HEAD, POST");
    EXPECT_EQ(rt.match("/r", "get", nullptr).status, match_status::bad_method)
        << "methods are case-sensitive";

    ASSERT_EQ(rt.add(mk("/r", C, "HEAD")), 0);
    EXPECT_EQ(rt.match("/r", "HEAD", nullptr).target, C) << "a HEAD route wins over GET";

    router any;
    ASSERT_EQ(any.add(mk("/any", A, "")), 0);
    EXPECT_EQ(any.match("/any", "DELETE", nullptr).target, A);
    EXPECT_EQ(any.match("/any", "BREW", nullptr).target, A);
}

TEST(RouterMatch, Hosts) {
    router rt;
    ASSERT_EQ(rt.add(mk("/v", A, "GET", false, false, "localhost")), 0);
    ASSERT_EQ(rt.add(mk("/ip", B, "GET", false, false, "127.0.0.1")), 0);
    ASSERT_EQ(rt.add(mk("/ip6", C, "GET", false, false, "::1")), 0);

    EXPECT_EQ(rt.match("/v", "GET", "localhost").target, A);
    EXPECT_EQ(rt.match("/v", "GET", "LOCALHOST:8080").target, A);
    EXPECT_EQ(rt.match("/v", "GET", "localhost.").target, A);
    EXPECT_EQ(rt.match("/v", "GET", "localhostx").status, match_status::not_found);
    EXPECT_EQ(rt.match("/v", "GET", "example.com").status, match_status::not_found);
    EXPECT_EQ(rt.match("/v", "GET", nullptr).status, match_status::not_found)
        << "no Host header: only host-less routes";

    EXPECT_EQ(rt.match("/ip", "GET", "127.0.0.1:80").target, B);
    EXPECT_EQ(rt.match("/ip", "GET", "127.0.0.2").status, match_status::not_found);
    EXPECT_EQ(rt.match("/ip6", "GET", "[::1]:8080").target, C);
    EXPECT_EQ(rt.match("/ip6", "GET", "[0:0::1]").target, C) << "compared as addresses";
    EXPECT_EQ(rt.match("/ip6", "GET", "[::2]").status, match_status::not_found);
}

} // namespace
