// HTTP/1.1 parsing throughput: nnghttp::detail::http::head_parser and chunk_decoder
// against Debian's http_parser (libhttp-parser-dev), on the same messages,
// in the same binary.  Both sides do the work a server needs: find the
// method, target, version and every header name and value (http_parser
// through callbacks that record spans into a fixed array, ours through the
// parsed head) and, for the chunked response, hand out the body bytes.
//
//   build/bench/bench/parser_bench --benchmark_counters_tabular=true
#include "http/parser.hpp"

#include <benchmark/benchmark.h>
#include <cstring>
#include <http_parser.h>
#include <string>
#include <string_view>

namespace {

using namespace nnghttp::detail::http;

const std::string curl_request = "GET /index.html HTTP/1.1\r\n"
                                 "Host: www.example.com\r\n"
                                 "User-Agent: curl/7.88.1\r\n"
                                 "Accept: */*\r\n"
                                 "\r\n";

const std::string browser_request =
    "GET /wiki/Hypertext_Transfer_Protocol?action=view&section=2 HTTP/1.1\r\n"
    "Host: en.wikipedia.org\r\n"
    "Connection: keep-alive\r\n"
    "Cache-Control: max-age=0\r\n"
    "sec-ch-ua: \"Chromium\";v=\"118\", \"Google Chrome\";v=\"118\", \"Not=A?Brand\";v=\"99\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/118.0.0.0 Safari/537.36\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-GB,en-US;q=0.9,en;q=0.8\r\n"
    "Cookie: WMF-Last-Access=25-Nov-2026; GeoIP=GB:ENG:London:51.51:-0.13:v4; "
    "enwikimwuser-sessionId=0123456789abcdef0123\r\n"
    "\r\n";

std::string make_chunked_response() {
    std::string s = "HTTP/1.1 200 OK\r\n"
                    "Date: Wed, 25 Nov 2026 15:00:00 GMT\r\n"
                    "Server: nng-http\r\n"
                    "Content-Type: application/json\r\n"
                    "Transfer-Encoding: chunked\r\n"
                    "Cache-Control: no-store\r\n"
                    "\r\n";
    const char* sizes[] = {"400", "200", "80", "3ff"};
    for (const char* sz : sizes) {
        std::size_t n = std::stoul(sz, nullptr, 16);
        s += std::string(sz) + "\r\n" + std::string(n, 'j') + "\r\n";
    }
    s += "0\r\n\r\n";
    return s;
}
const std::string chunked_response = make_chunked_response();

// ---- ours

void consume_head(const message_head& h) {
    benchmark::DoNotOptimize(h.method.data());
    benchmark::DoNotOptimize(h.target.data());
    for (const auto& f : h.fields) {
        benchmark::DoNotOptimize(f.value.data());
    }
}

void ours_request(benchmark::State& state, const std::string& msg) {
    head_parser p(message_kind::request);
    for (auto _ : state) {
        p.reset();
        parse_result r = p.parse(msg);
        if (r.status != parse_status::complete) {
            state.SkipWithError("parse failed");
            break;
        }
        consume_head(p.head());
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(std::int64_t(state.iterations() * msg.size()));
}

void ours_chunked_response(benchmark::State& state) {
    const std::string& msg = chunked_response;
    head_parser p(message_kind::response);
    chunk_decoder d;
    for (auto _ : state) {
        p.reset();
        d.reset();
        parse_result r = p.parse(msg);
        if (r.status != parse_status::complete || p.head().body != body_kind::chunked) {
            state.SkipWithError("parse failed");
            break;
        }
        consume_head(p.head());
        std::string_view in = std::string_view(msg).substr(r.length);
        for (;;) {
            chunk_result c = d.decode(in);
            in.remove_prefix(c.consumed);
            if (c.status != chunk_status::data) {
                break;
            }
            benchmark::DoNotOptimize(c.data.data());
        }
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(std::int64_t(state.iterations() * msg.size()));
}

// ---- http_parser

struct hp_span {
    const char* at;
    std::size_t len;
};

struct hp_state {
    hp_span url{};
    hp_span names[64];
    hp_span values[64];
    int fields = 0;
    bool in_value = false;
    std::size_t body = 0;
    bool done = false;
};

// http_parser may deliver one name or value in several calls when the input
// is split; here each message arrives whole, so one call per span suffices,
// but extending the last span keeps the callbacks honest.
void extend(hp_span& s, const char* at, std::size_t len) {
    if (s.at == nullptr) {
        s = {at, len};
    } else {
        s.len += len;
    }
}

int on_url(http_parser* p, const char* at, std::size_t len) {
    extend(static_cast<hp_state*>(p->data)->url, at, len);
    return 0;
}
int on_header_field(http_parser* p, const char* at, std::size_t len) {
    auto* st = static_cast<hp_state*>(p->data);
    if (st->in_value || st->fields == 0) {
        if (st->fields == 64) {
            return 1;
        }
        st->names[st->fields] = {};
        st->values[st->fields] = {};
        st->fields++;
        st->in_value = false;
    }
    extend(st->names[st->fields - 1], at, len);
    return 0;
}
int on_header_value(http_parser* p, const char* at, std::size_t len) {
    auto* st = static_cast<hp_state*>(p->data);
    st->in_value = true;
    extend(st->values[st->fields - 1], at, len);
    return 0;
}
int on_body(http_parser* p, const char* at, std::size_t len) {
    benchmark::DoNotOptimize(at);
    static_cast<hp_state*>(p->data)->body += len;
    return 0;
}
int on_message_complete(http_parser* p) {
    static_cast<hp_state*>(p->data)->done = true;
    return 0;
}

http_parser_settings make_settings() {
    http_parser_settings s;
    http_parser_settings_init(&s);
    s.on_url = on_url;
    s.on_header_field = on_header_field;
    s.on_header_value = on_header_value;
    s.on_body = on_body;
    s.on_message_complete = on_message_complete;
    return s;
}
const http_parser_settings hp_settings = make_settings();

void http_parser_run(benchmark::State& state, const std::string& msg, http_parser_type type) {
    http_parser p;
    hp_state st;
    for (auto _ : state) {
        http_parser_init(&p, type);
        st.url = {};
        st.fields = 0;
        st.in_value = false;
        st.body = 0;
        st.done = false;
        p.data = &st;
        std::size_t n = http_parser_execute(&p, &hp_settings, msg.data(), msg.size());
        if (n != msg.size() || HTTP_PARSER_ERRNO(&p) != HPE_OK ||
            (!st.done && type == HTTP_RESPONSE)) {
            state.SkipWithError("http_parser failed");
            break;
        }
        benchmark::DoNotOptimize(st.url.at);
        for (int i = 0; i < st.fields; i++) {
            benchmark::DoNotOptimize(st.values[i].at);
        }
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(std::int64_t(state.iterations() * msg.size()));
}

void BM_curl_request_nnghttp(benchmark::State& s) {
    ours_request(s, curl_request);
}
void BM_curl_request_http_parser(benchmark::State& s) {
    http_parser_run(s, curl_request, HTTP_REQUEST);
}
void BM_browser_request_nnghttp(benchmark::State& s) {
    ours_request(s, browser_request);
}
void BM_browser_request_http_parser(benchmark::State& s) {
    http_parser_run(s, browser_request, HTTP_REQUEST);
}
void BM_chunked_response_nnghttp(benchmark::State& s) {
    ours_chunked_response(s);
}
void BM_chunked_response_http_parser(benchmark::State& s) {
    http_parser_run(s, chunked_response, HTTP_RESPONSE);
}

BENCHMARK(BM_curl_request_nnghttp);
BENCHMARK(BM_curl_request_http_parser);
BENCHMARK(BM_browser_request_nnghttp);
BENCHMARK(BM_browser_request_http_parser);
BENCHMARK(BM_chunked_response_nnghttp);
BENCHMARK(BM_chunked_response_http_parser);

} // namespace

BENCHMARK_MAIN();
