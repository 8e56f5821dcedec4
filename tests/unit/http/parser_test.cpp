#include "http/parser.hpp"

#include <gtest/gtest.h>

TEST(HeadParser, Smoke) {
    nnghttp::http::head_parser p(nnghttp::http::message_kind::request);
    auto r = p.parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(r.status, nnghttp::http::parse_status::complete);
}
