// fetch: GET a URL with the C++ API's coroutines; the status line goes to
// stderr, the body to stdout, as it arrives (any size, constant memory).
//
//   fetch URL [TIMEOUT_MS]     http:// or https://; timeout default 30000,
//                              for the whole exchange
//
// Exit status: 0 for a response below 400, 2 for one of 400 or more (its
// body is printed all the same), 1 when there is no response (with a
// one-line error on stderr: refused, timed out, ...).
#include <nnghttp/nnghttp.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// Each step gets what is left of the whole exchange's time.
struct deadline {
    clock_type::time_point at;
    std::chrono::milliseconds left() const {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at - clock_type::now());
        if (ms <= 0ms) {
            throw nnghttp::error(nnghttp::make_error_code(nnghttp::errc::timed_out));
        }
        return ms;
    }
};

nnghttp::task<std::uint16_t> fetch(nnghttp::url url, deadline limit) {
    nnghttp::client client(url);
    nnghttp::connection conn = co_await client.connect().timeout(limit.left());

    nnghttp::request req(url); // GET, with a Host header
    co_await conn.write_request(req).timeout(limit.left());
    nnghttp::response res;
    co_await conn.read_response(res).timeout(limit.left());
    std::cerr << res.version() << ' ' << res.status() << ' ' << res.reason() << std::endl;

    std::array<std::byte, 16384> buf;
    for (;;) {
        std::size_t n = co_await conn.read_body(buf).timeout(limit.left());
        if (n == 0) {
            break; // the end of the body
        }
        if (std::fwrite(buf.data(), 1, n, stdout) != n) {
            throw std::runtime_error("writing the body: stdout failed");
        }
    }
    if (std::fflush(stdout) != 0) {
        throw std::runtime_error("writing the body: stdout failed");
    }
    co_return res.status();
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2 || argc > 3) {
        std::cerr << "usage: fetch URL [TIMEOUT_MS]\n";
        return 1;
    }
    std::string_view text = argv[1];
    long timeout_ms = 30000;
    if (argc == 3) {
        std::string_view t = argv[2];
        auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), timeout_ms);
        if (ec != std::errc() || end != t.data() + t.size() || timeout_ms <= 0) {
            std::cerr << "fetch: bad timeout: " << t << '\n';
            return 1;
        }
    }
    try {
        nnghttp::url url(text);
        deadline limit{clock_type::now() + std::chrono::milliseconds(timeout_ms)};
        std::uint16_t status = nnghttp::run(fetch(url, limit));
        return status < 400 ? 0 : 2;
    } catch (const std::exception& e) {
        std::cerr << "fetch: " << text << ": " << e.what() << '\n';
        return 1;
    }
}
