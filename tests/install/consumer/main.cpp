// A separate project using the installed C++ API: a server with a lambda
// handler, and a coroutine client fetching from it.
#include <nnghttp/nnghttp.hpp>

#include <cstdio>
#include <string>

int main() {
    nnghttp::server srv("http://127.0.0.1:0");
    srv.get("/hello", [](const nnghttp::request&, nnghttp::response& res) {
        res.set_header("Content-Type", "text/plain").set_body("hello from C++");
    });
    srv.start();
    std::string url = "http://127.0.0.1:" + std::to_string(srv.port()) + "/hello";
    auto body = nnghttp::run([](std::string u) -> nnghttp::task<std::string> {
        nnghttp::client cli(u);
        nnghttp::request req{nnghttp::url(u)};
        auto res = co_await cli.transact(req).timeout(std::chrono::seconds(5));
        co_return std::string(res.body_text());
    }(url));
    std::printf("%s\n", body.c_str());
    return body == "hello from C++" ? 0 : 1;
}
