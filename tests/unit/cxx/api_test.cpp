// The public C++ API (include/nnghttp/), end to end on loopback: the
// server with each handler shape, the client and connections with
// coroutines, timeouts and cancellation, streams, TLS configuration
// errors, graceful shutdown, and mixing C and C++ handles.
#include <nnghttp/nnghttp.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using nnghttp::task;

namespace {

std::string base(const nnghttp::server& s) { return "http://127.0.0.1:" + std::to_string(s.port()); }

std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

// GET path on a fresh connection, through the C++ client.
nnghttp::response get(const std::string& root, const std::string& path) {
    return nnghttp::run([](std::string u) -> task<nnghttp::response> {
        nnghttp::client cli(u);
        nnghttp::request req{nnghttp::url(u)};
        co_return co_await cli.transact(req).timeout(5s);
    }(root + path));
}

TEST(CxxError, CategoryAndConditions) {
    std::error_code ec = nnghttp::errc::timed_out;
    EXPECT_EQ(ec.value(), NNG_ETIMEDOUT);
    EXPECT_STREQ(ec.category().name(), "nng");
    EXPECT_EQ(ec.message(), nng_strerror(NNG_ETIMEDOUT));
    EXPECT_EQ(ec, std::errc::timed_out);
    EXPECT_EQ(nnghttp::to_error_code(NNG_ECONNREFUSED), std::errc::connection_refused);
    EXPECT_FALSE(nnghttp::to_error_code(0));
    try {
        nnghttp::check(NNG_EINVAL, "op");
        FAIL() << "no throw";
    } catch (const nnghttp::error& e) {
        EXPECT_EQ(e.code(), nnghttp::errc::invalid);
        EXPECT_NE(std::string(e.what()).find("op"), std::string::npos);
    }
}

TEST(CxxUrl, ParsesAsNngAndConverts) {
    nnghttp::url u("HTTP://Example.com:8080/a/../b%7e?q=1#f");
    EXPECT_EQ(u.scheme(), "http");
    EXPECT_EQ(u.hostname(), "example.com");
    EXPECT_EQ(u.port(), "8080");
    EXPECT_EQ(u.path(), "/b~");
    EXPECT_EQ(u.query(), "q=1");
    EXPECT_EQ(u.fragment(), "f");
    EXPECT_EQ(u.requri(), "/b~?q=1#f");
    EXPECT_EQ(nnghttp::url("https://h/").port(), "443");
    EXPECT_FALSE(nnghttp::url::parse("http://h/%zz"));
    EXPECT_THROW(nnghttp::url("nothing"), nnghttp::error);
    nng_url* c = u.to_c();
    EXPECT_STREQ(c->u_path, "/b~");
    nnghttp::url back(*c);
    nng_url_free(c);
    EXPECT_EQ(back.host(), u.host());
}

TEST(CxxMessage, HeadersBodiesAndValidation) {
    nnghttp::request req{nnghttp::url("http://h:81/x?y")};
    EXPECT_EQ(req.method(), "GET");
    EXPECT_EQ(req.uri(), "/x?y");
    EXPECT_EQ(req.header("host").value_or(""), "h:81");
    EXPECT_EQ(nnghttp::request(nnghttp::url("http://h/")).header("Host").value_or(""), "h");
    req.set_header("X-A", "1").add_header("x-a", "2");
    EXPECT_EQ(req.header("X-A").value_or(""), "1, 2");
    EXPECT_TRUE(req.del_header("x-a"));
    EXPECT_FALSE(req.header("X-A"));
    EXPECT_THROW(req.set_header("Bad Name", "v"), nnghttp::error);
    EXPECT_THROW(req.set_header("X", "a\r\nInjected: 1"), nnghttp::error);
    req.set_body("hello");
    EXPECT_EQ(req.body_text(), "hello");
    EXPECT_EQ(req.header("Content-Length").value_or(""), "5");

    nnghttp::response res(404);
    EXPECT_EQ(res.reason(), "Not Found");
    auto page = nnghttp::response::error_page(503, "<busy>");
    EXPECT_EQ(page.status(), 503);
    EXPECT_NE(page.body_text().find("&lt;busy&gt;"), std::string_view::npos);

    // The C handle is the same object: C calls see what C++ set.
    nnghttp::response r2(201, "made", "text/plain");
    EXPECT_EQ(nng_http_res_get_status(r2.native()), 201);
    EXPECT_STREQ(nng_http_res_get_header(r2.native(), "Content-Type"), "text/plain");
    nng_http_res* raw = r2.release();
    nnghttp::response adopted(nnghttp::adopt, raw);
    EXPECT_EQ(adopted.body_text(), "made");
}

TEST(CxxServer, HandlerShapesAndBuiltIns) {
    nnghttp::server srv("http://127.0.0.1:0");
    srv.get("/sync", [](const nnghttp::request& req, nnghttp::response& res) {
        res.set_header("Content-Type", "text/plain").set_body("sync " + std::string(req.uri()));
    });
    srv.get("/async", [](nnghttp::responder r) {
        // Answered later, from another thread.
        std::thread([r = std::move(r)]() mutable { r.send(202, "later"); }).detach();
    });
    srv.post("/coro", [](nnghttp::responder r) -> task<void> {
        co_await nnghttp::sleep(10ms);
        std::string body(r.request().body_text());
        r.send(200, "echo:" + body);
    });
    srv.get("/throws", [](const nnghttp::request&, nnghttp::response&) {
        throw std::runtime_error("handler failure");
    });
    srv.get("/forgets", [](nnghttp::responder) {});
    srv.add(nnghttp::handler::custom("/gone", [](const nnghttp::request&, nnghttp::response& res) {
                   res.set_status(204).set_body("ignored");
               }).any_method().tree());
    srv.add(nnghttp::handler::static_content("/static", "fixed", "text/x-test"));
    srv.add(nnghttp::handler::redirect("/old", "/sync", 302));
    srv.start();
    std::string root = base(srv);

    auto r1 = get(root, "/sync");
    EXPECT_EQ(r1.status(), 200);
    EXPECT_EQ(r1.body_text(), "sync /sync");
    auto r2 = get(root, "/async");
    EXPECT_EQ(r2.status(), 202);
    EXPECT_EQ(r2.body_text(), "later");
    auto r3 = nnghttp::run([](std::string u) -> task<nnghttp::response> {
        nnghttp::client cli(u);
        nnghttp::request req("POST", nnghttp::url(u));
        req.set_body("payload");
        co_return co_await cli.transact(req);
    }(root + "/coro"));
    EXPECT_EQ(r3.body_text(), "echo:payload");
    EXPECT_EQ(get(root, "/throws").status(), 500);
    EXPECT_EQ(get(root, "/forgets").status(), 500);
    auto r4 = get(root, "/static");
    EXPECT_EQ(r4.body_text(), "fixed");
    EXPECT_EQ(r4.header("Content-Type").value_or(""), "text/x-test");
    auto r5 = get(root, "/old");
    EXPECT_EQ(r5.status(), 302);
    EXPECT_EQ(r5.header("Location").value_or(""), "/sync");
    EXPECT_EQ(get(root, "/nothing").status(), 404);
    // 204: no body and no Content-Length (RFC 9110, 8.6); a tree handler
    // made and set in one expression serves the paths below it.
    auto r6 = get(root, "/gone/below");
    EXPECT_EQ(r6.status(), 204);
    EXPECT_FALSE(r6.header("Content-Length"));
    EXPECT_TRUE(r6.body().empty());

    // A second handler for the same path and method is refused.
    EXPECT_THROW(srv.get("/sync", [](const nnghttp::request&, nnghttp::response&) {}), nnghttp::error);
    EXPECT_THROW(nnghttp::handler::redirect("/r", "/", 200), nnghttp::error);
}

TEST(CxxServer, AccessLogAndLimits) {
    nnghttp::server srv("http://127.0.0.1:0");
    std::atomic<int> seen{0};
    std::atomic<int> status{0};
    srv.on_access([&](const nnghttp::access_entry& e) {
        status = e.status;
        if (e.method == "GET" && e.uri == "/x" && nnghttp::address_text(*e.peer) == "127.0.0.1") {
            seen++;
        }
    });
    nnghttp::server_limits lim;
    lim.idle_timeout = 1234ms;
    lim.max_connections = 7;
    srv.set_limits(lim);
    EXPECT_EQ(srv.limits().idle_timeout, 1234ms);
    EXPECT_EQ(srv.limits().max_connections, 7u);
    srv.add(nnghttp::handler::static_content("/x", "x"));
    srv.start();
    EXPECT_EQ(get(base(srv), "/x").status(), 200);
    for (int i = 0; i < 100 && seen == 0; i++) {
        std::this_thread::sleep_for(10ms);
    }
    EXPECT_EQ(seen, 1);
    EXPECT_EQ(status, 200);
    EXPECT_EQ(nnghttp::address_text(srv.address(), true), "127.0.0.1:" + std::to_string(srv.port()));
}

TEST(CxxClient, ConnectionReuseStreamingBodyAndRawIo) {
    std::string big(3 * 1024 * 1024 + 17, '\0');
    for (std::size_t i = 0; i < big.size(); i++) {
        big[i] = static_cast<char>('a' + i % 23);
    }
    nnghttp::server srv("http://127.0.0.1:0");
    srv.get("/big", [&big](const nnghttp::request&, nnghttp::response& res) {
        res.borrow_body(bytes(big));
    });
    srv.get("/small", [](const nnghttp::request&, nnghttp::response& res) { res.set_body("small"); });
    srv.start();
    std::string root = base(srv);

    auto got = nnghttp::run([](std::string r) -> task<std::pair<std::string, std::string>> {
        nnghttp::client cli(r);
        nnghttp::connection conn = co_await cli.connect();
        // Two exchanges on one connection.
        nnghttp::request small{nnghttp::url(r + "/small")};
        auto a = co_await conn.transact(small);
        // Then a large body streamed in 64 KiB pieces.
        nnghttp::request req{nnghttp::url(r + "/big")};
        co_await conn.write_request(req);
        nnghttp::response head;
        co_await conn.read_response(head);
        std::string body;
        std::vector<std::byte> buf(64 * 1024);
        for (;;) {
            std::size_t n = co_await conn.read_body(buf).timeout(5s);
            if (n == 0) {
                break;
            }
            body.append(reinterpret_cast<const char*>(buf.data()), n);
        }
        co_return std::pair{std::string(a.body_text()), body};
    }(root));
    EXPECT_EQ(got.first, "small");
    EXPECT_EQ(got.second.size(), big.size());
    EXPECT_TRUE(got.second == big);

    // Raw bytes on a connection: write a request by hand, read the reply.
    std::string reply = nnghttp::run([](std::string r) -> task<std::string> {
        nnghttp::client cli(r);
        auto conn = co_await cli.connect();
        std::string_view msg = "GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        std::size_t n = co_await conn.write_all(bytes(msg));
        EXPECT_EQ(n, msg.size());
        std::string out;
        std::vector<std::byte> buf(4096);
        for (;;) {
            auto rr = co_await conn.read(buf).timeout(5s).no_throw();
            if (!rr) {
                // The server closed after its answer (Connection: close).
                EXPECT_EQ(rr.ec, nnghttp::errc::connection_shutdown) << rr.ec.message();
                break;
            }
            out.append(reinterpret_cast<const char*>(buf.data()), rr.value);
        }
        co_return out;
    }(root));
    EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << reply;
    EXPECT_NE(reply.find("\r\n\r\nsmall"), std::string::npos);
}

TEST(CxxClient, ErrorsTimeoutsAndCancellation) {
    // Refused: a port nobody listens on (bind one, close it).
    std::uint16_t dead;
    {
        nnghttp::stream_listener l("tcp://127.0.0.1:0");
        l.listen();
        dead = l.port();
    }
    auto refused = nnghttp::run([](std::string u) -> task<std::error_code> {
        nnghttp::client cli(u);
        auto r = co_await cli.connect().no_throw();
        co_return r.ec;
    }("http://127.0.0.1:" + std::to_string(dead)));
    EXPECT_EQ(refused, nnghttp::errc::connection_refused);

    // A server that never answers: the timeout, then a stop request.
    nnghttp::server srv("http://127.0.0.1:0");
    srv.get("/stall", [](nnghttp::responder r) -> task<void> {
        co_await nnghttp::sleep(3s);
        r.send(200, "too late");
    });
    srv.start();
    std::string u = base(srv) + "/stall";
    auto timed = nnghttp::run([](std::string x) -> task<std::error_code> {
        nnghttp::client cli(x);
        nnghttp::request req{nnghttp::url(x)};
        auto r = co_await cli.transact(req).timeout(100ms).no_throw();
        co_return r.ec;
    }(u));
    EXPECT_EQ(timed, nnghttp::errc::timed_out);

    std::stop_source stop;
    std::thread canceller([&] {
        std::this_thread::sleep_for(100ms);
        stop.request_stop();
    });
    auto start = std::chrono::steady_clock::now();
    auto canceled = nnghttp::run([](std::string x, std::stop_token tok) -> task<std::error_code> {
        nnghttp::client cli(x);
        nnghttp::request req{nnghttp::url(x)};
        auto r = co_await cli.transact(req).cancel_on(tok).no_throw();
        co_return r.ec;
    }(u, stop.get_token()));
    canceller.join();
    EXPECT_EQ(canceled, nnghttp::errc::canceled);
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);

    // Already stopped before the op starts.
    auto early = nnghttp::run([](std::stop_token tok) -> task<std::error_code> {
        auto r = co_await nnghttp::sleep(5s).cancel_on(tok).no_throw();
        co_return r.ec;
    }(stop.get_token()));
    EXPECT_EQ(early, nnghttp::errc::canceled);

    EXPECT_THROW(nnghttp::client("ftp://h/"), nnghttp::error);
    // run() from a loop thread would stall it.
    auto inner = nnghttp::run([]() -> task<bool> {
        try {
            nnghttp::run([]() -> task<void> { co_return; }());
        } catch (const nnghttp::error& e) {
            co_return e.code() == nnghttp::errc::bad_state;
        }
        co_return false;
    }());
    EXPECT_TRUE(inner);
}

TEST(CxxStream, AcceptDialSendRecv) {
    nnghttp::stream_listener l("tcp://127.0.0.1:0");
    l.listen();
    std::string addr = "tcp://127.0.0.1:" + std::to_string(l.port());
    auto got = nnghttp::run([](nnghttp::stream_listener& lis, std::string a) -> task<std::string> {
        nnghttp::stream_dialer d(a);
        // Accept in its own task; dial here.
        std::string received;
        nnghttp::api_detail::latch done;
        nnghttp::spawn([](nnghttp::stream_listener& ls, std::string& out,
                          nnghttp::api_detail::latch& fin) -> task<void> {
            nnghttp::stream s = co_await ls.accept();
            std::vector<std::byte> buf(16);
            while (out.size() < 5) {
                std::size_t n = co_await s.recv(buf);
                out.append(reinterpret_cast<const char*>(buf.data()), n);
            }
            co_await s.send(bytes("pong!"));
            fin.set();
        }(lis, received, done));
        nnghttp::stream s = co_await d.dial();
        co_await s.send(bytes("ping!"));
        std::vector<std::byte> buf(16);
        std::string back;
        while (back.size() < 5) {
            std::size_t n = co_await s.recv(buf).timeout(5s);
            back.append(reinterpret_cast<const char*>(buf.data()), n);
        }
        done.wait(); // set before the pong was read: no real block
        co_return received + "/" + back;
    }(l, addr));
    EXPECT_EQ(got, "ping!/pong!");
}

TEST(CxxTls, ConfigErrorsAndHttpsRoundTrip) {
    nnghttp::tls_config cli(nnghttp::tls_mode::client);
    EXPECT_THROW(cli.own_cert("not a cert", "not a key"), nnghttp::error);
    EXPECT_THROW(cli.ca_file("/nonexistent/ca.pem"), nnghttp::error);
    cli.server_name("localhost").auth_mode(nnghttp::tls_auth::none);
    nnghttp::tls_config copy = cli; // shares the config
    EXPECT_EQ(copy.native(), cli.native());

    // An https server with the default (certificate-less) config cannot
    // handshake; the client sees a TLS error, not a hang.
    nnghttp::server srv("https://127.0.0.1:0");
    srv.add(nnghttp::handler::static_content("/", "secret"));
    srv.start();
    auto ec = nnghttp::run([](std::string u, nnghttp::tls_config c) -> task<std::error_code> {
        nnghttp::client cl(u);
        cl.set_tls(c);
        nnghttp::request req{nnghttp::url(u)};
        auto r = co_await cl.transact(req).timeout(5s).no_throw();
        co_return r.ec;
    }("https://127.0.0.1:" + std::to_string(srv.port()) + "/", cli));
    EXPECT_TRUE(ec == nnghttp::errc::crypto || ec == nnghttp::errc::closed ||
                ec == nnghttp::errc::connection_shutdown)
        << ec.message();
    // Used now: frozen.
    EXPECT_THROW(cli.server_name("other"), nnghttp::error);
}

TEST(CxxServer, GracefulShutdownLetsRequestsFinish) {
    nnghttp::server srv("http://127.0.0.1:0");
    std::atomic<bool> started{false};
    srv.get("/slow", [&](nnghttp::responder r) -> task<void> {
        started = true;
        co_await nnghttp::sleep(300ms);
        r.send(200, "finished");
    });
    srv.start();
    std::string root = base(srv);
    std::thread cl([&] {
        auto res = get(root, "/slow");
        EXPECT_EQ(res.status(), 200);
        EXPECT_EQ(res.body_text(), "finished");
    });
    // An idle keep-alive connection too: it is closed at once.
    auto idle = nnghttp::run([](std::string r) -> task<nnghttp::connection> {
        nnghttp::client c(r);
        auto conn = co_await c.connect();
        co_return conn;
    }(root));
    for (int i = 0; i < 200 && !started; i++) {
        std::this_thread::sleep_for(5ms);
    }
    ASSERT_TRUE(started);
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(srv.shutdown(5s));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
    cl.join();
    // New connections are refused now.
    auto after = nnghttp::run([](std::string r) -> task<std::error_code> {
        nnghttp::client c(r);
        auto x = co_await c.connect().no_throw();
        co_return x.ec;
    }(root));
    EXPECT_EQ(after, nnghttp::errc::connection_refused);
}

TEST(CxxServer, ReusePortLetsTwoServersShareAPort) {
    nnghttp::server a("http://127.0.0.1:0");
    a.set_reuse_port(true);
    a.add(nnghttp::handler::static_content("/", "a"));
    a.start();
    std::string url = "http://127.0.0.1:" + std::to_string(a.port());
    // A second process would do this; here a second listener in the same
    // process, made through the C API (nng_http_server_hold would share a).
    nnghttp::stream_listener l("tcp://127.0.0.1:" + std::to_string(a.port()));
    EXPECT_THROW(l.listen(), nnghttp::error); // no SO_REUSEPORT: refused
    nng_stream_listener* raw = nullptr;
    ASSERT_EQ(nng_stream_listener_alloc(&raw, ("tcp://127.0.0.1:" + std::to_string(a.port())).c_str()), 0);
    ASSERT_EQ(nng_stream_listener_set_bool(raw, "nnghttp:reuse-port", true), 0);
    EXPECT_EQ(nng_stream_listener_listen(raw), 0);
    nng_stream_listener_free(raw);
    EXPECT_EQ(get(url, "/").body_text(), "a");
}

TEST(CxxMixed, CHandlesAndCppObjectsTogether) {
    // A C server with a C++ handler, a C++ request sent with the C client.
    nng_url* u = nullptr;
    ASSERT_EQ(nng_url_parse(&u, "http://127.0.0.1:0"), 0);
    nng_http_server* cs = nullptr;
    ASSERT_EQ(nng_http_server_hold(&cs, u), 0);
    nng_url_free(u);
    auto h = nnghttp::handler::custom("/mix", [](const nnghttp::request& req, nnghttp::response& res) {
        res.set_body("mixed " + std::string(req.method()));
    });
    ASSERT_EQ(nng_http_server_add_handler(cs, h.release()), 0);
    ASSERT_EQ(nng_http_server_start(cs), 0);
    nnghttp::server view(nnghttp::adopt, cs); // releases the hold at the end
    std::string root = base(view);

    nnghttp::client cli(root);
    nnghttp::request req{nnghttp::url(root + "/mix")};
    nnghttp::response res;
    nnghttp::aio a;
    a.set_timeout(5s);
    nng_http_client_transact(cli.native(), req.native(), res.native(), a.native());
    a.wait();
    ASSERT_FALSE(a.result()) << a.result().message();
    EXPECT_EQ(res.body_text(), "mixed GET");

    // The callback style with a lambda.
    std::atomic<int> calls{0};
    nnghttp::aio cb([&] { calls++; });
    cb.sleep(10ms);
    cb.wait();
    EXPECT_EQ(calls, 1);
    EXPECT_FALSE(cb.result());
}

} // namespace
