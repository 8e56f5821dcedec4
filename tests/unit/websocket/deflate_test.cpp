// permessage-deflate (RFC 7692): the negotiation of both ends as tables
// (what each offer or answer leads to, and why it is refused), a client
// and a server negotiating with each other; then deflater and inflater:
// round trips over sizes, kinds of data, windows and levels, interop with
// plain zlib both ways (so the code is not only checked against itself),
// the examples of RFC 7692 section 7.2.3, every split of the input, a
// decompression bomb cut off at the limit, corrupt input, and the memory
// each object holds.
#include "websocket/close.hpp"
#include "websocket/deflate.hpp"
#include "websocket/extensions.hpp"

#include <chrono>
#include <cstdint>
#include <gtest/gtest.h>
#include <initializer_list>
#include <ostream>
#include <random>
#include <string>
#include <vector>
#include <zlib.h>

// Readable failure messages (found by argument-dependent lookup; static,
// so no other test file of the binary can clash with them).
namespace nnghttp::detail::ws {

static void PrintTo(const deflate_params& p, std::ostream* os) {
    *os << "{server " << p.server_max_window_bits
        << (p.server_no_context_takeover ? " no-context" : "") << ", client "
        << p.client_max_window_bits << (p.client_no_context_takeover ? " no-context" : "") << "}";
}

static void PrintTo(const deflate_side& s, std::ostream* os) {
    *os << "{" << s.window_bits << (s.no_context_takeover ? " no-context" : "") << "}";
}

static void PrintTo(inflate_status s, std::ostream* os) {
    const char* names[] = {"ok", "too_big", "corrupt", "no_memory"};
    *os << names[int(s)];
}

static void PrintTo(deflate_answer_error e, std::ostream* os) {
    *os << "deflate_answer_error(" << int(e) << ")";
}

} // namespace nnghttp::detail::ws

namespace {

using namespace nnghttp::detail::ws;
using namespace std::string_literals;

// ---- shared test code ----

std::string bytes(std::initializer_list<unsigned> list) {
    std::string s;
    for (unsigned b : list) {
        s.push_back(char(b));
    }
    return s;
}

std::string hex(std::string_view s) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        if (!out.empty()) {
            out += ' ';
        }
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::string random_data(std::size_t n, std::uint32_t seed) {
    std::mt19937 gen(seed);
    std::string s(n, '\0');
    for (char& c : s) {
        c = char(gen() & 0xFF);
    }
    return s;
}

// Repetitive text like a feed of JSON records, cut to n bytes.
std::string json_data(std::size_t n) {
    std::string s;
    for (unsigned i = 0; s.size() < n; i++) {
        s += "{\"id\":" + std::to_string(i) + ",\"name\":\"user-" + std::to_string(i % 97) +
             "\",\"active\":" + (i % 3 ? "true" : "false") +
             ",\"tags\":[\"alpha\",\"beta\"],\"score\":" + std::to_string((i * 7919) % 1000) +
             "}\n";
    }
    s.resize(n);
    return s;
}

std::string compressed(deflater& d, std::string_view m) {
    std::string out;
    EXPECT_TRUE(d.compress(m, out));
    return out;
}

// Feeds one whole message; the status goes to *status when given,
// otherwise it must be ok.
std::string inflated(inflater& in, std::string_view payload, inflate_status* status = nullptr) {
    std::string out;
    const inflate_status s = in.feed(payload, true, out);
    if (status != nullptr) {
        *status = s;
    } else {
        EXPECT_EQ(s, inflate_status::ok);
    }
    return out;
}

constexpr std::string_view tail("\x00\x00\xff\xff", 4);

// Plain zlib raw inflate, one stream for a sequence of messages (context
// kept).  step is the output space per inflate() call: with 1, zlib checks
// every match distance against the window it was given.
class plain_inflater {
  public:
    explicit plain_inflater(int bits, std::size_t step = 1u << 16) : step_(step) {
        EXPECT_EQ(inflateInit2(&zs_, -bits), Z_OK);
    }
    ~plain_inflater() { inflateEnd(&zs_); }
    plain_inflater(const plain_inflater&) = delete;
    plain_inflater& operator=(const plain_inflater&) = delete;

    // A message's payload, with the tail put back; false on a zlib error.
    bool message(std::string payload, std::string& out) {
        payload.append(tail);
        zs_.next_in = reinterpret_cast<Bytef*>(payload.data());
        zs_.avail_in = uInt(payload.size());
        std::vector<char> buf(step_);
        for (;;) {
            zs_.next_out = reinterpret_cast<Bytef*>(buf.data());
            zs_.avail_out = uInt(step_);
            const int rc = inflate(&zs_, Z_SYNC_FLUSH);
            out.append(buf.data(), step_ - zs_.avail_out);
            if (rc != Z_OK && rc != Z_BUF_ERROR) {
                return false;
            }
            if (zs_.avail_in == 0 && zs_.avail_out != 0) {
                return true;
            }
            if (rc == Z_BUF_ERROR && zs_.avail_out != 0) {
                return false;
            }
        }
    }

  private:
    z_stream zs_{};
    std::size_t step_;
};

// Plain zlib raw deflate with Z_SYNC_FLUSH, one stream for a sequence of
// messages; the tail is cut when present (a flush right after another
// gives nothing at all).
class plain_deflater {
  public:
    plain_deflater(int bits, int level = 6, int strategy = Z_DEFAULT_STRATEGY) {
        EXPECT_EQ(deflateInit2(&zs_, level, Z_DEFLATED, -bits, 8, strategy), Z_OK);
    }
    ~plain_deflater() { deflateEnd(&zs_); }
    plain_deflater(const plain_deflater&) = delete;
    plain_deflater& operator=(const plain_deflater&) = delete;

    std::string message(std::string_view m, int flush = Z_SYNC_FLUSH) {
        std::string out(deflateBound(&zs_, m.size()) + 64, '\0');
        zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(m.data()));
        zs_.avail_in = uInt(m.size());
        zs_.next_out = reinterpret_cast<Bytef*>(out.data());
        zs_.avail_out = uInt(out.size());
        const int rc = deflate(&zs_, flush);
        EXPECT_TRUE(rc == Z_OK || rc == Z_BUF_ERROR || rc == Z_STREAM_END) << rc;
        EXPECT_EQ(zs_.avail_in, 0u);
        EXPECT_NE(zs_.avail_out, 0u);
        out.resize(out.size() - zs_.avail_out);
        if (flush == Z_SYNC_FLUSH && out.size() >= 4 && out.ends_with(tail)) {
            out.resize(out.size() - 4);
        }
        return out;
    }

  private:
    z_stream zs_{};
};

// The test name of a table row.
template <typename Case> std::string case_name(const ::testing::TestParamInfo<Case>& row) {
    return row.param.name;
}

// ---- negotiation: the server ----

struct offer_case {
    const char* name;
    deflate_config cfg;
    std::string offers;         // Sec-WebSocket-Extensions of the request
    const char* answer;         // nullptr: every offer declined
    deflate_params params = {}; // when accepted
};

void PrintTo(const offer_case& c, std::ostream* os) {
    *os << c.name;
}

constexpr deflate_config on{.enabled = true};

std::vector<offer_case> offer_cases() {
    const std::string pmd = "permessage-deflate";
    return {
        {"bare", on, pmd, "permessage-deflate", {false, false, 15, 15}},
        {"browser", on, pmd + "; client_max_window_bits", "permessage-deflate"},
        {"client_bits_bare_config_10",
         {.enabled = true, .client_max_window_bits = 10},
         pmd + "; client_max_window_bits",
         "permessage-deflate; client_max_window_bits=10",
         {false, false, 15, 10}},
        {"client_bits_not_offered_config_10",
         {.enabled = true, .client_max_window_bits = 10},
         pmd,
         "permessage-deflate",
         {false, false, 15, 15}},
        {"client_bits_value_kept",
         on,
         pmd + "; client_max_window_bits=12",
         "permessage-deflate; client_max_window_bits=12",
         {false, false, 15, 12}},
        {"client_bits_value_lowered",
         {.enabled = true, .client_max_window_bits = 10},
         pmd + "; client_max_window_bits=12",
         "permessage-deflate; client_max_window_bits=10",
         {false, false, 15, 10}},
        {"client_bits_value_under_config",
         {.enabled = true, .client_max_window_bits = 12},
         pmd + "; client_max_window_bits=9",
         "permessage-deflate; client_max_window_bits=9",
         {false, false, 15, 9}},
        {"client_bits_8_offered",
         on,
         pmd + "; client_max_window_bits=8",
         "permessage-deflate; client_max_window_bits=8",
         {false, false, 15, 8}},
        {"client_bits_15_offered",
         on,
         pmd + "; client_max_window_bits=15",
         "permessage-deflate",
         {false, false, 15, 15}},
        {"server_bits_offered",
         on,
         pmd + "; server_max_window_bits=10",
         "permessage-deflate; server_max_window_bits=10",
         {false, false, 10, 15}},
        {"server_bits_15_offered",
         on,
         pmd + "; server_max_window_bits=15",
         "permessage-deflate; server_max_window_bits=15",
         {false, false, 15, 15}},
        {"server_bits_lowered_by_config",
         {.enabled = true, .server_max_window_bits = 10},
         pmd + "; server_max_window_bits=12",
         "permessage-deflate; server_max_window_bits=10",
         {false, false, 10, 15}},
        {"server_bits_from_config",
         {.enabled = true, .server_max_window_bits = 11},
         pmd,
         "permessage-deflate; server_max_window_bits=11",
         {false, false, 11, 15}},
        {"server_bits_9_offered",
         on,
         pmd + "; server_max_window_bits=9",
         "permessage-deflate; server_max_window_bits=9",
         {false, false, 9, 15}},
        {"server_bits_8_declined", on, pmd + "; server_max_window_bits=8", nullptr},
        {"server_bits_8_then_fallback",
         on,
         pmd + "; server_max_window_bits=8, " + pmd,
         "permessage-deflate",
         {false, false, 15, 15}},
        {"server_context_offered",
         on,
         pmd + "; server_no_context_takeover",
         "permessage-deflate; server_no_context_takeover",
         {true, false, 15, 15}},
        {"client_context_offered",
         on,
         pmd + "; client_no_context_takeover",
         "permessage-deflate; client_no_context_takeover",
         {false, true, 15, 15}},
        {"server_context_from_config",
         {.enabled = true, .server_no_context_takeover = true},
         pmd,
         "permessage-deflate; server_no_context_takeover",
         {true, false, 15, 15}},
        {"client_context_from_config",
         {.enabled = true, .client_no_context_takeover = true},
         pmd,
         "permessage-deflate; client_no_context_takeover",
         {false, true, 15, 15}},
        {"everything_offered",
         on,
         pmd + "; client_max_window_bits=11; server_max_window_bits=10; "
               "client_no_context_takeover; server_no_context_takeover",
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
         "server_max_window_bits=10; client_max_window_bits=11",
         {true, true, 10, 11}},
        {"quoted_value",
         on,
         pmd + "; server_max_window_bits=\"10\"",
         "permessage-deflate; server_max_window_bits=10",
         {false, false, 10, 15}},
        {"unknown_param", on, pmd + "; foo", nullptr},
        {"unknown_param_then_good",
         on,
         pmd + "; foo=1, " + pmd + "; client_no_context_takeover",
         "permessage-deflate; client_no_context_takeover",
         {false, true, 15, 15}},
        {"repeated_flag", on, pmd + "; server_no_context_takeover; server_no_context_takeover",
         nullptr},
        {"repeated_client_bits", on, pmd + "; client_max_window_bits; client_max_window_bits=10",
         nullptr},
        {"repeated_server_bits", on, pmd + "; server_max_window_bits=10; server_max_window_bits=10",
         nullptr},
        {"server_flag_with_value", on, pmd + "; server_no_context_takeover=1", nullptr},
        {"client_flag_with_value", on, pmd + "; client_no_context_takeover=true", nullptr},
        {"server_bits_without_value", on, pmd + "; server_max_window_bits", nullptr},
        {"server_bits_16", on, pmd + "; server_max_window_bits=16", nullptr},
        {"server_bits_7", on, pmd + "; server_max_window_bits=7", nullptr},
        {"server_bits_0", on, pmd + "; server_max_window_bits=0", nullptr},
        {"server_bits_leading_zero", on, pmd + "; server_max_window_bits=09", nullptr},
        {"server_bits_plus", on, pmd + "; server_max_window_bits=+9", nullptr},
        {"server_bits_word", on, pmd + "; server_max_window_bits=ten", nullptr},
        {"client_bits_16", on, pmd + "; client_max_window_bits=16", nullptr},
        {"client_bits_7", on, pmd + "; client_max_window_bits=7", nullptr},
        {"client_bits_leading_zero", on, pmd + "; client_max_window_bits=010", nullptr},
        {"other_extension_first",
         on,
         "x-webkit-deflate-frame; no_context_takeover, " + pmd,
         "permessage-deflate",
         {false, false, 15, 15}},
        {"only_other_extension", on, "x-webkit-deflate-frame", nullptr},
        {"name_case", on, "Permessage-Deflate", nullptr},
        {"param_case", on, pmd + "; Server_No_Context_Takeover", nullptr},
        {"first_acceptable_of_three",
         {.enabled = true, .client_max_window_bits = 10},
         pmd + "; server_max_window_bits=8, " + pmd + "; foo, " + pmd +
             "; server_max_window_bits=12; client_max_window_bits",
         "permessage-deflate; server_max_window_bits=12; client_max_window_bits=10",
         {false, false, 12, 10}},
        {"first_of_two_good",
         on,
         pmd + "; client_no_context_takeover, " + pmd,
         "permessage-deflate; client_no_context_takeover",
         {false, true, 15, 15}},
    };
}

class DeflateNegotiationServer : public ::testing::TestWithParam<offer_case> {};

TEST_P(DeflateNegotiationServer, answers_as_expected) {
    const offer_case& c = GetParam();
    std::vector<extension> offers;
    ASSERT_TRUE(parse_extensions(c.offers, offers));
    std::string answer = "earlier";
    const std::optional<deflate_params> p = deflate_accept(c.cfg, offers, answer);
    if (c.answer == nullptr) {
        EXPECT_FALSE(p.has_value());
        EXPECT_EQ(answer, "earlier") << "unchanged when declined";
        return;
    }
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(answer, "earlier"s + c.answer);
    EXPECT_EQ(*p, c.params);
    // The answer is a valid field value that parses to one extension.
    std::vector<extension> back;
    EXPECT_TRUE(parse_extensions(std::string_view(answer).substr(7), back));
    EXPECT_EQ(back.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(DeflateNegotiation, DeflateNegotiationServer,
                         ::testing::ValuesIn(offer_cases()), case_name<offer_case>);

TEST(DeflateNegotiation, server_disabled_or_invalid_declines) {
    std::vector<extension> offers;
    ASSERT_TRUE(parse_extensions("permessage-deflate", offers));
    std::string answer;
    EXPECT_FALSE(deflate_accept(deflate_config{}, offers, answer));
    deflate_config bad = on;
    bad.server_max_window_bits = 8;
    EXPECT_FALSE(deflate_accept(bad, offers, answer));
    EXPECT_TRUE(answer.empty());
    EXPECT_FALSE(deflate_accept(on, {}, answer)) << "no offer at all";
}

// ---- negotiation: the client's offer ----

TEST(DeflateNegotiation, client_offers) {
    struct {
        deflate_config cfg;
        const char* want;
    } cases[] = {
        {on, "permessage-deflate; client_max_window_bits"},
        {{.enabled = true, .client_max_window_bits = 11},
         "permessage-deflate; client_max_window_bits=11"},
        {{.enabled = true, .server_max_window_bits = 10},
         "permessage-deflate; server_max_window_bits=10; client_max_window_bits"},
        {{.enabled = true, .server_no_context_takeover = true},
         "permessage-deflate; server_no_context_takeover; client_max_window_bits"},
        {{.enabled = true, .client_no_context_takeover = true},
         "permessage-deflate; client_no_context_takeover; client_max_window_bits"},
        {{true, true, true, 9, 12},
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
         "server_max_window_bits=9; client_max_window_bits=12"},
        {{}, ""},
        {{.enabled = true, .server_max_window_bits = 8}, ""},
        {{.enabled = true, .level = 10}, ""},
    };
    for (const auto& c : cases) {
        std::string out;
        append_deflate_offer(out, c.cfg);
        EXPECT_EQ(out, c.want);
        if (!out.empty()) {
            std::vector<extension> parsed;
            EXPECT_TRUE(parse_extensions(out, parsed)) << out;
        }
    }
}

// ---- negotiation: the client's check of the answer ----

struct answer_case {
    const char* name;
    deflate_config cfg;
    std::string answer; // empty: no Sec-WebSocket-Extensions at all
    deflate_answer_error error;
    std::optional<deflate_params> params = std::nullopt;
};

void PrintTo(const answer_case& c, std::ostream* os) {
    *os << c.name;
}

std::vector<answer_case> answer_cases() {
    using e = deflate_answer_error;
    const std::string pmd = "permessage-deflate";
    const deflate_params def{};
    return {
        {"declined", on, "", e::none},
        {"bare", on, pmd, e::none, def},
        {"server_context_added", on, pmd + "; server_no_context_takeover", e::none,
         deflate_params{true, false, 15, 15}},
        {"client_context_added", on, pmd + "; client_no_context_takeover", e::none,
         deflate_params{false, true, 15, 15}},
        {"server_bits_added", on, pmd + "; server_max_window_bits=10", e::none,
         deflate_params{false, false, 10, 15}},
        {"server_bits_8", on, pmd + "; server_max_window_bits=8", e::none,
         deflate_params{false, false, 8, 15}},
        {"client_bits_lowered", on, pmd + "; client_max_window_bits=10", e::none,
         deflate_params{false, false, 15, 10}},
        {"client_bits_15", on, pmd + "; client_max_window_bits=15", e::none, def},
        {"client_bits_9", on, pmd + "; client_max_window_bits=9", e::none,
         deflate_params{false, false, 15, 9}},
        {"client_bits_8", on, pmd + "; client_max_window_bits=8", e::unsupported_window},
        {"client_bits_without_value", on, pmd + "; client_max_window_bits", e::invalid_value},
        {"client_bits_16", on, pmd + "; client_max_window_bits=16", e::invalid_value},
        {"server_bits_16", on, pmd + "; server_max_window_bits=16", e::invalid_value},
        {"server_bits_7", on, pmd + "; server_max_window_bits=7", e::invalid_value},
        {"server_bits_without_value", on, pmd + "; server_max_window_bits", e::invalid_value},
        {"server_bits_leading_zero", on, pmd + "; server_max_window_bits=010", e::invalid_value},
        {"flag_with_value", on, pmd + "; server_no_context_takeover=1", e::invalid_value},
        {"unknown_param", on, pmd + "; foo", e::unknown_param},
        {"repeated_param", on, pmd + "; client_no_context_takeover; client_no_context_takeover",
         e::repeated_param},
        {"twice", on, pmd + ", " + pmd, e::duplicate},
        {"other_extension", on, "x-foo", e::not_offered},
        {"other_extension_after", on, pmd + ", x-foo", e::not_offered},
        {"name_case", on, "Permessage-Deflate", e::not_offered},
        {"not_enabled", {}, pmd, e::not_offered},
        {"asked_server_bits_missing",
         {.enabled = true, .server_max_window_bits = 10},
         pmd,
         e::server_window},
        {"asked_server_bits_larger",
         {.enabled = true, .server_max_window_bits = 10},
         pmd + "; server_max_window_bits=11",
         e::server_window},
        {"asked_server_bits_equal",
         {.enabled = true, .server_max_window_bits = 10},
         pmd + "; server_max_window_bits=10",
         e::none,
         deflate_params{false, false, 10, 15}},
        {"asked_server_bits_smaller",
         {.enabled = true, .server_max_window_bits = 10},
         pmd + "; server_max_window_bits=9",
         e::none,
         deflate_params{false, false, 9, 15}},
        {"asked_server_context_missing",
         {.enabled = true, .server_no_context_takeover = true},
         pmd,
         e::server_context},
        {"asked_server_context_given",
         {.enabled = true, .server_no_context_takeover = true},
         pmd + "; server_no_context_takeover",
         e::none,
         deflate_params{true, false, 15, 15}},
        {"promised_client_bits_answered_higher",
         {.enabled = true, .client_max_window_bits = 11},
         pmd + "; client_max_window_bits=12",
         e::none,
         deflate_params{false, false, 15, 11}},
        {"promised_client_bits_kept",
         {.enabled = true, .client_max_window_bits = 11},
         pmd,
         e::none,
         deflate_params{false, false, 15, 11}},
        {"promised_client_bits_lowered",
         {.enabled = true, .client_max_window_bits = 11},
         pmd + "; client_max_window_bits=9",
         e::none,
         deflate_params{false, false, 15, 9}},
        {"promised_client_context_kept",
         {.enabled = true, .client_no_context_takeover = true},
         pmd,
         e::none,
         deflate_params{false, true, 15, 15}},
    };
}

class DeflateNegotiationClient : public ::testing::TestWithParam<answer_case> {};

TEST_P(DeflateNegotiationClient, checks_as_expected) {
    const answer_case& c = GetParam();
    std::vector<extension> answer;
    if (!c.answer.empty()) {
        ASSERT_TRUE(parse_extensions(c.answer, answer));
    }
    const deflate_answer r = check_deflate_answer(c.cfg, answer);
    EXPECT_EQ(r.error, c.error);
    EXPECT_EQ(r.params, c.params);
}

INSTANTIATE_TEST_SUITE_P(DeflateNegotiation, DeflateNegotiationClient,
                         ::testing::ValuesIn(answer_cases()), case_name<answer_case>);

// A client and a server of every configuration here agree, and each gets
// at least what it asked for.
TEST(DeflateNegotiation, client_and_server_agree) {
    const deflate_config clients[] = {
        on,
        {.enabled = true, .server_no_context_takeover = true},
        {.enabled = true, .client_no_context_takeover = true},
        {.enabled = true, .server_max_window_bits = 10},
        {.enabled = true, .client_max_window_bits = 11},
        {true, true, true, 9, 12},
    };
    const deflate_config servers[] = {
        on,
        {.enabled = true, .server_no_context_takeover = true},
        {.enabled = true, .client_no_context_takeover = true},
        {.enabled = true, .server_max_window_bits = 11},
        {.enabled = true, .client_max_window_bits = 10},
        {true, true, true, 12, 9},
    };
    for (const deflate_config& cc : clients) {
        for (const deflate_config& sc : servers) {
            std::string offer;
            append_deflate_offer(offer, cc);
            std::vector<extension> offers;
            ASSERT_TRUE(parse_extensions(offer, offers));
            std::string answer;
            const std::optional<deflate_params> sp = deflate_accept(sc, offers, answer);
            ASSERT_TRUE(sp.has_value()) << offer;
            std::vector<extension> answered;
            ASSERT_TRUE(parse_extensions(answer, answered));
            const deflate_answer cr = check_deflate_answer(cc, answered);
            ASSERT_EQ(cr.error, deflate_answer_error::none) << offer << " -> " << answer;
            ASSERT_TRUE(cr.params.has_value());
            EXPECT_EQ(*cr.params, *sp) << offer << " -> " << answer;
            const deflate_params& p = *sp;
            EXPECT_LE(p.server_max_window_bits,
                      std::min(cc.server_max_window_bits, sc.server_max_window_bits));
            EXPECT_LE(p.client_max_window_bits,
                      std::min(cc.client_max_window_bits, sc.client_max_window_bits));
            EXPECT_GE(p.server_max_window_bits, 9);
            EXPECT_GE(p.client_max_window_bits, 9);
            EXPECT_EQ(p.server_no_context_takeover,
                      cc.server_no_context_takeover || sc.server_no_context_takeover);
            EXPECT_EQ(p.client_no_context_takeover,
                      cc.client_no_context_takeover || sc.client_no_context_takeover);
        }
    }
}

TEST(DeflateNegotiation, sides_by_role) {
    const deflate_params p{true, false, 10, 12};
    EXPECT_EQ(p.outgoing(role::server), (deflate_side{10, true}));
    EXPECT_EQ(p.incoming(role::server), (deflate_side{12, false}));
    EXPECT_EQ(p.outgoing(role::client), (deflate_side{12, false}));
    EXPECT_EQ(p.incoming(role::client), (deflate_side{10, true}));
}

TEST(DeflateNegotiation, config_validity) {
    EXPECT_TRUE(deflate_config{}.is_valid());
    EXPECT_TRUE(
        (deflate_config{.server_max_window_bits = 9, .client_max_window_bits = 9}.is_valid()));
    EXPECT_TRUE((deflate_config{.level = -1}.is_valid()));
    EXPECT_TRUE((deflate_config{.level = 0, .mem_level = 1}.is_valid()));
    EXPECT_FALSE((deflate_config{.server_max_window_bits = 8}.is_valid()));
    EXPECT_FALSE((deflate_config{.client_max_window_bits = 8}.is_valid()));
    EXPECT_FALSE((deflate_config{.client_max_window_bits = 16}.is_valid()));
    EXPECT_FALSE((deflate_config{.level = 10}.is_valid()));
    EXPECT_FALSE((deflate_config{.level = -2}.is_valid()));
    EXPECT_FALSE((deflate_config{.mem_level = 0}.is_valid()));
    EXPECT_FALSE((deflate_config{.mem_level = 10}.is_valid()));
}

// ---- compression and decompression ----

// Every size, kind, window and context mode, one deflater and inflater
// pair per window and mode carrying its context through all the messages.
TEST(Deflate, round_trips_over_sizes_kinds_and_windows) {
    const std::size_t sizes[] = {0, 1, 125, 126, 65535, 65536, 1u << 20};
    for (int bits = 9; bits <= 15; bits++) {
        for (bool reset : {false, true}) {
            deflater d({bits, reset});
            inflater in({bits, reset}, 2u << 20);
            for (bool repetitive : {false, true}) {
                for (std::size_t n : sizes) {
                    SCOPED_TRACE(::testing::Message()
                                 << "bits " << bits << " reset " << reset << " repetitive "
                                 << repetitive << " size " << n);
                    const std::string m = repetitive ? json_data(n) : random_data(n, unsigned(n));
                    const std::string c = compressed(d, m);
                    EXPECT_EQ(inflated(in, c), m);
                    if (n == 0) {
                        EXPECT_EQ(c, "\x00"s);
                    } else if (repetitive && n >= 126) {
                        EXPECT_LT(c.size(), n);
                        if (n >= 65535) {
                            EXPECT_LT(c.size(), n / 4);
                        }
                    } else if (!repetitive) {
                        EXPECT_LT(c.size(), n + n / 64 + 16) << "random data barely grows";
                    }
                }
            }
        }
    }
}

TEST(Deflate, every_window_from_9_to_15) {
    const std::string messages[] = {json_data(30000), random_data(3000, 7), json_data(30000), ""};
    for (int bits = 9; bits <= 15; bits++) {
        for (bool reset : {false, true}) {
            SCOPED_TRACE(::testing::Message() << "bits " << bits << " reset " << reset);
            deflater d({bits, reset});
            inflater in({bits, reset}, 1u << 20);
            // One output byte per inflate() call: zlib checks every distance
            // against a window of exactly `bits`.
            plain_inflater strict(bits, 1);
            for (const std::string& m : messages) {
                const std::string c = compressed(d, m);
                EXPECT_EQ(inflated(in, c), m);
                if (reset) {
                    plain_inflater fresh(bits, 1);
                    std::string out;
                    EXPECT_TRUE(fresh.message(c, out));
                    EXPECT_EQ(out, m);
                } else {
                    std::string out;
                    EXPECT_TRUE(strict.message(c, out));
                    EXPECT_EQ(out, m);
                }
            }
        }
    }
}

// The strict reference above can fail: data compressed with a 32 KiB
// window, read with a 512-byte one.
TEST(Deflate, strict_reference_catches_a_larger_window) {
    plain_deflater big(15);
    const std::string m = random_data(2000, 3);
    std::string out;
    plain_inflater strict(9, 1);
    EXPECT_TRUE(strict.message(big.message(m), out));
    EXPECT_FALSE(strict.message(big.message(m), out)) << "distance 2000 > 512";
}

TEST(Deflate, levels_and_memory_levels) {
    const std::string m = json_data(50000) + random_data(5000, 11);
    for (int level : {0, 1, 6, 9, -1}) {
        for (int mem : {1, 8, 9}) {
            SCOPED_TRACE(::testing::Message() << "level " << level << " mem " << mem);
            deflater d({15, false}, level, mem);
            inflater in({15, false}, 1u << 20);
            plain_inflater ref(15);
            for (int i = 0; i < 2; i++) {
                const std::string c = compressed(d, m);
                EXPECT_EQ(inflated(in, c), m);
                std::string out;
                EXPECT_TRUE(ref.message(c, out));
                EXPECT_EQ(out, m);
                if (level == 0) {
                    EXPECT_GT(c.size(), m.size()) << "stored blocks";
                }
            }
        }
    }
}

TEST(Deflate, context_takeover_shrinks_a_repeated_message) {
    const std::string m = json_data(4000);
    deflater keep({15, false});
    const std::string first = compressed(keep, m);
    const std::string second = compressed(keep, m);
    EXPECT_LT(second.size() * 10, first.size()) << first.size() << " then " << second.size();
    deflater fresh({15, true});
    EXPECT_EQ(compressed(fresh, m), first);
    EXPECT_EQ(compressed(fresh, m), first) << "no context: the same bytes every time";

    inflater in({15, false}, 1u << 20);
    EXPECT_EQ(inflated(in, first), m);
    EXPECT_EQ(inflated(in, second), m);
    // Without the first message's window the second cannot be read.
    inflater cold({15, false}, 1u << 20);
    inflate_status s = inflate_status::ok;
    inflated(cold, second, &s);
    EXPECT_EQ(s, inflate_status::corrupt);
}

TEST(Deflate, pieces_compress_as_one_message) {
    const std::string m = json_data(9000);
    const std::string_view v(m);
    const std::string_view pieces[] = {v.substr(0, 10), v.substr(10, 0), v.substr(10, 4000),
                                       v.substr(4010)};
    deflater a({15, false}), b({15, false});
    std::string whole, parts;
    ASSERT_TRUE(a.compress(m, whole));
    ASSERT_TRUE(b.compress(pieces, parts));
    EXPECT_EQ(parts, whole);
    std::string none;
    ASSERT_TRUE(b.compress(std::span<const std::string_view>(), none));
    EXPECT_EQ(none, "\x00"s);
    // Appends after what out holds.
    std::string out = "head";
    ASSERT_TRUE(a.compress("Hello", out));
    EXPECT_EQ(out.substr(0, 4), "head");
}

TEST(Deflate, empty_message_is_one_zero_byte) {
    for (bool reset : {false, true}) {
        SCOPED_TRACE(reset);
        deflater d({15, reset});
        plain_inflater ref(15);
        const std::string seq[] = {"", "", "Hello", "", "", "Hello"};
        std::vector<std::string> payloads;
        for (const std::string& m : seq) {
            payloads.push_back(compressed(d, m));
            if (reset) {
                plain_inflater fresh(15);
                std::string out;
                EXPECT_TRUE(fresh.message(payloads.back(), out));
                EXPECT_EQ(out, m);
            } else {
                std::string out;
                EXPECT_TRUE(ref.message(payloads.back(), out));
                EXPECT_EQ(out, m);
            }
        }
        for (int i : {0, 1, 3, 4}) {
            EXPECT_EQ(payloads[i], "\x00"s) << i;
        }
        EXPECT_EQ(hex(payloads[2]), "f2 48 cd c9 c9 07 00");
        // Empty messages between leave the context alone.
        EXPECT_EQ(hex(payloads[5]), reset ? "f2 48 cd c9 c9 07 00" : "f2 00 11 00 00");
        inflater in({15, reset}, 100);
        for (std::size_t i = 0; i < payloads.size(); i++) {
            EXPECT_EQ(inflated(in, payloads[i]), seq[i]);
        }
    }
}

// ---- interop with plain zlib ----

TEST(Deflate, our_output_inflates_with_plain_zlib) {
    const std::string messages[] = {json_data(20000), "",  random_data(700, 5),
                                    json_data(20000), "x", json_data(100000)};
    for (bool reset : {false, true}) {
        SCOPED_TRACE(reset);
        deflater d({15, reset});
        plain_inflater stream(15);
        for (const std::string& m : messages) {
            const std::string c = compressed(d, m);
            std::string out;
            if (reset) {
                plain_inflater fresh(15);
                EXPECT_TRUE(fresh.message(c, out));
            } else {
                EXPECT_TRUE(stream.message(c, out));
            }
            EXPECT_EQ(out, m);
        }
    }
}

TEST(Deflate, plain_zlib_output_inflates_with_ours) {
    const std::string messages[] = {
        json_data(20000), "", "", random_data(700, 5), json_data(20000), "x", json_data(100000)};
    struct {
        int bits, level, strategy;
    } kinds[] = {{15, 6, Z_DEFAULT_STRATEGY},
                 {15, 0, Z_DEFAULT_STRATEGY},
                 {15, 9, Z_DEFAULT_STRATEGY},
                 {15, 6, Z_HUFFMAN_ONLY},
                 {15, 6, Z_RLE},
                 {15, 6, Z_FIXED},
                 {9, 6, Z_DEFAULT_STRATEGY},
                 {12, 1, Z_DEFAULT_STRATEGY}};
    for (const auto& k : kinds) {
        SCOPED_TRACE(::testing::Message() << k.bits << " " << k.level << " " << k.strategy);
        plain_deflater z(k.bits, k.level, k.strategy);
        inflater in({k.bits, false}, 1u << 20);
        for (const std::string& m : messages) {
            EXPECT_EQ(inflated(in, z.message(m)), m);
        }
    }
}

// RFC 7692 section 7.2.3.3: a compressor may end each message with a
// final block, followed by one byte of empty stored-block header.
TEST(Deflate, final_block_then_a_new_stream) {
    inflater in({15, false}, 1u << 20);
    const std::string m = json_data(5000);
    plain_deflater z(15);
    std::string c = z.message(m, Z_FINISH);
    c.push_back('\0');
    EXPECT_EQ(inflated(in, c), m);
    // The window survives the end of the stream: a match into it decodes.
    EXPECT_EQ(inflated(in, bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00})), "Hello");
    EXPECT_EQ(inflated(in, bytes({0xf2, 0x00, 0x11, 0x00, 0x00})), "Hello");
    // A final stored block whose end is the tail itself.
    EXPECT_EQ(inflated(in, bytes({0x01})), "");
    EXPECT_EQ(inflated(in, bytes({0xf2, 0x00, 0x11, 0x00, 0x00})), "Hello");
}

// ---- RFC 7692 section 7.2.3 ----

TEST(Deflate, rfc7692_hello_compresses_as_in_the_examples) {
    deflater keep({15, false});
    EXPECT_EQ(hex(compressed(keep, "Hello")), "f2 48 cd c9 c9 07 00");
    EXPECT_EQ(hex(compressed(keep, "Hello")), "f2 00 11 00 00");
    deflater fresh({15, true});
    EXPECT_EQ(hex(compressed(fresh, "Hello")), "f2 48 cd c9 c9 07 00");
    EXPECT_EQ(hex(compressed(fresh, "Hello")), "f2 48 cd c9 c9 07 00");
}

TEST(Deflate, rfc7692_examples_inflate) {
    inflater in({15, false}, 1000);
    // 7.2.3.1: "Hello", then again with the first in the window.
    EXPECT_EQ(inflated(in, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})), "Hello");
    EXPECT_EQ(inflated(in, bytes({0xf2, 0x00, 0x11, 0x00, 0x00})), "Hello");
    // 7.2.3.2: the first message in two fragments.
    std::string out;
    EXPECT_EQ(in.feed(bytes({0xf2, 0x48, 0xcd}), false, out), inflate_status::ok);
    EXPECT_EQ(in.feed(bytes({0xc9, 0xc9, 0x07, 0x00}), true, out), inflate_status::ok);
    EXPECT_EQ(out, "Hello");
    // 7.2.3.3: a final block, then a byte of empty stored-block header.
    EXPECT_EQ(inflated(in, bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00})), "Hello");
    // 7.2.3.4: a stored block.
    EXPECT_EQ(
        inflated(in, bytes({0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00})),
        "Hello");
    // 7.2.3.5: two blocks in one message.
    EXPECT_EQ(inflated(in, bytes({0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9,
                                  0x07, 0x00})),
              "Hello");
    // 7.2.3.6: a message flushed after its data, ended by a fragment that
    // is one byte of empty stored-block header.
    out.clear();
    EXPECT_EQ(in.feed(bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00, 0x00, 0xff, 0xff}),
                      false, out),
              inflate_status::ok);
    EXPECT_EQ(in.feed(bytes({0x00}), true, out), inflate_status::ok);
    EXPECT_EQ(out, "Hello");
    // The window still ends with "Hello".
    EXPECT_EQ(inflated(in, bytes({0xf2, 0x00, 0x11, 0x00, 0x00})), "Hello");
}

// Other empty messages: a fixed block holding only its end code, and
// frames with no bytes around the one that has them.
TEST(Deflate, other_forms_of_empty_and_split_messages) {
    inflater in({15, false}, 100);
    EXPECT_EQ(inflated(in, bytes({0x02, 0x00})), "");
    std::string out;
    EXPECT_EQ(in.feed({}, false, out), inflate_status::ok);
    EXPECT_EQ(in.feed(bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), false, out),
              inflate_status::ok);
    EXPECT_EQ(in.feed({}, true, out), inflate_status::ok);
    EXPECT_EQ(out, "Hello");
    EXPECT_EQ(inflated(in, bytes({0xf2, 0x00, 0x11, 0x00, 0x00})), "Hello");
}

// A peer may compress with a 256-byte window (the server's, when a client
// asked for server_max_window_bits=8); zlib inflates with it.
TEST(Deflate, window_8_inflates) {
    inflater in({8, false}, 1u << 20);
    EXPECT_EQ(inflated(in, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})), "Hello");
    EXPECT_EQ(inflated(in, bytes({0xf2, 0x00, 0x11, 0x00, 0x00})), "Hello");
    // zlib's deflate never reaches back further than its window less 262
    // bytes (MAX_DIST in zlib's deflate.h), so what it compresses with 9
    // bits reads with 8: a peer on zlib that promised 8 and used 9 works.
    deflater d({9, false});
    const std::string m = json_data(20000);
    EXPECT_EQ(inflated(in, compressed(d, m)), m);
    EXPECT_EQ(inflated(in, compressed(d, m)), m);
}

// ---- splits ----

// Every message split in two at every offset, and byte by byte, gives the
// same output, and leaves the inflater ready for the next message.
TEST(Deflate, every_split_gives_the_same_output) {
    const std::string messages[] = {json_data(700), random_data(200, 9), json_data(700), "",
                                    "Hello"};
    deflater d({15, false});
    std::vector<std::string> payloads;
    for (const std::string& m : messages) {
        payloads.push_back(compressed(d, m));
    }
    const std::size_t count = payloads.size();
    for (std::size_t k = 0; k + 1 < count; k++) {
        const std::string& p = payloads[k];
        for (std::size_t at = 0; at <= p.size(); at++) {
            inflater in({15, false}, 1u << 20);
            for (std::size_t j = 0; j < k; j++) {
                ASSERT_EQ(inflated(in, payloads[j]), messages[j]);
            }
            std::string out;
            ASSERT_EQ(in.feed(std::string_view(p).substr(0, at), false, out), inflate_status::ok);
            ASSERT_EQ(in.feed(std::string_view(p).substr(at), true, out), inflate_status::ok);
            ASSERT_EQ(out, messages[k]) << "message " << k << " split at " << at;
            ASSERT_EQ(inflated(in, payloads[k + 1]), messages[k + 1]);
        }
        inflater in({15, false}, 1u << 20);
        for (std::size_t j = 0; j < k; j++) {
            ASSERT_EQ(inflated(in, payloads[j]), messages[j]);
        }
        std::string out;
        for (char c : p) {
            ASSERT_EQ(in.feed(std::string_view(&c, 1), false, out), inflate_status::ok);
        }
        ASSERT_EQ(in.feed({}, true, out), inflate_status::ok);
        EXPECT_EQ(out, messages[k]) << "message " << k << " byte by byte";
        EXPECT_EQ(inflated(in, payloads[k + 1]), messages[k + 1]);
    }
}

// ---- limits ----

TEST(Deflate, bomb_is_cut_off_at_the_limit) {
    const std::size_t limit = 1u << 20;
    deflater d({15, true});
    const std::string bomb = compressed(d, std::string(64u << 20, '\0'));
    EXPECT_LT(bomb.size(), 100u << 10) << "64 MiB of zeros compress to tens of KiB";

    // Whole: cut off after limit + 1 bytes of output.
    inflater in({15, false}, limit);
    std::string out;
    const auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(in.feed(bomb, true, out), inflate_status::too_big);
    const auto took = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(out.size(), limit + 1);
    EXPECT_EQ(in.message_size(), limit + 1);
    EXPECT_LT(took, std::chrono::milliseconds(500));
    EXPECT_EQ(close_code(inflate_status::too_big), close_too_big);
    // Sticky, and nothing more comes out.
    EXPECT_EQ(in.feed(bomb, true, out), inflate_status::too_big);
    EXPECT_EQ(out.size(), limit + 1);
    EXPECT_EQ(in.memory(), 0u) << "the zlib state is freed on failure";

    // In 256-byte frames: fails within the first 1/32 of the input (1 MiB
    // of 64 MiB is 1/64 of it), so the rest is never inflated.
    inflater framed({15, false}, limit);
    out.clear();
    std::size_t fed = 0;
    inflate_status s = inflate_status::ok;
    while (s == inflate_status::ok && fed < bomb.size()) {
        const std::string_view frame = std::string_view(bomb).substr(fed, 256);
        fed += frame.size();
        s = framed.feed(frame, fed == bomb.size(), out);
    }
    EXPECT_EQ(s, inflate_status::too_big);
    EXPECT_LT(fed, bomb.size() / 32);
    EXPECT_EQ(out.size(), limit + 1);
}

TEST(Deflate, limit_is_exact) {
    const std::string m = json_data(10000);
    deflater d({15, true});
    const std::string c = compressed(d, m);
    inflater fits({15, false}, 10000);
    EXPECT_EQ(inflated(fits, c), m);
    EXPECT_EQ(inflated(fits, compressed(d, m)), m) << "the count restarts per message";
    inflater over({15, false}, 9999);
    inflate_status s = inflate_status::ok;
    EXPECT_EQ(inflated(over, c, &s).size(), 10000u);
    EXPECT_EQ(s, inflate_status::too_big);

    inflater zero({15, false}, 0);
    EXPECT_EQ(inflated(zero, compressed(d, "")), "");
    inflated(zero, compressed(d, "x"), &s);
    EXPECT_EQ(s, inflate_status::too_big);
}

// ---- corrupt input ----

TEST(Deflate, corrupt_input_is_an_error) {
    deflater d({15, true});
    const std::string good = compressed(d, json_data(3000));
    const std::string cases[] = {
        bytes({0xff, 0xff, 0xff, 0xff}),                         // block type 3
        bytes({0x00, 0x05, 0x00, 0x00, 0x00, 0x48, 0x65, 0x00}), // stored, bad NLEN
        bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07}),             // "Hello" without its last byte
        good.substr(0, good.size() / 2),                         // cut in the middle
        bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07}),             // final block, no padding byte
        bytes({0xf2, 0x00, 0x11, 0x00, 0x00}),                   // a match before any output
    };
    for (const std::string& c : cases) {
        SCOPED_TRACE(hex(c.substr(0, 16)));
        inflater in({15, false}, 1u << 20);
        inflate_status s = inflate_status::ok;
        inflated(in, c, &s);
        EXPECT_EQ(s, inflate_status::corrupt);
        EXPECT_EQ(in.memory(), 0u);
        // Sticky: a good message is refused too, until release().
        inflated(in, good, &s);
        EXPECT_EQ(s, inflate_status::corrupt);
        in.release();
        EXPECT_EQ(inflated(in, good), json_data(3000));
    }
    EXPECT_EQ(close_code(inflate_status::corrupt), close_invalid_data);
    EXPECT_EQ(close_code(inflate_status::ok), 0);
    EXPECT_EQ(close_code(inflate_status::no_memory), close_internal_error);
}

// A peer that promised a 512-byte window and reaches further back fails.
TEST(Deflate, distance_beyond_the_negotiated_window_is_corrupt) {
    const std::string m = random_data(4096, 21);
    deflater wide({15, false});
    inflater narrow({9, false}, 1u << 20);
    EXPECT_EQ(inflated(narrow, compressed(wide, m)), m);
    inflate_status s = inflate_status::ok;
    inflated(narrow, compressed(wide, m), &s);
    EXPECT_EQ(s, inflate_status::corrupt);
}

TEST(Deflate, garbage_never_crashes) {
    std::mt19937 gen(1234);
    deflater d({15, false});
    const std::string good = compressed(d, json_data(2000));
    int ok = 0, corrupt = 0;
    for (int i = 0; i < 3000; i++) {
        std::string in = random_data(gen() % 300, gen());
        if (i % 3 == 0) {
            in = good + in; // valid start, garbage after
        } else if (i % 3 == 1) {
            in = good;
            in[gen() % in.size()] ^= char(1u << (gen() % 8)); // one bit flipped
        }
        inflater inf({15, false}, 4096);
        std::string out;
        inflate_status s = inflate_status::ok;
        std::size_t at = 0;
        while (s == inflate_status::ok && at < in.size()) {
            const std::size_t n = 1 + gen() % 64;
            const std::string_view piece = std::string_view(in).substr(at, n);
            at += piece.size();
            s = inf.feed(piece, at == in.size(), out);
        }
        ASSERT_NE(s, inflate_status::no_memory);
        EXPECT_LE(out.size(), 4097u);
        ok += s == inflate_status::ok;
        corrupt += s == inflate_status::corrupt;
    }
    EXPECT_GT(corrupt, 1000) << "most garbage is refused (" << ok << " passed)";
}

// ---- leniency ----

TEST(Deflate, empty_payload_is_an_empty_message) {
    inflater in({15, false}, 100);
    EXPECT_EQ(inflated(in, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})), "Hello");
    EXPECT_EQ(inflated(in, ""), "");
    std::string out;
    EXPECT_EQ(in.feed({}, false, out), inflate_status::ok);
    EXPECT_EQ(in.feed({}, true, out), inflate_status::ok);
    EXPECT_EQ(out, "");
    EXPECT_EQ(inflated(in, bytes({0xf2, 0x00, 0x11, 0x00, 0x00})), "Hello")
        << "the context is untouched";
    inflater idle({15, true}, 100);
    EXPECT_EQ(inflated(idle, ""), "");
    EXPECT_EQ(idle.memory(), 0u) << "zlib never started";
}

// ---- memory ----

TEST(Deflate, memory_is_held_only_when_needed) {
    const std::string m = json_data(50000);

    deflater reset({15, true});
    EXPECT_EQ(reset.memory(), 0u);
    compressed(reset, m);
    EXPECT_EQ(reset.memory(), 0u) << "freed after each message";

    deflater keep({15, false});
    EXPECT_EQ(keep.memory(), 0u) << "nothing before the first message";
    compressed(keep, m);
    // zconf.h: (1 << (windowBits+2)) + (1 << (memLevel+9)), plus the state.
    EXPECT_GT(keep.memory(), (1u << 17) + (1u << 17));
    EXPECT_LT(keep.memory(), (1u << 17) + (1u << 17) + (16u << 10));
    keep.release();
    EXPECT_EQ(keep.memory(), 0u);

    deflater small({9, false}, 6, 1);
    compressed(small, m);
    EXPECT_GT(small.memory(), (1u << 11) + (1u << 10));
    EXPECT_LT(small.memory(), 16u << 10);

    deflater d({15, true});
    const std::string c = compressed(d, m);
    inflater idle({15, true}, 1u << 20);
    EXPECT_EQ(idle.memory(), 0u);
    std::string out;
    ASSERT_EQ(idle.feed(std::string_view(c).substr(0, c.size() / 2), false, out),
              inflate_status::ok);
    const std::size_t during = idle.memory();
    EXPECT_GT(during, 1u << 15) << "state and window while a message is read";
    ASSERT_EQ(idle.feed(std::string_view(c).substr(c.size() / 2), true, out), inflate_status::ok);
    EXPECT_EQ(out, m);
    EXPECT_EQ(idle.memory(), 0u) << "freed at the end of the message";

    inflater held({15, false}, 1u << 20);
    EXPECT_EQ(inflated(held, c), m);
    EXPECT_GT(held.memory(), 1u << 15);
    EXPECT_LT(held.memory(), (1u << 15) + (16u << 10));
    held.release();
    EXPECT_EQ(held.memory(), 0u);

    inflater narrow({9, false}, 1u << 20);
    deflater d9({9, true});
    EXPECT_EQ(inflated(narrow, compressed(d9, m)), m);
    EXPECT_GT(narrow.memory(), 1u << 9);
    EXPECT_LT(narrow.memory(), 12u << 10);
}

TEST(Deflate, moved_objects_keep_their_context) {
    deflater a({15, false});
    inflater x({15, false}, 100);
    EXPECT_EQ(inflated(x, compressed(a, "Hello")), "Hello");
    deflater b = std::move(a);
    inflater y = std::move(x);
    const std::string second = compressed(b, "Hello");
    EXPECT_EQ(hex(second), "f2 00 11 00 00");
    EXPECT_EQ(inflated(y, second), "Hello");
    a = std::move(b);
    x = std::move(y);
    EXPECT_EQ(inflated(x, compressed(a, "Hello")), "Hello");
}

} // namespace
