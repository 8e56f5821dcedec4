// bench/ws/json_payload.h: wsload's text payload (--payload json): a JSON
// document of an exact size, the kind of message a WebSocket API sends, so
// that permessage-deflate meets realistic data rather than random bytes.
//
// The document is an object holding an array of event records with the same
// keys in each, short strings drawn from small vocabularies (so they repeat),
// numbers that vary, and a closing "note" string whose length makes the
// size exact:
//
//   {"records":[{"id":482113,"user":"user_0412","event":"add_to_cart",
//    "path":"/catalog/item/4821","ts":1714567890123,"value":47.25,"ok":true,
//    "tags":["sale","eu"]},...],"note":"returning visitor from ..."}
//
// It is deterministic from its seed.  json_vary rewrites each record's
// "ts" and "value" in place (same widths, so the size does not change): a
// connection that sends a varied copy of the document for every message
// never repeats one exactly, and a compressor keeping its window from
// message to message still has to encode every changed number.
#ifndef BENCH_WS_JSON_PAYLOAD_H
#define BENCH_WS_JSON_PAYLOAD_H

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace wsb {

struct json_doc {
    std::vector<uint8_t> text;
    // For each record, the offset of its 13-digit "ts" value and that of
    // its 5-character "value" (dd.dd), one after the other.
    std::vector<uint32_t> fields;
};

inline uint64_t json_rand(uint64_t& s) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
}

// The smallest size json_make can fill: a string of two quotes.
constexpr std::size_t json_min_size = 2;

// A document of exactly size bytes (at least json_min_size).  Below the
// size of an object with an empty array it is a JSON string of letters.
inline json_doc json_make(std::size_t size, uint64_t seed) {
    static const char* const events[] = {"page_view", "click", "search", "add_to_cart",
                                         "purchase",  "login", "logout", "share"};
    static const char* const sections[] = {"catalog", "account", "search", "cart", "help", "blog"};
    static const char* const tags[] = {"new", "sale", "mobile", "desktop", "returning", "eu",
                                       "us",  "beta", "vip",    "trial",   "promo",     "organic"};
    static const char* const words[] = {"returning", "visitor", "from", "the",   "spring",
                                        "campaign",  "checked", "out",  "after", "browsing",
                                        "several",   "items",   "in",   "stock"};
    static const char head[] = "{\"records\":[";
    static const char mid[] = "],\"note\":\"";
    static const char end[] = "\"}";
    const std::size_t frame = sizeof head - 1 + sizeof mid - 1 + sizeof end - 1;

    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
    if (s == 0) {
        s = 1;
    }
    json_doc doc;
    std::string out;

    auto pick = [&s](std::size_t n) { return static_cast<std::size_t>(json_rand(s) % n); };
    if (size < frame) {
        out = "\"";
        while (out.size() + 1 < size) {
            out += static_cast<char>('a' + pick(26));
        }
        out += "\"";
    } else {
        out = head;
        uint64_t ts = 1714500000000ull + json_rand(s) % 86400000ull;
        bool first = true;
        for (;;) {
            char rec[320];
            std::string tag_list;
            std::size_t ntags = 1 + pick(3);
            for (std::size_t k = 0; k < ntags; k++) {
                tag_list += k ? ",\"" : "\"";
                tag_list += tags[pick(sizeof tags / sizeof tags[0])];
                tag_list += "\"";
            }
            ts += 1 + json_rand(s) % 2000;
            int n = std::snprintf(
                rec, sizeof rec,
                "{\"id\":%u,\"user\":\"user_%04u\",\"event\":\"%s\",\"path\":\"/%s/item/%u\","
                "\"ts\":%013llu,\"value\":%02u.%02u,\"ok\":%s,\"tags\":[%s]}",
                static_cast<unsigned>(100000 + pick(900000)), static_cast<unsigned>(pick(2000)),
                events[pick(sizeof events / sizeof events[0])],
                sections[pick(sizeof sections / sizeof sections[0])],
                static_cast<unsigned>(pick(10000)), static_cast<unsigned long long>(ts),
                static_cast<unsigned>(10 + pick(90)), static_cast<unsigned>(pick(100)),
                pick(4) != 0 ? "true" : "false", tag_list.c_str());
            std::string r(rec, static_cast<std::size_t>(n));
            std::size_t need = r.size() + (first ? 0 : 1);
            if (out.size() + need + sizeof mid - 1 + sizeof end - 1 > size) {
                break;
            }
            if (!first) {
                out += ',';
            }
            first = false;
            doc.fields.push_back(static_cast<uint32_t>(out.size() + r.find("\"ts\":") + 5));
            doc.fields.push_back(static_cast<uint32_t>(out.size() + r.find("\"value\":") + 8));
            out += r;
        }
        out += mid;
        std::size_t room = size - out.size() - (sizeof end - 1);
        std::string note;
        while (note.size() < room) {
            if (!note.empty()) {
                note += ' ';
            }
            note += words[pick(sizeof words / sizeof words[0])];
        }
        note.resize(room);
        if (!note.empty() && note.back() == ' ') {
            note.back() = '.';
        }
        out += note;
        out += end;
    }
    doc.text.assign(out.begin(), out.end());
    return doc;
}

// Rewrites the varying fields of a copy of doc's text for one message: the
// last six digits of each "ts" and the whole "value".  rng is the caller's
// state, n the message's number on its connection.
inline void json_vary(uint8_t* text, const std::vector<uint32_t>& fields, uint64_t n,
                      uint64_t& rng) {
    for (std::size_t i = 0; i + 1 < fields.size(); i += 2) {
        uint64_t r = json_rand(rng);
        uint64_t low = (n * 1000 + i * 3 + (r & 0x3ff)) % 1000000;
        uint8_t* ts = text + fields[i] + 7;
        for (int k = 5; k >= 0; k--) {
            ts[k] = static_cast<uint8_t>('0' + low % 10);
            low /= 10;
        }
        uint8_t* v = text + fields[i + 1];
        unsigned whole = 10 + static_cast<unsigned>((r >> 16) % 90);
        unsigned cents = static_cast<unsigned>((r >> 32) % 100);
        v[0] = static_cast<uint8_t>('0' + whole / 10);
        v[1] = static_cast<uint8_t>('0' + whole % 10);
        v[3] = static_cast<uint8_t>('0' + cents / 10);
        v[4] = static_cast<uint8_t>('0' + cents % 10);
    }
}

} // namespace wsb

#endif
