// ws:// listeners and dialers through the C API: URLs, listening and
// accepting, sharing a port with HTTP handlers (nng_http_server_hold),
// closing, and how a refused handshake maps to an error.
#include "ws_c_api.hpp"

#include <arpa/inet.h>
#include <memory>
#include <vector>

namespace {

using namespace nnghttp::detail::test;

TEST(WsEndpoints, Urls) {
    nng_stream_dialer* d = nullptr;
    nng_stream_listener* l = nullptr;
    for (const char* u : {"ws://127.0.0.1:80/", "wss://localhost/x", "ws4://127.0.0.1:1",
                          "ws6://[::1]:1/p", "wss4://127.0.0.1:1/", "wss6://[::1]:1/", "WS://h:1/"}) {
        EXPECT_EQ(nng_stream_dialer_alloc(&d, u), 0) << u;
        nng_stream_dialer_free(d);
        d = nullptr;
    }
    // A dialer needs a host; its name is resolved when it dials.
    EXPECT_EQ(nng_stream_dialer_alloc(&d, "ws://:80/"), NNG_EADDRINVAL);
    EXPECT_EQ(nng_stream_dialer_alloc(&d, "ws:///x"), NNG_EADDRINVAL);
    EXPECT_EQ(nng_stream_dialer_alloc(&d, "http://127.0.0.1:80/"), NNG_ENOTSUP);
    struct {
        const char* url;
        int dial;
    } late[] = {{"ws://no-such-host.invalid:80/", NNG_EADDRINVAL},
                {"ws://127.0.0.1:abc/", NNG_EADDRINVAL},
                {"ws://127.0.0.1:99999/", NNG_EADDRINVAL},
                {"ws://127.0.0.1:0/", NNG_ECONNREFUSED}};
    for (const auto& c : late) {
        ASSERT_EQ(nng_stream_dialer_alloc(&d, c.url), 0) << c.url;
        aio_box a;
        nng_stream_dialer_dial(d, a);
        EXPECT_EQ(a.wait(), c.dial) << c.url;
        nng_stream_dialer_free(d);
    }
    // A listener's address is resolved at once.
    EXPECT_EQ(nng_stream_listener_alloc(&l, "ws://no-such-host.invalid:0/"), NNG_EADDRINVAL);
    EXPECT_EQ(nng_stream_listener_alloc(&l, "ws://127.0.0.1:99999/"), NNG_EADDRINVAL);
    EXPECT_EQ(nng_stream_listener_alloc(&l, "http://127.0.0.1:0/"), NNG_ENOTSUP);
    ASSERT_EQ(nng_stream_listener_alloc(&l, "wss4://127.0.0.1:0/x"), 0);
    nng_stream_listener_free(l);
}

TEST(WsEndpoints, ListenAcceptStates) {
    nng_stream_listener* l = nullptr;
    ASSERT_EQ(nng_stream_listener_alloc(&l, "ws://127.0.0.1:0/st"), 0);
    aio_box a;
    nng_stream_listener_accept(l, a);
    EXPECT_EQ(a.wait(), NNG_ESTATE) << "accept before listen";
    ASSERT_EQ(nng_stream_listener_listen(l), 0);
    EXPECT_EQ(nng_stream_listener_listen(l), NNG_ESTATE) << "listen twice";
    // Two accepts wait; close completes both (NNG 1.5.2 leaves them).
    aio_box a1, a2;
    nng_stream_listener_accept(l, a1);
    nng_stream_listener_accept(l, a2);
    nng_stream_listener_close(l);
    EXPECT_EQ(a1.wait(), NNG_ECLOSED);
    EXPECT_EQ(a2.wait(), NNG_ECLOSED);
    nng_stream_listener_accept(l, a);
    EXPECT_EQ(a.wait(), NNG_ECLOSED);
    EXPECT_EQ(nng_stream_listener_listen(l), NNG_ECLOSED);
    nng_stream_listener_free(l);
}

TEST(WsEndpoints, AcceptCanceledAndTimedOut) {
    ws_endpoints e("/c");
    e.listen();
    aio_box a;
    nng_stream_listener_accept(e.l, a);
    nng_aio_cancel(a);
    EXPECT_EQ(a.wait(), NNG_ECANCELED);
    a.timeout(20);
    nng_stream_listener_accept(e.l, a);
    EXPECT_EQ(a.wait(), NNG_ETIMEDOUT);
    // Still works.
    nng_stream *srv = nullptr, *cli = nullptr;
    e.connect(srv, cli);
    nng_stream_free(srv);
    nng_stream_free(cli);
}

// Upgraded connections wait for accept(), in order.
TEST(WsEndpoints, DialsCompleteBeforeAcceptAndQueueInOrder) {
    ws_endpoints e("/q");
    e.listen();
    std::vector<nng_stream*> dialed;
    for (int i = 0; i < 5; i++) {
        aio_box a;
        nng_stream_dialer_dial(e.d, a);
        ASSERT_EQ(a.wait(), 0);
        auto* s = static_cast<nng_stream*>(nng_aio_get_output(a, 0));
        ASSERT_EQ(send_some(s, std::to_string(i)), 1);
        dialed.push_back(s);
    }
    for (int i = 0; i < 5; i++) {
        aio_box a;
        nng_stream_listener_accept(e.l, a);
        ASSERT_EQ(a.wait(), 0);
        auto* s = static_cast<nng_stream*>(nng_aio_get_output(a, 0));
        EXPECT_EQ(recv_some(s, 10), std::to_string(i));
        nng_stream_free(s);
    }
    for (nng_stream* s : dialed) {
        nng_stream_free(s);
    }
}

// What a listener answers to requests that are not a valid opening
// handshake for it.
TEST(WsEndpoints, HandshakeRefusals) {
    ws_endpoints e("/h");
    e.listen();
    const std::string key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    const std::string up = "Upgrade: websocket\r\nConnection: Upgrade\r\n";
    struct {
        std::string request;
        const char* status;
    } cases[] = {
        {"HEAD /h HTTP/1.1\r\nHost: 127.0.0.1\r\n" + up + key + "Sec-WebSocket-Version: 13\r\n\r\n", "405"},
        {"GET /h HTTP/1.0\r\nHost: 127.0.0.1\r\n" + up + key + "Sec-WebSocket-Version: 13\r\n\r\n", "400"},
        {"GET /h HTTP/1.1\r\nHost: 127.0.0.1\r\n" + up + key + "Sec-WebSocket-Version: 12\r\n\r\n", "426"},
        {"GET /h HTTP/1.1\r\nHost: 127.0.0.1\r\n" + up + "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!!!\r\n"
         "Sec-WebSocket-Version: 13\r\n\r\n", "400"},
        {"GET /h HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: keep-alive,Upgrade\r\n" +
             key + "Sec-WebSocket-Version: 13\r\n\r\n", "101"},
        {"GET /h HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n" + up + key +
             "Sec-WebSocket-Version: 13\r\n\r\nab", "413"},
        {"GET /h HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "426"},
    };
    for (const auto& c : cases) {
        raw_peer peer(e.port);
        ASSERT_EQ(peer.write(c.request), 0);
        std::string head = peer.read_head();
        EXPECT_EQ(head.substr(0, 12), std::string("HTTP/1.1 ") + c.status) << c.request;
    }
}

// At most 256 upgraded streams wait for accept(); past that the listener
// answers 503 (a refusal the dialer reports as NNG_EPROTO).  The clients
// are raw, to end every connection in order before the test does.
TEST(WsEndpoints, WaitingStreamsAreBounded) {
    ws_endpoints e("/many");
    e.listen();
    std::vector<std::unique_ptr<raw_peer>> peers;
    for (std::size_t i = 0; i < 256; i++) {
        peers.push_back(std::make_unique<raw_peer>(e.port));
        ASSERT_EQ(peers.back()->upgrade("/many").rfind("HTTP/1.1 101", 0), 0u) << i;
    }
    {
        raw_peer over(e.port);
        std::string head = over.upgrade("/many");
        EXPECT_EQ(head.rfind("HTTP/1.1 503", 0), 0u) << head;
    }
    EXPECT_EQ(e.dial_result(), NNG_EPROTO);
    // One accepted: room for one more.
    aio_box acc;
    nng_stream_listener_accept(e.l, acc);
    ASSERT_EQ(acc.wait(), 0);
    peers.push_back(std::make_unique<raw_peer>(e.port));
    ASSERT_EQ(peers.back()->upgrade("/many").rfind("HTTP/1.1 101", 0), 0u);
    // The accepted stream closes with 1000, the ones still waiting with
    // 1001 when the listener closes.
    nng_stream_free(static_cast<nng_stream*>(nng_aio_get_output(acc, 0)));
    EXPECT_EQ(peers.front()->close_handshake(), "88 02 03 e8");
    nng_stream_listener_close(e.l);
    for (std::size_t i = 1; i < peers.size(); i++) {
        EXPECT_EQ(peers[i]->close_handshake(), "88 02 03 e9") << i;
    }
}

// A listener's close: streams waiting for accept are closed with 1001;
// streams already accepted go on; the path is free again.
TEST(WsEndpoints, CloseClosesQueuedStreamsOnly) {
    ws_endpoints e("/cl");
    e.listen();
    nng_stream *srv = nullptr, *cli = nullptr;
    e.connect(srv, cli);
    raw_peer queued(e.port);
    std::string head = queued.upgrade("/cl");
    ASSERT_EQ(head.rfind("HTTP/1.1 101", 0), 0u) << head;
    nng_stream_listener_close(e.l);
    EXPECT_EQ(hex(queued.read(4)), "88 02 03 e9");
    EXPECT_EQ(send_some(cli, "still"), 5);
    EXPECT_EQ(recv_some(srv, 10), "still");
    // The path can be listened on again, on the same port.
    nng_stream_listener* l2 = nullptr;
    std::string url = "ws://127.0.0.1:" + std::to_string(e.port) + "/cl";
    ASSERT_EQ(nng_stream_listener_alloc(&l2, url.c_str()), 0);
    EXPECT_EQ(nng_stream_listener_listen(l2), 0);
    nng_stream_listener_free(l2);
    nng_stream_free(srv);
    nng_stream_free(cli);
}

// Two listeners for one port and path: the second fails at listen with
// NNG_EADDRINUSE, and stays usable (errors, no crash) afterwards.
TEST(WsEndpoints, PathInUse) {
    ws_endpoints e("/dup");
    e.listen();
    nng_stream_listener* l2 = nullptr;
    ASSERT_EQ(nng_stream_listener_alloc(&l2, e.url().c_str()), 0);
    EXPECT_EQ(nng_stream_listener_listen(l2), NNG_EADDRINUSE);
    EXPECT_EQ(nng_stream_listener_listen(l2), NNG_EADDRINUSE);
    EXPECT_EQ(bound_port(l2), e.port) << "the shared server's port";
    bool b = false;
    EXPECT_EQ(nng_stream_listener_get_bool(l2, NNG_OPT_TCP_NODELAY, &b), 0);
    aio_box a;
    nng_stream_listener_accept(l2, a);
    EXPECT_EQ(a.wait(), NNG_ESTATE);
    // A final '/' makes no other path (NNG 1.5.2 has two).
    nng_stream_listener* slash = nullptr;
    ASSERT_EQ(nng_stream_listener_alloc(&slash, (e.url() + "/").c_str()), 0);
    EXPECT_EQ(nng_stream_listener_listen(slash), NNG_EADDRINUSE);
    nng_stream_listener_free(slash);
    // Another path on the same port is fine.
    nng_stream_listener* l3 = nullptr;
    std::string other = "ws://127.0.0.1:" + std::to_string(e.port) + "/other";
    ASSERT_EQ(nng_stream_listener_alloc(&l3, other.c_str()), 0);
    EXPECT_EQ(nng_stream_listener_listen(l3), 0);
    // Once the first is gone, the second can take the path.
    nng_stream_listener_free(e.l);
    e.l = nullptr;
    EXPECT_EQ(nng_stream_listener_listen(l2), 0);
    EXPECT_EQ(e.dial_result(), 0);
    nng_stream_listener_free(l3);
    nng_stream_listener_free(l2);
}

// One request over HTTP: the status (and the body).
int http_get(int port, const std::string& path, std::string* body = nullptr) {
    std::string u = "http://127.0.0.1:" + std::to_string(port) + path;
    nng_url* url = nullptr;
    nng_http_client* c = nullptr;
    nng_http_req* req = nullptr;
    nng_http_res* res = nullptr;
    EXPECT_EQ(nng_url_parse(&url, u.c_str()), 0);
    EXPECT_EQ(nng_http_client_alloc(&c, url), 0);
    EXPECT_EQ(nng_http_req_alloc(&req, url), 0);
    EXPECT_EQ(nng_http_res_alloc(&res), 0);
    aio_box a;
    nng_http_client_transact(c, req, res, a);
    int status = a.wait() == 0 ? nng_http_res_get_status(res) : -1;
    if (body != nullptr) {
        void* data = nullptr;
        size_t len = 0;
        nng_http_res_get_data(res, &data, &len);
        body->assign(static_cast<char*>(data), len);
    }
    nng_http_res_free(res);
    nng_http_req_free(req);
    nng_http_client_free(c);
    nng_url_free(url);
    return status;
}

nng_http_server* hold(int port) {
    std::string u = "http://127.0.0.1:" + std::to_string(port);
    nng_url* url = nullptr;
    nng_http_server* s = nullptr;
    EXPECT_EQ(nng_url_parse(&url, u.c_str()), 0);
    EXPECT_EQ(nng_http_server_hold(&s, url), 0);
    nng_url_free(url);
    return s;
}

void add_static(nng_http_server* s, const char* path, const char* body) {
    nng_http_handler* h = nullptr;
    ASSERT_EQ(nng_http_handler_alloc_static(&h, path, body, std::strlen(body), "text/plain"), 0);
    ASSERT_EQ(nng_http_server_add_handler(s, h), 0);
}

// HTTP handlers first (nng_http_server_hold, port 0), then ws listeners
// on its bound port: one server answers both.
TEST(WsEndpoints, ShareAPortWithHttpHandlers) {
    nng_http_server* s = hold(0);
    add_static(s, "/hello", "hello");
    ASSERT_EQ(nng_http_server_start(s), 0);
    nng_sockaddr sa{};
    ASSERT_EQ(nng_http_server_get_addr(s, &sa), 0);
    int port = ntohs(sa.s_in.sa_port);

    ws_endpoints a("/a"), b("/b");
    nng_stream_listener_free(a.l);
    nng_stream_listener_free(b.l);
    std::string base = "ws://127.0.0.1:" + std::to_string(port);
    ASSERT_EQ(nng_stream_listener_alloc(&a.l, (base + "/a").c_str()), 0);
    ASSERT_EQ(nng_stream_listener_alloc(&b.l, (base + "/b").c_str()), 0);
    a.listen();
    b.listen();
    EXPECT_EQ(a.port, port);
    nng_stream *srv = nullptr, *cli = nullptr;
    a.connect(srv, cli);
    EXPECT_EQ(send_some(cli, "on a"), 4);
    EXPECT_EQ(recv_some(srv, 10), "on a");
    nng_stream_free(srv);
    nng_stream_free(cli);
    std::string body;
    EXPECT_EQ(http_get(port, "/hello", &body), 200);
    EXPECT_EQ(body, "hello");
    EXPECT_EQ(http_get(port, "/a"), 426) << "a plain GET of a WebSocket path";

    // Closing one listener leaves the others and the HTTP handlers.
    nng_stream_listener_close(a.l);
    EXPECT_EQ(http_get(port, "/a"), 404);
    EXPECT_EQ(a.dial_result(), NNG_ECONNREFUSED);
    EXPECT_EQ(b.dial_result(), 0);
    EXPECT_EQ(http_get(port, "/hello"), 200);
    a.close();
    b.close();
    // The server is still the holder's, started by it.
    EXPECT_EQ(http_get(port, "/hello"), 200);
    nng_http_server_stop(s);
    nng_http_server_release(s);
}

// A ws listener on port 0 first; nng_http_server_hold of its bound port
// then finds the same server.
TEST(WsEndpoints, HttpServerHoldFindsTheListenersServer) {
    ws_endpoints e("/first");
    e.listen();
    nng_http_server* s = hold(e.port);
    add_static(s, "/hello", "hi");
    ASSERT_EQ(nng_http_server_start(s), 0) << "the same server, already listening";
    EXPECT_EQ(http_get(e.port, "/hello"), 200);
    EXPECT_EQ(e.dial_result(), 0);
    // A later port-0 listener gets a server of its own.
    ws_endpoints other("/first");
    other.listen();
    EXPECT_NE(other.port, e.port);
    e.close();
    EXPECT_EQ(http_get(e.port, "/hello"), 200);
    EXPECT_EQ(http_get(e.port, "/first"), 404);
    nng_http_server_stop(s);
    nng_http_server_release(s);
}

// A handler answering the status its path names.
void status_cb(nng_aio* aio) {
    auto* req = static_cast<nng_http_req*>(nng_aio_get_input(aio, 0));
    int status = std::atoi(nng_http_req_get_uri(req) + 1);
    nng_http_res* res = nullptr;
    nng_http_res_alloc_error(&res, static_cast<uint16_t>(status));
    if (status == 302) {
        nng_http_res_set_header(res, "Location", "/elsewhere");
    }
    nng_aio_set_output(aio, 0, res);
    nng_aio_finish(aio, 0);
}

// A refused handshake: 401 and 403 NNG_EPERM, 404 and 405
// NNG_ECONNREFUSED, anything else NNG_EPROTO.
TEST(WsEndpoints, RefusalStatusesMapToErrors) {
    nng_http_server* s = hold(0);
    for (const char* p : {"/401", "/403", "/400", "/500", "/200", "/302", "/426"}) {
        nng_http_handler* h = nullptr;
        ASSERT_EQ(nng_http_handler_alloc(&h, p, status_cb), 0);
        ASSERT_EQ(nng_http_server_add_handler(s, h), 0);
    }
    nng_http_handler* h = nullptr;
    ASSERT_EQ(nng_http_handler_alloc(&h, "/405", status_cb), 0);
    ASSERT_EQ(nng_http_handler_set_method(h, "POST"), 0);
    ASSERT_EQ(nng_http_server_add_handler(s, h), 0);
    ASSERT_EQ(nng_http_server_start(s), 0);
    nng_sockaddr sa{};
    ASSERT_EQ(nng_http_server_get_addr(s, &sa), 0);
    int port = ntohs(sa.s_in.sa_port);
    struct {
        const char* path;
        int want;
    } cases[] = {{"/401", NNG_EPERM},         {"/403", NNG_EPERM},  {"/404", NNG_ECONNREFUSED},
                 {"/405", NNG_ECONNREFUSED},  {"/400", NNG_EPROTO}, {"/500", NNG_EPROTO},
                 {"/200", NNG_EPROTO},        {"/302", NNG_EPROTO}, {"/426", NNG_EPROTO}};
    for (const auto& c : cases) {
        std::string u = "ws://127.0.0.1:" + std::to_string(port) + c.path;
        nng_stream_dialer* d = nullptr;
        ASSERT_EQ(nng_stream_dialer_alloc(&d, u.c_str()), 0);
        aio_box a;
        nng_stream_dialer_dial(d, a);
        EXPECT_EQ(a.wait(), c.want) << c.path;
        nng_stream_dialer_free(d);
    }
    nng_http_server_stop(s);
    nng_http_server_release(s);
}

// A TCP listener that accepts and never answers.
struct silent_server {
    nng_stream_listener* l = nullptr;
    nng_stream* conn = nullptr;
    aio_box acc;
    int port = 0;
    silent_server() {
        EXPECT_EQ(nng_stream_listener_alloc(&l, "tcp://127.0.0.1:0"), 0);
        EXPECT_EQ(nng_stream_listener_listen(l), 0);
        port = bound_port(l);
        nng_stream_listener_accept(l, acc);
    }
    ~silent_server() {
        acc.wait();
        nng_stream_free(static_cast<nng_stream*>(nng_aio_get_output(acc, 0)));
        nng_stream_listener_free(l);
    }
};

TEST(WsEndpoints, DialerCloseEndsPendingDials) {
    silent_server srv;
    std::string u = "ws://127.0.0.1:" + std::to_string(srv.port) + "/x";
    nng_stream_dialer* d = nullptr;
    ASSERT_EQ(nng_stream_dialer_alloc(&d, u.c_str()), 0);
    aio_box a;
    nng_stream_dialer_dial(d, a);
    EXPECT_EQ(srv.acc.wait(), 0); // the TCP connection is there
    nng_stream_dialer_close(d);
    EXPECT_EQ(a.wait(), NNG_ECLOSED);
    nng_stream_dialer_dial(d, a);
    EXPECT_EQ(a.wait(), NNG_ECLOSED);
    // Options still answer.
    size_t z = 0;
    EXPECT_EQ(nng_stream_dialer_get_size(d, NNG_OPT_WS_SENDMAXFRAME, &z), 0);
    nng_stream_dialer_free(d);
}

TEST(WsEndpoints, DialTimeoutAndCancel) {
    silent_server srv;
    std::string u = "ws://127.0.0.1:" + std::to_string(srv.port) + "/x";
    nng_stream_dialer* d = nullptr;
    ASSERT_EQ(nng_stream_dialer_alloc(&d, u.c_str()), 0);
    aio_box a;
    a.timeout(50);
    nng_stream_dialer_dial(d, a);
    EXPECT_EQ(a.wait(), NNG_ETIMEDOUT);
    a.timeout(wait_ms);
    nng_stream_dialer_dial(d, a);
    nng_aio_cancel(a);
    EXPECT_EQ(a.wait(), NNG_ECANCELED);
    nng_stream_dialer_free(d);
}

TEST(WsEndpoints, DialRefusedAndPeerGone) {
    // Nobody listening.
    int dead = 0;
    {
        ws_endpoints e("/gone");
        e.listen();
        dead = e.port;
    }
    std::string u = "ws://127.0.0.1:" + std::to_string(dead) + "/gone";
    nng_stream_dialer* d = nullptr;
    ASSERT_EQ(nng_stream_dialer_alloc(&d, u.c_str()), 0);
    aio_box a;
    nng_stream_dialer_dial(d, a);
    EXPECT_EQ(a.wait(), NNG_ECONNREFUSED);
    nng_stream_dialer_free(d);
}

} // namespace
