// Serializer tests: exact bytes, sizes, and round trips through the parser.
#include "http/parser.hpp"
#include "http/serializer.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace {

using namespace nnghttp::detail::http;

TEST(serializer, request_head_bytes) {
    std::vector<header_field> f = {{"Host", "example.com"}, {"Accept", "*/*"}};
    std::string out = "prefix";
    append_request_head(out, "GET", "/a?b", "HTTP/1.1", f);
    EXPECT_EQ(out, "prefixGET /a?b HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n");
    EXPECT_EQ(request_head_size("GET", "/a?b", "HTTP/1.1", f), out.size() - 6);
}

TEST(serializer, response_head_bytes) {
    std::vector<header_field> f = {{"Content-Length", "0"}};
    std::string out;
    append_response_head(out, "HTTP/1.1", 404, "Not Found", f);
    EXPECT_EQ(out, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    EXPECT_EQ(response_head_size("HTTP/1.1", 404, "Not Found", f), out.size());
    out.clear();
    append_response_head(out, "HTTP/1.0", 200, "", {});
    EXPECT_EQ(out, "HTTP/1.0 200 \r\n\r\n");
    EXPECT_EQ(response_head_size("HTTP/1.0", 200, "", {}), out.size());
}

TEST(serializer, reserves_once) {
    std::vector<header_field> f(20, {"X-Some-Header", "some value of some length"});
    std::string out;
    append_request_head(out, "POST", "/upload", "HTTP/1.1", f);
    EXPECT_EQ(out.size(), request_head_size("POST", "/upload", "HTTP/1.1", f));
    EXPECT_LE(out.capacity(), out.size() + 32); // one reservation, no doubling
}

TEST(serializer, chunk_headers) {
    EXPECT_EQ(make_chunk_header(0).view(), "0\r\n");
    EXPECT_EQ(make_chunk_header(5).view(), "5\r\n");
    EXPECT_EQ(make_chunk_header(255).view(), "ff\r\n");
    EXPECT_EQ(make_chunk_header(4096).view(), "1000\r\n");
    EXPECT_EQ(make_chunk_header(SIZE_MAX).view(),
              std::string(2 * sizeof(std::size_t), 'f') + "\r\n");
    std::string out;
    append_chunk(out, "hello");
    append_chunk(out, "");
    append_chunk(out, "world!");
    append_last_chunk(out);
    EXPECT_EQ(out, "5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n");
    out.clear();
    std::vector<header_field> t = {{"Expires", "never"}};
    append_last_chunk(out, t);
    EXPECT_EQ(out, "0\r\nExpires: never\r\n\r\n");
    EXPECT_EQ(last_chunk, "0\r\n\r\n");
    EXPECT_EQ(chunk_end, "\r\n");
}

// Parse, serialize what was parsed, parse again: the same head.
void round_trip(message_kind kind, const std::string& wire) {
    head_parser p1(kind);
    ASSERT_EQ(p1.parse(wire).status, parse_status::complete) << wire;
    const message_head& h1 = p1.head();
    std::string out;
    if (kind == message_kind::request) {
        append_request_head(out, h1.method, h1.target, h1.version, h1.fields);
    } else {
        append_response_head(out, h1.version, h1.status, h1.reason, h1.fields);
    }
    head_parser p2(kind);
    auto r = p2.parse(out);
    ASSERT_EQ(r.status, parse_status::complete) << out;
    EXPECT_EQ(r.length, out.size());
    const message_head& h2 = p2.head();
    EXPECT_EQ(h2.method, h1.method);
    EXPECT_EQ(h2.target, h1.target);
    EXPECT_EQ(h2.version, h1.version);
    EXPECT_EQ(h2.status, h1.status);
    EXPECT_EQ(h2.reason, h1.reason);
    EXPECT_EQ(h2.fields, h1.fields);
    EXPECT_EQ(h2.body, h1.body);
    EXPECT_EQ(h2.content_length, h1.content_length);
}

TEST(serializer, round_trips) {
    round_trip(message_kind::request, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    round_trip(message_kind::request, "\r\nPOST /x?y HTTP/1.0\r\nContent-Length:  5 \r\nA:\r\n"
                                      "B:\t b \t c\t\r\n\r\n");
    round_trip(message_kind::request,
               "PUT * HTTP/1.1\r\nTransfer-Encoding: chunked\r\nX: \xff\xfe\r\n\r\n");
    round_trip(message_kind::response, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n");
    round_trip(message_kind::response, "HTTP/1.1 204\r\n\r\n");
    round_trip(message_kind::response, "HTTP/1.0 599  odd  reason \r\nA: b\r\n\r\n");
}

TEST(serializer, chunked_round_trip) {
    std::string body;
    for (int i = 0; i < 300; i++) {
        body += char('a' + i % 26);
    }
    std::string wire;
    for (std::size_t i = 0; i < body.size(); i += 37) {
        append_chunk(wire, std::string_view(body).substr(i, 37));
    }
    std::vector<header_field> t = {{"Digest", "x"}};
    append_last_chunk(wire, t);
    chunk_options opts;
    opts.keep_trailers = true;
    chunk_decoder d(opts);
    std::string got;
    std::string_view in = wire;
    for (;;) {
        chunk_result r = d.decode(in);
        in.remove_prefix(r.consumed);
        got.append(r.data);
        if (r.status != chunk_status::data) {
            ASSERT_EQ(r.status, chunk_status::done);
            break;
        }
    }
    EXPECT_TRUE(in.empty());
    EXPECT_EQ(got, body);
    ASSERT_EQ(d.trailers().size(), 1u);
    EXPECT_EQ(d.trailers()[0], (header_field{"Digest", "x"}));
}

} // namespace
