// The opening handshake's string work: Sec-WebSocket-Accept (RFC 6455's own
// example), key and version checks, the Connection and Upgrade lists, the
// subprotocol choice, and fresh keys from OpenSSL.
#include "websocket/handshake.hpp"
#include "websocket/random.hpp"

#include <gtest/gtest.h>
#include <set>
#include <string>
#include <vector>

namespace {

using namespace nnghttp::detail::ws;
using views = std::vector<std::string_view>;

TEST(handshake, accept_key_rfc_example) {
    // RFC 6455 section 1.3.
    EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    EXPECT_TRUE(accept_matches("dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    EXPECT_FALSE(accept_matches("dGhlIHNhbXBsZSBub25jZQ==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo"));
    EXPECT_FALSE(accept_matches("dGhlIHNhbXBsZSBub25jZQ==", "S3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    EXPECT_FALSE(accept_matches("dGhlIHNhbXBsZSBub25jZA==", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
    // Any key hashes; the answer is always 28 characters.
    EXPECT_EQ(accept_key("").size(), 28u);
    EXPECT_EQ(accept_key(std::string(1000, 'k')).size(), 28u);
    EXPECT_NE(accept_key("a"), accept_key("b"));
}

TEST(handshake, key_validation) {
    EXPECT_TRUE(is_valid_key("dGhlIHNhbXBsZSBub25jZQ=="));
    EXPECT_TRUE(is_valid_key("AAAAAAAAAAAAAAAAAAAAAA=="));
    EXPECT_TRUE(is_valid_key("/////////////////////w=="));
    EXPECT_TRUE(is_valid_key("+++++++++++++++++++++g=="));
    const char* bad[] = {
        "",
        "dGhlIHNhbXBsZSBub25jZQ=",   // 23 characters
        "dGhlIHNhbXBsZSBub25jZQ===", // 25
        "dGhlIHNhbXBsZSBub25jZR==",  // stray low bits: not canonical
        "dGhlIHNhbXBsZSBub25jZ/==",  // likewise
        "dGhlIHNhbXBsZSBub25jZQAA",  // 18 bytes, not 16
        "dGhlIHNhbXBsZSBub25j*Q==",  // not base64
        "dGhlIHNhbXBsZSBub25j-Q==",  // base64url is not base64
        "dGhlIHNhbXBsZSBub25j Q==",
        "dGhlIHNhbXBsZSBub25jZQ=A",
        "=GhlIHNhbXBsZSBub25jZQ==",
    };
    for (const char* k : bad) {
        EXPECT_FALSE(is_valid_key(k)) << k;
    }
}

TEST(handshake, version) {
    EXPECT_TRUE(is_supported_version("13"));
    EXPECT_FALSE(is_supported_version("8"));
    EXPECT_FALSE(is_supported_version("13, 8"));
    EXPECT_FALSE(is_supported_version(""));
}

TEST(handshake, token_lists) {
    views v;
    EXPECT_TRUE(parse_token_list("keep-alive, Upgrade", v));
    EXPECT_EQ(v, (views{"keep-alive", "Upgrade"}));
    v.clear();
    EXPECT_TRUE(parse_token_list(" ,a,,\tb , ", v));
    EXPECT_EQ(v, (views{"a", "b"}));
    EXPECT_TRUE(parse_token_list("", v));
    EXPECT_EQ(v.size(), 2u);
    for (const char* bad : {"a b", "a;b", "\"a\"", "a, b c", "a/b", "a,\x01"}) {
        EXPECT_FALSE(parse_token_list(bad, v)) << bad;
        EXPECT_EQ(v, (views{"a", "b"})) << "unchanged after " << bad;
    }

    EXPECT_TRUE(token_list_contains("keep-alive, Upgrade", "upgrade"));
    EXPECT_TRUE(token_list_contains("UPGRADE", "upgrade"));
    EXPECT_TRUE(token_list_contains("upgrade,keep-alive", "Upgrade"));
    EXPECT_FALSE(token_list_contains("keep-alive", "upgrade"));
    EXPECT_FALSE(token_list_contains("Upgrades", "upgrade"));
    EXPECT_FALSE(token_list_contains("x-upgrade", "upgrade"));
    EXPECT_FALSE(token_list_contains("", "upgrade"));
    // A malformed list holds nothing, even a token that is there.
    EXPECT_FALSE(token_list_contains("upgrade, keep alive", "upgrade"));
}

TEST(handshake, upgrade_lists_websocket) {
    EXPECT_TRUE(upgrade_has_websocket("websocket"));
    EXPECT_TRUE(upgrade_has_websocket("WebSocket"));
    EXPECT_TRUE(upgrade_has_websocket("h2c, websocket"));
    EXPECT_TRUE(upgrade_has_websocket("HTTP/2.0, websocket"));
    EXPECT_FALSE(upgrade_has_websocket("websocket/13"));
    EXPECT_FALSE(upgrade_has_websocket("websockets"));
    EXPECT_FALSE(upgrade_has_websocket("web socket"));
    EXPECT_FALSE(upgrade_has_websocket("h2c"));
    EXPECT_FALSE(upgrade_has_websocket(""));
    EXPECT_FALSE(upgrade_has_websocket("websocket, /x"));
    EXPECT_FALSE(upgrade_has_websocket("websocket, x/"));
}

TEST(handshake, subprotocols) {
    views offered;
    EXPECT_TRUE(parse_protocols("chat, superchat", offered));
    EXPECT_TRUE(parse_protocols("v2.json", offered)); // a second field line
    EXPECT_EQ(offered, (views{"chat", "superchat", "v2.json"}));
    EXPECT_FALSE(parse_protocols("x, chat", offered)); // offered twice
    EXPECT_FALSE(parse_protocols("a, a", offered));
    EXPECT_FALSE(parse_protocols("a b", offered));
    EXPECT_FALSE(parse_protocols("a,\"b\"", offered));
    EXPECT_EQ(offered.size(), 3u) << "unchanged after failures";

    // The server's order of preference decides, and the answer is the
    // client's own string.
    const views server = {"superchat", "chat"};
    auto chosen = choose_protocol(offered, server);
    ASSERT_TRUE(chosen.has_value());
    EXPECT_EQ(*chosen, "superchat");
    EXPECT_EQ(chosen->data(), offered[1].data());
    EXPECT_EQ(choose_protocol(offered, views{"chat", "superchat"}), "chat");
    EXPECT_FALSE(choose_protocol(offered, views{"other"}).has_value());
    EXPECT_FALSE(choose_protocol(offered, views{}).has_value());
    EXPECT_FALSE(choose_protocol(views{}, server).has_value());
    // Names compare exactly.
    EXPECT_FALSE(choose_protocol(views{"Chat"}, views{"chat"}).has_value());

    EXPECT_TRUE(is_offered_protocol(offered, "chat"));
    EXPECT_FALSE(is_offered_protocol(offered, "CHAT"));
    EXPECT_FALSE(is_offered_protocol(offered, "chat, superchat"));
    EXPECT_FALSE(is_offered_protocol(offered, ""));
}

TEST(handshake, random_keys) {
    std::set<std::string> keys;
    std::set<std::uint32_t> masks;
    for (int i = 0; i < 64; i++) {
        std::string k = random_handshake_key();
        EXPECT_TRUE(is_valid_key(k)) << k;
        keys.insert(k);
        auto m = random_mask_key();
        ASSERT_TRUE(m.has_value());
        masks.insert(std::uint32_t((*m)[0]) << 24 | std::uint32_t((*m)[1]) << 16 |
                     std::uint32_t((*m)[2]) << 8 | (*m)[3]);
    }
    // 128 random bits each: no repeats; 32 bits: repeats are very unlikely.
    EXPECT_EQ(keys.size(), 64u);
    EXPECT_GE(masks.size(), 60u);
}

} // namespace
