#include "http/handler.hpp"

#include <cstring>
#include <gtest/gtest.h>
#include <nng/nng.h>
#include <nng/supplemental/http/http.h>

using nnghttp::detail::http::handler;

namespace {

handler* cxx(nng_http_handler* h) {
    return reinterpret_cast<handler*>(h);
}

void noop_cb(nng_aio*) {}

int freed = 0;
void count_free(void* p) {
    freed += *static_cast<int*>(p);
}

TEST(HandlerAlloc, CustomDefaultsAsNng) {
    nng_http_handler* h = nullptr;
    ASSERT_EQ(nng_http_handler_alloc(&h, "/api", noop_cb), 0);
    handler* c = cxx(h);
    EXPECT_EQ(c->what(), handler::kind::custom);
    EXPECT_EQ(c->callback(), &noop_cb);
    EXPECT_EQ(c->path(), "/api");
    EXPECT_EQ(c->method(), "GET");
    EXPECT_EQ(c->host(), "");
    EXPECT_FALSE(c->tree());
    EXPECT_TRUE(c->wants_body());
    EXPECT_EQ(c->max_body(), 1024u * 1024u);
    EXPECT_EQ(nng_http_handler_get_data(h), nullptr);
    nng_http_handler_free(h);

    ASSERT_EQ(nng_http_handler_alloc(&h, "", noop_cb), 0);
    EXPECT_EQ(cxx(h)->path(), "/") << "the root is reported as /";
    EXPECT_EQ(cxx(h)->to_route().path, "") << "and routed as the empty path";
    nng_http_handler_free(h);
}

TEST(HandlerAlloc, RefusesWhatCouldNeverServe) {
    nng_http_handler* h = nullptr;
    EXPECT_EQ(nng_http_handler_alloc(&h, "/", nullptr), NNG_EINVAL);
    EXPECT_EQ(nng_http_handler_alloc(nullptr, "/", noop_cb), NNG_EINVAL);
    EXPECT_EQ(nng_http_handler_alloc_file(&h, "/f", nullptr), NNG_EINVAL);
    EXPECT_EQ(nng_http_handler_alloc_directory(&h, "/d", nullptr), NNG_EINVAL);
    EXPECT_EQ(nng_http_handler_alloc_redirect(&h, "/r", 301, nullptr), NNG_EINVAL);
    EXPECT_EQ(nng_http_handler_alloc_redirect(&h, "/r", 200, "/x"), NNG_EINVAL);
    EXPECT_EQ(nng_http_handler_alloc_redirect(&h, "/r", 404, "/x"), NNG_EINVAL);
    EXPECT_EQ(nng_http_handler_alloc_static(&h, "/s", nullptr, 5, "text/plain"), NNG_EINVAL);
    EXPECT_EQ(h, nullptr);
}

TEST(HandlerAlloc, BuiltInKinds) {
    nng_http_handler* h = nullptr;
    ASSERT_EQ(nng_http_handler_alloc_file(&h, "/f", "/srv/one.bin"), 0);
    EXPECT_EQ(cxx(h)->what(), handler::kind::file);
    EXPECT_EQ(cxx(h)->resource(), "/srv/one.bin");
    EXPECT_EQ(cxx(h)->method(), "GET");
    nng_http_handler_free(h);

    ASSERT_EQ(nng_http_handler_alloc_directory(&h, "/site", "/srv/www"), 0);
    EXPECT_EQ(cxx(h)->what(), handler::kind::directory);
    EXPECT_EQ(cxx(h)->resource(), "/srv/www");
    EXPECT_TRUE(cxx(h)->tree());
    EXPECT_TRUE(cxx(h)->exclusive()) << "NNG gives a directory its whole subtree";
    nng_http_handler_free(h);

    const char hello[] = "Hello, world!";
    ASSERT_EQ(nng_http_handler_alloc_static(&h, "/s", hello, 13, "text/plain"), 0);
    EXPECT_EQ(cxx(h)->what(), handler::kind::static_data);
    EXPECT_EQ(cxx(h)->resource(), "Hello, world!") << "a copy of the bytes";
    EXPECT_EQ(cxx(h)->content_type(), "text/plain");
    nng_http_handler_free(h);

    ASSERT_EQ(nng_http_handler_alloc_static(&h, "/e", nullptr, 0, nullptr), 0);
    EXPECT_EQ(cxx(h)->resource(), "");
    EXPECT_EQ(cxx(h)->content_type(), "application/octet-stream");
    nng_http_handler_free(h);

    ASSERT_EQ(nng_http_handler_alloc_redirect(&h, "/old", 0, "/new"), 0);
    EXPECT_EQ(cxx(h)->what(), handler::kind::redirect);
    EXPECT_EQ(cxx(h)->redirect_status(), 301) << "0 means 301";
    EXPECT_EQ(cxx(h)->resource(), "/new");
    EXPECT_EQ(cxx(h)->method(), "") << "every method is redirected";
    EXPECT_FALSE(cxx(h)->wants_body());
    nng_http_handler_free(h);

    ASSERT_EQ(nng_http_handler_alloc_redirect(&h, "/old", 308, "/new"), 0);
    EXPECT_EQ(cxx(h)->redirect_status(), 308);
    nng_http_handler_free(h);
}

TEST(HandlerSettings, MethodHostTreeBody) {
    nng_http_handler* h = nullptr;
    ASSERT_EQ(nng_http_handler_alloc(&h, "/x", noop_cb), 0);
    EXPECT_EQ(nng_http_handler_set_method(h, "POST"), 0);
    EXPECT_EQ(cxx(h)->method(), "POST");
    EXPECT_EQ(nng_http_handler_set_method(h, nullptr), 0);
    EXPECT_EQ(cxx(h)->method(), "") << "NULL: any method";

    EXPECT_EQ(nng_http_handler_set_host(h, "Example.COM"), 0);
    EXPECT_EQ(cxx(h)->host(), "Example.COM");
    for (const char* any : {"*", "", "0.0.0.0", "::"}) {
        EXPECT_EQ(nng_http_handler_set_host(h, "example.com"), 0);
        EXPECT_EQ(nng_http_handler_set_host(h, any), 0);
        EXPECT_EQ(cxx(h)->host(), "") << any << " means every host";
    }
    EXPECT_EQ(nng_http_handler_set_host(h, nullptr), 0);
    EXPECT_EQ(cxx(h)->host(), "");

    EXPECT_EQ(nng_http_handler_set_tree(h), 0);
    EXPECT_TRUE(cxx(h)->tree());
    EXPECT_FALSE(cxx(h)->exclusive());
    EXPECT_EQ(nng_http_handler_set_tree_exclusive(h), 0);
    EXPECT_TRUE(cxx(h)->exclusive());

    EXPECT_EQ(nng_http_handler_collect_body(h, false, 0), 0);
    EXPECT_FALSE(cxx(h)->wants_body());
    EXPECT_EQ(nng_http_handler_collect_body(h, true, 4096), 0);
    EXPECT_TRUE(cxx(h)->wants_body());
    EXPECT_EQ(cxx(h)->max_body(), 4096u);

    auto r = cxx(h)->to_route();
    EXPECT_EQ(r.path, "/x");
    EXPECT_TRUE(r.tree);
    EXPECT_TRUE(r.exclusive);
    EXPECT_EQ(r.target, cxx(h));
    nng_http_handler_free(h);

    EXPECT_EQ(nng_http_handler_set_method(nullptr, "GET"), NNG_EINVAL);
    EXPECT_EQ(nng_http_handler_get_data(nullptr), nullptr);
}

TEST(HandlerSettings, FrozenOnceAServerHoldsIt) {
    nng_http_handler* h = nullptr;
    ASSERT_EQ(nng_http_handler_alloc(&h, "/x", noop_cb), 0);
    cxx(h)->freeze();
    int v = 1;
    EXPECT_EQ(nng_http_handler_set_method(h, "PUT"), NNG_EBUSY);
    EXPECT_EQ(nng_http_handler_set_host(h, "a.b"), NNG_EBUSY);
    EXPECT_EQ(nng_http_handler_set_tree(h), NNG_EBUSY);
    EXPECT_EQ(nng_http_handler_set_tree_exclusive(h), NNG_EBUSY);
    EXPECT_EQ(nng_http_handler_set_data(h, &v, nullptr), NNG_EBUSY);
    EXPECT_EQ(cxx(h)->method(), "GET");
    EXPECT_EQ(nng_http_handler_collect_body(h, false, 0), 0) << "NNG allows this one";
    nng_http_handler_free(h);
}

TEST(HandlerSettings, DataDestructorRunsOnceOnFree) {
    nng_http_handler* h = nullptr;
    ASSERT_EQ(nng_http_handler_alloc(&h, "/x", noop_cb), 0);
    int weight = 7;
    freed = 0;
    ASSERT_EQ(nng_http_handler_set_data(h, &weight, count_free), 0);
    EXPECT_EQ(nng_http_handler_get_data(h), &weight);
    EXPECT_EQ(freed, 0);
    nng_http_handler_free(h);
    EXPECT_EQ(freed, 7);
}

} // namespace
