// Close codes and close payloads: the policy of close.hpp over all 65,536
// codes, payload parsing, the reply code, reason fitting, and the close
// code and text of every decoder error.
#include "websocket/close.hpp"
#include "websocket/utf8.hpp"

#include <gtest/gtest.h>
#include <string>

namespace {

using namespace nnghttp::detail::ws;
using fe = frame_error;

std::string payload(std::uint16_t code, std::string reason = "") {
    std::string p;
    p.push_back(char(code >> 8));
    p.push_back(char(code & 0xFF));
    return p + reason;
}

// The policy written out as ranges, independently of the code under test.
bool allowed(unsigned code) {
    struct range {
        unsigned lo, hi;
    };
    const range ok[] = {{1000, 1003}, {1007, 1011}, {1012, 1014}, {3000, 3999}, {4000, 4999}};
    for (const range& r : ok) {
        if (code >= r.lo && code <= r.hi) {
            return true;
        }
    }
    return false;
}

TEST(close_codes, every_code) {
    int accepted = 0;
    for (unsigned code = 0; code <= 0xFFFF; code++) {
        ASSERT_EQ(is_valid_close_code(std::uint16_t(code)), allowed(code)) << code;
        accepted += allowed(code);
        close_payload p = parse_close_payload(payload(std::uint16_t(code)));
        ASSERT_EQ(p.error, allowed(code) ? fe::none : fe::invalid_close_code) << code;
    }
    EXPECT_EQ(accepted, 4 + 5 + 3 + 2000);
}

TEST(close_codes, named_decisions) {
    // Never on the wire (RFC 6455 section 7.4.1).
    EXPECT_FALSE(is_valid_close_code(close_no_status));
    EXPECT_FALSE(is_valid_close_code(close_abnormal));
    EXPECT_FALSE(is_valid_close_code(close_tls_handshake));
    EXPECT_FALSE(is_valid_close_code(1004));
    // Registered with IANA after RFC 6455.
    EXPECT_TRUE(is_valid_close_code(close_service_restart));
    EXPECT_TRUE(is_valid_close_code(close_try_again_later));
    EXPECT_TRUE(is_valid_close_code(close_bad_gateway));
    // Unassigned in the range reserved for the protocol.
    EXPECT_FALSE(is_valid_close_code(1016));
    EXPECT_FALSE(is_valid_close_code(2999));
    EXPECT_TRUE(is_valid_close_code(3000));
    EXPECT_TRUE(is_valid_close_code(4999));
    EXPECT_FALSE(is_valid_close_code(5000));
}

TEST(close_payload, parse) {
    close_payload p = parse_close_payload("");
    EXPECT_EQ(p.error, fe::none);
    EXPECT_EQ(p.code, 0);
    EXPECT_TRUE(p.reason.empty());

    EXPECT_EQ(parse_close_payload("\x03").error, fe::close_payload_one_byte);

    const std::string bye = payload(1001, "bye");
    p = parse_close_payload(bye);
    EXPECT_EQ(p.error, fe::none);
    EXPECT_EQ(p.code, 1001);
    EXPECT_EQ(p.reason, "bye");
    EXPECT_EQ(p.reason.data(), bye.data() + 2); // a view into the payload

    EXPECT_EQ(parse_close_payload(payload(1000, "\xce\xba\xe1")).error, fe::invalid_close_reason);
    EXPECT_EQ(parse_close_payload(payload(1000, "\xed\xa0\x80")).error, fe::invalid_close_reason);
    EXPECT_EQ(parse_close_payload(payload(1000, "\xce\xba")).error, fe::none);
    // The code is judged before the reason.
    EXPECT_EQ(parse_close_payload(payload(1005, "\xff")).error, fe::invalid_close_code);
}

TEST(close_payload, reply_echoes) {
    EXPECT_EQ(close_reply_code(0), 0);
    EXPECT_EQ(close_reply_code(close_normal), close_normal);
    EXPECT_EQ(close_reply_code(close_going_away), close_going_away);
    EXPECT_EQ(close_reply_code(4321), 4321);
}

TEST(close_payload, fit_reason) {
    EXPECT_EQ(fit_close_reason("short"), "short");
    const std::string exact(123, 'a');
    EXPECT_EQ(fit_close_reason(exact), exact);
    EXPECT_EQ(fit_close_reason(exact + "b"), exact);
    // A 2-byte character straddling byte 123 is dropped whole.
    const std::string straddle = std::string(122, 'a') + "\xce\xba" + "zz";
    EXPECT_EQ(fit_close_reason(straddle), std::string(122, 'a'));
    // A 4-byte one starting at byte 121 too.
    const std::string emoji = std::string(121, 'a') + "\xf0\x9f\x98\x80";
    EXPECT_EQ(fit_close_reason(emoji), std::string(121, 'a'));
    // One that ends exactly at 123 is kept.
    const std::string fits = std::string(121, 'a') + "\xce\xba" + "z";
    EXPECT_EQ(fit_close_reason(fits), std::string(121, 'a') + "\xce\xba");
    for (std::size_t n = 0; n < 200; n++) {
        std::string s;
        while (s.size() < n) {
            s += "a\xe2\x82\xac\xf0\x9f\x98\x80";
        }
        std::string_view f = fit_close_reason(s);
        EXPECT_LE(f.size(), max_close_reason);
        EXPECT_TRUE(is_valid_utf8(f)) << n;
    }
}

TEST(frame_error, close_codes_and_texts) {
    EXPECT_EQ(close_code(fe::none), 0);
    for (fe e : {fe::reserved_opcode, fe::reserved_bits, fe::fragmented_control,
                 fe::unexpected_continuation, fe::expected_continuation, fe::mask_required,
                 fe::unexpected_mask, fe::control_too_long, fe::non_minimal_length,
                 fe::length_top_bit, fe::close_payload_one_byte, fe::invalid_close_code}) {
        EXPECT_EQ(close_code(e), close_protocol_error) << describe(e);
    }
    EXPECT_EQ(close_code(fe::too_many_fragments), close_policy_violation);
    EXPECT_EQ(close_code(fe::frame_too_large), close_too_big);
    EXPECT_EQ(close_code(fe::message_too_large), close_too_big);
    EXPECT_EQ(close_code(fe::invalid_utf8), close_invalid_data);
    EXPECT_EQ(close_code(fe::invalid_close_reason), close_invalid_data);
    for (int e = 1; e <= int(fe::invalid_close_reason); e++) {
        EXPECT_NE(describe(fe(e)), "unknown error") << e;
        EXPECT_NE(close_code(fe(e)), 0) << e;
        EXPECT_TRUE(is_valid_close_code(close_code(fe(e)))) << "a code we may send";
    }
    EXPECT_EQ(describe(fe::reserved_opcode), "reserved opcode");
}

} // namespace
