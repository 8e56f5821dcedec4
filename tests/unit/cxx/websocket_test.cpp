// The C++ WebSocket API end to end on loopback: server routes and
// websocket::connect, messages with their types, ordering of outstanding
// sends, the closing handshake and its codes, limits, subprotocols,
// handshake refusals, timeouts, and what the destructor does.
#include <nnghttp/nnghttp.hpp>

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using nnghttp::task;
using nnghttp::websocket;

namespace {

std::string ws_url(const nnghttp::server& s, const std::string& path) {
    return "ws://127.0.0.1:" + std::to_string(s.port()) + path;
}

task<void> echo(websocket ws) {
    for (;;) {
        auto m = co_await ws.receive().no_throw();
        if (!m) {
            co_return;
        }
        if (!co_await ws.send(m.value.data, m.value.text).no_throw()) {
            co_return;
        }
    }
}

// What a server-side route saw when its connection ended.
struct seen {
    std::error_code ec;
    std::uint16_t code = 0;
    std::string reason;
    std::vector<nnghttp::ws_message> got;
};

// A route that records messages until its receive fails.
auto recorder(std::promise<seen>& out) {
    return [&out](websocket ws) -> task<void> {
        seen s;
        for (;;) {
            auto m = co_await ws.receive().no_throw();
            if (!m) {
                s.ec = m.ec;
                break;
            }
            s.got.push_back(std::move(m.value));
        }
        s.code = ws.close_code();
        s.reason = ws.close_reason();
        out.set_value(std::move(s));
    };
}

// Sends request on a new TCP connection and returns what comes back until
// the server closes or goes quiet for 200 ms after answering (2 s at most).
std::string raw_exchange(std::uint16_t port, const std::string& request) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string got;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
        ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == ssize_t(request.size())) {
        timeval tv{0, 200 * 1000};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        char buf[4096];
        for (int i = 0; i < 10; i++) {
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n == 0 || (n < 0 && !got.empty())) {
                break; // closed, or quiet after the answer
            }
            if (n > 0) {
                got.append(buf, std::size_t(n));
            }
        }
    }
    ::close(fd);
    return got;
}

} // namespace

TEST(CxxWebSocket, EchoKeepsTypesBoundariesAndSizes) {
    nnghttp::server srv("http://127.0.0.1:0");
    srv.ws("/echo", echo);
    srv.start();
    auto url = ws_url(srv, "/echo");
    nnghttp::run([](std::string u) -> task<void> {
        nnghttp::ws_options o;
        auto ws = co_await websocket::connect(u, o).timeout(5s);
        EXPECT_EQ(ws.uri(), "/echo");
        std::vector<std::pair<std::string, bool>> cases = {
            {"", true},
            {"héllo wörld", true},
            {std::string("\0\1\2", 3), false},
            {std::string(125, 'a'), false},
            {std::string(126, 'b'), true},
            {std::string(65535, 'c'), false},
            {std::string(65536, 'd'), false},
            {std::string(3u << 20, 'e'), false},
        };
        for (auto& [data, text] : cases) {
            co_await ws.send(data, text).timeout(5s);
            auto m = co_await ws.receive().timeout(5s);
            EXPECT_EQ(m.text, text);
            EXPECT_EQ(m.data.size(), data.size());
            EXPECT_TRUE(m.data == data);
        }
        co_await ws.ping("are you there").timeout(5s);
        co_await ws.close(1000, "done").timeout(5s);
        EXPECT_EQ(ws.close_code(), 1000);
        EXPECT_EQ(ws.close_reason(), "done");
    }(url));
}

TEST(CxxWebSocket, OutstandingSendsGoInOrder) {
    std::promise<seen> p;
    auto f = p.get_future();
    nnghttp::server srv("http://127.0.0.1:0");
    srv.ws("/rec", recorder(p));
    srv.start();
    auto url = ws_url(srv, "/rec");
    nnghttp::run([](std::string u) -> task<void> {
        auto ws = co_await websocket::connect(u).timeout(5s);
        // Forty sends started together from separate coroutines, large and
        // small mixed, so that frames of one would interleave with another's
        // if ordering were lost.
        std::vector<std::string> data;
        for (int i = 0; i < 40; i++) {
            data.push_back(std::to_string(i) + std::string(i % 3 == 0 ? 200000 : 10, 'x'));
        }
        std::atomic<int> left{40};
        for (int i = 0; i < 40; i++) {
            nnghttp::spawn([](websocket& w, const std::string& d, std::atomic<int>& n) -> task<void> {
                co_await w.send(d).timeout(10s);
                n--;
            }(ws, data[i], left));
        }
        for (int i = 0; i < 500 && left.load() > 0; i++) {
            co_await nnghttp::sleep(10ms);
        }
        EXPECT_EQ(left.load(), 0);
        co_await ws.close(4001, "bye").timeout(5s);
    }(url));
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
    seen s = f.get();
    ASSERT_EQ(s.got.size(), 40u);
    // Sends started in one order may be queued in another (the coroutines
    // race to start), but each message arrives whole and exactly once.
    std::vector<bool> found(40);
    for (auto& m : s.got) {
        int i = std::stoi(m.data);
        ASSERT_GE(i, 0);
        ASSERT_LT(i, 40);
        EXPECT_FALSE(found[i]);
        found[i] = true;
        EXPECT_EQ(m.data.size(), std::to_string(i).size() + (i % 3 == 0 ? 200000 : 10));
    }
    EXPECT_EQ(s.ec, nnghttp::errc::closed);
    EXPECT_EQ(s.code, 4001);
    EXPECT_EQ(s.reason, "bye");
}

TEST(CxxWebSocket, SequentialSendsKeepTheirOrder) {
    std::promise<seen> p;
    auto f = p.get_future();
    nnghttp::server srv("http://127.0.0.1:0");
    srv.ws("/rec", recorder(p));
    srv.start();
    auto url = ws_url(srv, "/rec");
    nnghttp::run([](std::string u) -> task<void> {
        auto ws = co_await websocket::connect(u).timeout(5s);
        for (int i = 0; i < 200; i++) {
            co_await ws.send(std::to_string(i), true).timeout(5s);
        }
        co_await ws.close().timeout(5s);
    }(url));
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
    seen s = f.get();
    ASSERT_EQ(s.got.size(), 200u);
    for (int i = 0; i < 200; i++) {
        EXPECT_EQ(s.got[i].data, std::to_string(i));
        EXPECT_TRUE(s.got[i].text);
    }
    EXPECT_EQ(s.code, 1000);
}

TEST(CxxWebSocket, OversizedMessageFailsWith1009BeforeItArrives) {
    std::promise<seen> p;
    auto f = p.get_future();
    nnghttp::server srv("http://127.0.0.1:0");
    nnghttp::ws_options small;
    small.max_message = 1000;
    srv.ws("/small", recorder(p), small);
    srv.start();
    auto url = ws_url(srv, "/small");
    nnghttp::run([](std::string u) -> task<void> {
        auto ws = co_await websocket::connect(u).timeout(5s);
        co_await ws.send(std::string(1000, 'a')).timeout(5s); // at the limit: fine
        std::string big(1001, 'b');
        (void)co_await ws.send(big).timeout(5s).no_throw();
        auto m = co_await ws.receive().timeout(5s).no_throw();
        EXPECT_EQ(m.ec, nnghttp::errc::closed);
        EXPECT_EQ(ws.close_code(), 1009);
    }(url));
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
    seen s = f.get();
    ASSERT_EQ(s.got.size(), 1u);
    EXPECT_EQ(s.ec, nnghttp::errc::message_size);
}

TEST(CxxWebSocket, InvalidUtf8TextFailsWith1007) {
    std::promise<seen> p;
    auto f = p.get_future();
    nnghttp::server srv("http://127.0.0.1:0");
    srv.ws("/t", recorder(p));
    srv.start();
    auto url = ws_url(srv, "/t");
    nnghttp::run([](std::string u) -> task<void> {
        auto ws = co_await websocket::connect(u).timeout(5s);
        // The library does not check what it sends: the peer does.
        (void)co_await ws.send("ok \xc3\x28 not", true).timeout(5s).no_throw();
        auto m = co_await ws.receive().timeout(5s).no_throw();
        EXPECT_FALSE(m);
        EXPECT_EQ(ws.close_code(), 1007);
    }(url));
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
    EXPECT_EQ(f.get().ec, nnghttp::errc::protocol);
}

TEST(CxxWebSocket, ReceiveTimeoutLeavesTheConnectionUsable) {
    std::promise<void> go;
    auto gof = go.get_future().share();
    nnghttp::server srv("http://127.0.0.1:0");
    srv.ws("/late", [gof](websocket ws) -> task<void> {
        // Sends one message only after the test says so.
        while (gof.wait_for(0s) != std::future_status::ready) {
            co_await nnghttp::sleep(5ms);
        }
        co_await ws.send("late", true);
        (void)co_await ws.receive().no_throw();
    });
    srv.start();
    auto url = ws_url(srv, "/late");
    nnghttp::run([](std::string u, std::promise<void>& g) -> task<void> {
        auto ws = co_await websocket::connect(u).timeout(5s);
        auto r = co_await ws.receive().timeout(50ms).no_throw();
        EXPECT_EQ(r.ec, nnghttp::errc::timed_out);
        g.set_value();
        auto m = co_await ws.receive().timeout(5s);
        EXPECT_EQ(m.data, "late");
        co_await ws.close().timeout(5s);
    }(url, go));
}

TEST(CxxWebSocket, SubprotocolsAndHeaders) {
    nnghttp::server srv("http://127.0.0.1:0");
    nnghttp::ws_options so;
    so.protocols = {"chat", "superchat"};
    so.headers = {{"X-Server", "yes"}};
    std::promise<std::string> token;
    auto tf = token.get_future();
    srv.ws("/p", [&token](websocket ws) {
        token.set_value(ws.header("X-Token") + "|" + ws.protocol());
    }, so);
    nnghttp::ws_options strict = so;
    strict.require_protocol = true;
    srv.ws("/strict", echo, strict);
    srv.start();
    auto base = ws_url(srv, "");
    nnghttp::run([](std::string b) -> task<void> {
        nnghttp::ws_options co;
        co.protocols = {"superchat", "chat"};
        co.headers = {{"X-Token", "t0k"}};
        auto ws = co_await websocket::connect(b + "/p", co).timeout(5s);
        EXPECT_EQ(ws.protocol(), "chat"); // the server's preference wins
        EXPECT_EQ(ws.header("X-Server"), "yes");
        nnghttp::ws_options none;
        auto plain = co_await websocket::connect(b + "/p", none).timeout(5s);
        EXPECT_EQ(plain.protocol(), "");
        auto refused = co_await websocket::connect(b + "/strict", none).timeout(5s).no_throw();
        EXPECT_EQ(refused.ec, nnghttp::errc::protocol); // 400
    }(base));
    ASSERT_EQ(tf.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(tf.get(), "t0k|chat");
}

TEST(CxxWebSocket, HandshakeRefusalsMapToErrors) {
    nnghttp::server srv("http://127.0.0.1:0");
    srv.ws("/ws", echo);
    srv.get("/forbidden", [](const nnghttp::request&, nnghttp::response& r) { r.set_status(403); });
    srv.get("/plain", [](const nnghttp::request&, nnghttp::response& r) { r.set_status(200); });
    srv.start();
    auto base = ws_url(srv, "");
    nnghttp::run([](std::string b) -> task<void> {
        auto a = co_await websocket::connect(b + "/nothing").timeout(5s).no_throw();
        EXPECT_EQ(a.ec, nnghttp::errc::connection_refused); // 404
        auto f = co_await websocket::connect(b + "/forbidden").timeout(5s).no_throw();
        EXPECT_EQ(f.ec, nnghttp::errc::permission); // 403
        auto p = co_await websocket::connect(b + "/plain").timeout(5s).no_throw();
        EXPECT_EQ(p.ec, nnghttp::errc::protocol); // 200 is no upgrade
        auto ok = co_await websocket::connect(b + "/ws").timeout(5s).no_throw();
        EXPECT_TRUE(ok);
    }(base));
    // A plain GET of a WebSocket route: 426 naming the protocol.
    auto res = nnghttp::run([](std::string u) -> task<nnghttp::response> {
        nnghttp::client cli(u);
        nnghttp::request req{nnghttp::url(u + "/ws")};
        co_return co_await cli.transact(req).timeout(5s);
    }("http://127.0.0.1:" + std::to_string(srv.port())));
    EXPECT_EQ(res.status(), 426);
    EXPECT_EQ(res.header("Upgrade"), "websocket");
}

TEST(CxxWebSocket, DestructorSaysGoingAwayAndAbortIs1006) {
    std::promise<seen> p1, p2;
    auto f1 = p1.get_future();
    auto f2 = p2.get_future();
    nnghttp::server srv("http://127.0.0.1:0");
    srv.ws("/one", recorder(p1));
    srv.ws("/two", recorder(p2));
    srv.start();
    auto base = ws_url(srv, "");
    nnghttp::run([](std::string b) -> task<void> {
        {
            auto ws = co_await websocket::connect(b + "/one").timeout(5s);
            co_await ws.send("x").timeout(5s);
        } // destroyed open
        auto ws2 = co_await websocket::connect(b + "/two").timeout(5s);
        co_await ws2.send("y").timeout(5s);
        ws2.abort();
    }(base));
    ASSERT_EQ(f1.wait_for(10s), std::future_status::ready);
    seen s1 = f1.get();
    EXPECT_EQ(s1.code, 1001);
    EXPECT_EQ(s1.ec, nnghttp::errc::closed);
    ASSERT_EQ(f2.wait_for(10s), std::future_status::ready);
    seen s2 = f2.get();
    EXPECT_EQ(s2.code, 1006);
    ASSERT_EQ(s2.got.size(), 1u);
}

TEST(CxxWebSocket, ReceiveIntoOneBufferReusesIt) {
    nnghttp::server srv("http://127.0.0.1:0");
    // The server side receives with no_throw(), the client side with
    // exceptions: both must deliver into the caller's message.
    srv.ws("/buf", [](websocket ws) -> task<void> {
        nnghttp::ws_message m;
        while (co_await ws.receive(m).no_throw()) {
            if (!co_await ws.send(m.data, m.text).no_throw()) {
                co_return;
            }
        }
    });
    srv.start();
    auto url = ws_url(srv, "/buf");
    nnghttp::run([](std::string u) -> task<void> {
        auto ws = co_await websocket::connect(u).timeout(5s);
        nnghttp::ws_message m;
        const char* room = nullptr;
        for (int i = 0; i < 6; i++) {
            std::string data(i % 2 == 0 ? 3000 : 10, char('a' + i));
            co_await ws.send(data, i % 3 == 0).timeout(5s);
            co_await ws.receive(m).timeout(5s);
            EXPECT_EQ(m.data, data);
            EXPECT_EQ(m.text, i % 3 == 0);
            if (i == 2) {
                room = m.data.data();
            }
            if (i == 4) {
                // Two buffers take turns: the one that held message 2 holds
                // message 4.
                EXPECT_EQ(m.data.data(), room);
            }
        }
        co_await ws.close().timeout(5s);
    }(url));
}

TEST(CxxWebSocket, KeepaliveFailsAPeerThatNeverAnswersWith1011) {
    std::promise<seen> p;
    auto f = p.get_future();
    nnghttp::server srv("http://127.0.0.1:0");
    nnghttp::ws_options o;
    o.ping_interval = 100ms;
    o.pong_timeout = 100ms;
    srv.ws("/ka", recorder(p), o);
    srv.start();
    auto url = ws_url(srv, "/ka");
    // No receive waits on this side, so the server's ping is never read
    // and never answered.
    websocket ws = nnghttp::run([](std::string u) -> task<websocket> {
        co_return co_await websocket::connect(u).timeout(5s);
    }(url));
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
    EXPECT_GE(std::chrono::steady_clock::now() - t0, 150ms); // an interval, then the pong timeout
    seen s = f.get();
    EXPECT_EQ(s.ec, nnghttp::errc::timed_out);
    nnghttp::run([](websocket& w) -> task<void> {
        // What the server sent: its ping, then a close with 1011.
        auto m = co_await w.receive().timeout(5s).no_throw();
        EXPECT_EQ(m.ec, nnghttp::errc::closed);
        EXPECT_EQ(w.close_code(), 1011);
    }(ws));
}

TEST(CxxWebSocket, KeepaliveKeepsAnAnsweringPeerAndPongsReachTheHandler) {
    std::atomic<int> pongs{0};
    nnghttp::server srv("http://127.0.0.1:0");
    nnghttp::ws_options o;
    o.ping_interval = 40ms;
    srv.ws("/ka", [&pongs](websocket ws) -> task<void> {
        ws.on_pong([&pongs](std::string_view payload) {
            EXPECT_TRUE(payload.empty()); // the keepalive's pings carry nothing
            pongs++;
        });
        co_await echo(std::move(ws));
    }, o);
    srv.start();
    auto url = ws_url(srv, "/ka");
    nnghttp::run([](std::string u, std::atomic<int>& n) -> task<void> {
        auto ws = co_await websocket::connect(u).timeout(5s);
        // A receive waits (so pings are answered) and nothing else comes.
        auto r = co_await ws.receive().timeout(500ms).no_throw();
        EXPECT_EQ(r.ec, nnghttp::errc::timed_out);
        EXPECT_GE(n.load(), 2); // pinged and answered, more than once
        co_await ws.send_text("still here").timeout(5s);
        auto m = co_await ws.receive().timeout(5s);
        EXPECT_EQ(m.data, "still here");
        // The application's own ping: its pong comes to on_pong.
        std::promise<std::string> pong;
        auto pf = pong.get_future();
        ws.on_pong([&pong](std::string_view p) { pong.set_value(std::string(p)); });
        co_await ws.ping("are you there").timeout(5s);
        (void)co_await ws.receive().timeout(300ms).no_throw(); // reads the pong
        EXPECT_EQ(pf.wait_for(2s), std::future_status::ready);
        EXPECT_EQ(pf.get(), "are you there");
        co_await ws.close().timeout(5s);
    }(url, pongs));
}

TEST(CxxWebSocket, EnqueueWaitsForRoomWhenThePeerDoesNotRead) {
    struct outcome {
        int queued = 0;          // messages the server got into its queue
        std::size_t most = 0;    // the most buffered_amount() said
        std::error_code last;    // how the first refused enqueue ended
    };
    std::promise<outcome> p;
    auto f = p.get_future();
    std::promise<void> read_now;
    auto rf = read_now.get_future().share();
    nnghttp::server srv("http://127.0.0.1:0");
    nnghttp::ws_options o;
    o.max_send_queue = 256 * 1024;
    srv.ws("/push", [&p, rf](websocket ws) -> task<void> {
        outcome out;
        // 64 KiB messages, numbered, until one cannot get in within 300 ms
        // (at most 1,000: 64 MiB, were the bound ignored).
        for (int i = 0; i < 1000; i++) {
            std::string m(64 * 1024, char('a' + i % 26));
            std::memcpy(m.data(), &i, sizeof i);
            auto r = co_await ws.enqueue(std::move(m)).timeout(300ms).no_throw();
            out.most = std::max(out.most, ws.buffered_amount());
            if (!r) {
                out.last = r.ec;
                break;
            }
            out.queued++;
        }
        int n = out.queued;
        p.set_value(out);
        while (rf.wait_for(0s) != std::future_status::ready) {
            co_await nnghttp::sleep(5ms);
        }
        co_await ws.enqueue("end", true);
        (void)co_await ws.receive().no_throw();
        (void)n;
    }, o);
    srv.start();
    auto url = ws_url(srv, "/push");
    websocket ws = nnghttp::run([](std::string u) -> task<websocket> {
        co_return co_await websocket::connect(u).timeout(5s); // and no receive for now
    }(url));
    ASSERT_EQ(f.wait_for(30s), std::future_status::ready);
    outcome out = f.get();
    EXPECT_EQ(out.last, nnghttp::errc::timed_out);
    EXPECT_LT(out.queued, 1000);
    EXPECT_GT(out.queued, 4);
    EXPECT_LE(out.most, 256u * 1024 + 64 * 1024);
    read_now.set_value();
    // Everything that got in arrives, in order, then the last text.
    nnghttp::run([](websocket& w, int n) -> task<void> {
        for (int i = 0; i < n; i++) {
            auto m = co_await w.receive().timeout(10s);
            int k = -1;
            std::memcpy(&k, m.data.data(), sizeof k);
            EXPECT_EQ(k, i);
            EXPECT_EQ(m.data.size(), 64u * 1024);
        }
        auto last = co_await w.receive().timeout(10s);
        EXPECT_EQ(last.data, "end");
        co_await w.close().timeout(5s);
    }(ws, out.queued));
}

TEST(CxxWebSocket, UpgradeHookRefusesAcceptsAndChooses) {
    std::atomic<int> calls{0};
    std::string seen_peer;
    nnghttp::server srv("http://127.0.0.1:0");
    nnghttp::ws_options o;
    o.protocols = {"alpha", "beta"};
    o.on_upgrade = [&](nnghttp::ws_upgrade& u) {
        calls++;
        seen_peer = nnghttp::address_text(u.peer);
        if (u.origin() == "http://evil.example") {
            u.refuse(403, "origin not allowed");
            return;
        }
        if (u.req.header("X-Boom")) {
            throw std::runtime_error("boom");
        }
        if (u.req.header("X-Want-Beta")) {
            u.protocol = "beta"; // offered, though not the route's first choice
        }
        if (u.req.header("X-Want-Delta")) {
            u.protocol = "delta"; // not offered: a server error
        }
        u.headers.emplace_back("X-Session", "42");
        u.headers.emplace_back("Sec-WebSocket-Accept", "forged"); // ignored
    };
    srv.ws("/hook", echo, o);
    srv.start();
    auto url = ws_url(srv, "/hook");
    nnghttp::run([](std::string u) -> task<void> {
        nnghttp::ws_options c;
        c.protocols = {"alpha", "beta", "gamma"};
        // Accepted: the route's choice, the hook's field.
        auto ws = co_await websocket::connect(u, c).timeout(5s);
        EXPECT_EQ(ws.protocol(), "alpha");
        EXPECT_EQ(ws.header("X-Session"), "42");
        co_await ws.send_text("hi").timeout(5s);
        EXPECT_EQ((co_await ws.receive().timeout(5s)).data, "hi");
        co_await ws.close().timeout(5s);
        // The hook's choice of subprotocol.
        auto c2 = c;
        c2.headers = {{"X-Want-Beta", "1"}};
        auto ws2 = co_await websocket::connect(u, c2).timeout(5s);
        EXPECT_EQ(ws2.protocol(), "beta");
        co_await ws2.close().timeout(5s);
        // Refused by origin: 403 is errc::permission.
        auto c3 = c;
        c3.headers = {{"Origin", "http://evil.example"}};
        auto r3 = co_await websocket::connect(u, c3).timeout(5s).no_throw();
        EXPECT_EQ(r3.ec, nnghttp::errc::permission);
        // A hook that throws, or picks what was not offered: 500, a
        // protocol error for the client.
        auto c4 = c;
        c4.headers = {{"X-Boom", "1"}};
        auto r4 = co_await websocket::connect(u, c4).timeout(5s).no_throw();
        EXPECT_EQ(r4.ec, nnghttp::errc::protocol);
        auto c5 = c;
        c5.headers = {{"X-Want-Delta", "1"}};
        auto r5 = co_await websocket::connect(u, c5).timeout(5s).no_throw();
        EXPECT_EQ(r5.ec, nnghttp::errc::protocol);
    }(url));
    EXPECT_EQ(calls.load(), 5);
    EXPECT_EQ(seen_peer, "127.0.0.1");
    // The refusal as a plain HTTP client sees it: the status and the body.
    std::string answer = raw_exchange(srv.port(),
                                      "GET /hook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                      "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                      "Sec-WebSocket-Version: 13\r\n"
                                      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                      "Origin: http://evil.example\r\n\r\n");
    EXPECT_EQ(answer.rfind("HTTP/1.1 403 ", 0), 0u) << answer;
    EXPECT_NE(answer.find("\r\n\r\norigin not allowed"), std::string::npos) << answer;
}

TEST(CxxWebSocket, CompressionEchoesAndBoundsInflatedSize) {
    std::promise<seen> p;
    auto f = p.get_future();
    nnghttp::server srv("http://127.0.0.1:0");
    nnghttp::ws_options o;
    o.compression.enabled = true;
    o.max_message = 1u << 20;
    srv.ws("/echo", [](websocket ws) -> task<void> {
        EXPECT_TRUE(ws.compressed());
        co_await echo(std::move(ws));
    }, o);
    srv.ws("/small", recorder(p), o);
    srv.ws("/plain", echo); // compression not enabled here
    srv.start();
    auto base = ws_url(srv, "");
    nnghttp::run([](std::string b) -> task<void> {
        nnghttp::ws_options c;
        c.compression.enabled = true;
        auto ws = co_await websocket::connect(b + "/echo", c).timeout(5s);
        EXPECT_TRUE(ws.compressed());
        EXPECT_NE(ws.header("Sec-WebSocket-Extensions").find("permessage-deflate"), std::string::npos);
        std::string json;
        for (int i = 0; i < 2000; i++) {
            json += "{\"id\":" + std::to_string(i) + ",\"name\":\"item\",\"tags\":[\"a\",\"b\"]},";
        }
        std::vector<std::pair<std::string, bool>> cases = {
            {"", true}, {"short", true}, {json, true}, {std::string(300000, 'z'), false},
            {std::string("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5") + json, true}};
        for (int round = 0; round < 3; round++) { // context carried across messages
            for (auto& [data, text] : cases) {
                co_await ws.send(data, text).timeout(5s);
                auto m = co_await ws.receive().timeout(5s);
                EXPECT_EQ(m.text, text);
                EXPECT_EQ(m.data, data);
            }
        }
        co_await ws.close().timeout(5s);
        // A route without compression: the offer is declined, echo works.
        auto plain = co_await websocket::connect(b + "/plain", c).timeout(5s);
        EXPECT_FALSE(plain.compressed());
        co_await plain.send_text("x").timeout(5s);
        EXPECT_EQ((co_await plain.receive().timeout(5s)).data, "x");
        co_await plain.close().timeout(5s);
        // 16 MiB of zeros compress to a few KiB and would inflate past the
        // server's 1 MiB: refused with 1009 after bounded work.
        auto bomb = co_await websocket::connect(b + "/small", c).timeout(5s);
        std::string zeros(16u << 20, '\0');
        (void)co_await bomb.send(zeros).timeout(10s).no_throw();
        auto r = co_await bomb.receive().timeout(10s).no_throw();
        EXPECT_EQ(r.ec, nnghttp::errc::closed);
        EXPECT_EQ(bomb.close_code(), 1009);
    }(base));
    ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
    seen s = f.get();
    EXPECT_EQ(s.ec, nnghttp::errc::message_size);
    EXPECT_TRUE(s.got.empty());
}

TEST(CxxWebSocket, ServerShutdownAndStopCloseRoutesWith1001) {
    for (bool graceful : {true, false}) {
        nnghttp::server srv("http://127.0.0.1:0");
        srv.ws("/echo", echo);
        srv.start();
        auto url = ws_url(srv, "/echo");
        websocket ws = nnghttp::run([](std::string u) -> task<websocket> {
            auto w = co_await websocket::connect(u).timeout(5s);
            co_await w.send_text("hi").timeout(5s);
            EXPECT_EQ((co_await w.receive().timeout(5s)).data, "hi");
            co_return w;
        }(url));
        if (graceful) {
            (void)srv.shutdown(500ms);
        } else {
            srv.stop();
        }
        nnghttp::run([](websocket& w) -> task<void> {
            auto r = co_await w.receive().timeout(5s).no_throw();
            EXPECT_EQ(r.ec, nnghttp::errc::closed);
            EXPECT_EQ(w.close_code(), 1001);
            EXPECT_EQ(w.close_reason(), "server shutting down");
        }(ws));
    }
}
