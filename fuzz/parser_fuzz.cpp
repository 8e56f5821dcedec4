// libFuzzer target for the HTTP head parser, the chunk decoder and the
// serializer.
//
// Input: byte 0 picks the mode (request, response, response to HEAD,
// chunked body) and the leniency; byte 1 picks a split point; the rest is
// the message.  Invariants checked (any failure aborts):
//  * parsing in two pieces gives the same outcome as parsing whole;
//  * a head the parser accepts, once serialized, parses to an equal head
//    and the serialized bytes are consumed exactly;
//  * decoding a chunked body in two pieces gives the same outcome as
//    decoding it whole; an accepted body re-encoded with the serializer's
//    chunk framing (chunks cut at sizes drawn from the input) decodes to
//    the same bytes and trailers.
#include "http/parser.hpp"
#include "http/serializer.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace nnghttp::detail::http;

namespace {

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

struct head_copy {
    parse_result r;
    std::string method, target, version, reason;
    int status = 0, minor = 0;
    std::vector<std::pair<std::string, std::string>> fields;
    body_kind body = body_kind::none;
    std::int64_t cl = -1;

    bool same_head(const head_copy& o) const {
        return method == o.method && target == o.target && version == o.version &&
               reason == o.reason && status == o.status && minor == o.minor && fields == o.fields &&
               body == o.body && cl == o.cl;
    }
    bool operator==(const head_copy& o) const {
        return r.status == o.r.status && r.length == o.r.length && r.error == o.r.error &&
               same_head(o);
    }
};

head_copy copy_out(const head_parser& p, parse_result r) {
    head_copy c;
    c.r = r;
    if (r.status == parse_status::complete) {
        const message_head& h = p.head();
        c.method = h.method;
        c.target = h.target;
        c.version = h.version;
        c.reason = h.reason;
        c.status = h.status;
        c.minor = h.version_minor;
        for (const auto& f : h.fields) {
            c.fields.emplace_back(f.name, f.value);
        }
        c.body = h.body;
        c.cl = h.content_length;
    }
    return c;
}

parser_options small_limits(bool lenient) {
    parser_options o;
    o.max_start_line = 256;
    o.max_field_line = 256;
    o.max_head = 2048;
    o.max_fields = 16;
    o.allow_bare_lf = lenient;
    return o;
}

head_copy parse_head(message_kind kind, bool head_req, const parser_options& opts,
                     std::string_view in, std::size_t split) {
    head_parser p(kind, opts);
    p.set_head_request(head_req);
    if (split > 0 && split < in.size()) {
        std::string first(in.substr(0, split)); // its own allocation
        parse_result r = p.parse(first);
        if (r.status != parse_status::need_more) {
            return copy_out(p, r);
        }
    }
    return copy_out(p, p.parse(in));
}

void fuzz_head(message_kind kind, bool head_req, bool lenient, std::string_view in,
               std::size_t split) {
    const parser_options opts = small_limits(lenient);
    head_copy whole = parse_head(kind, head_req, opts, in, 0);
    check(parse_head(kind, head_req, opts, in, split) == whole);
    if (whole.r.status != parse_status::complete) {
        return;
    }
    check(whole.r.length <= in.size());
    // Serialize and parse again, with roomy limits: the serialized head may
    // be a little longer than the input ("a:b" becomes "a: b", a bare LF a
    // CRLF), and it always uses CRLF.
    std::vector<header_field> fields;
    for (const auto& f : whole.fields) {
        fields.push_back({f.first, f.second});
    }
    std::string out;
    if (kind == message_kind::request) {
        append_request_head(out, whole.method, whole.target, whole.version, fields);
        check(out.size() == request_head_size(whole.method, whole.target, whole.version, fields));
    } else {
        append_response_head(out, whole.version, whole.status, whole.reason, fields);
        check(out.size() == response_head_size(whole.version, whole.status, whole.reason, fields));
    }
    parser_options strict;
    strict.max_start_line = strict.max_field_line = strict.max_head = 1 << 20;
    strict.max_fields = opts.max_fields;
    head_parser p2(kind, strict);
    p2.set_head_request(head_req);
    head_copy again = copy_out(p2, p2.parse(out));
    check(again.r.status == parse_status::complete);
    check(again.r.length == out.size());
    check(again.same_head(whole));
}

struct chunk_copy {
    chunk_status status = chunk_status::need_more;
    parse_error error = parse_error::none;
    std::string data;
    std::size_t consumed = 0;
    std::vector<std::pair<std::string, std::string>> trailers;
    bool operator==(const chunk_copy&) const = default;
};

chunk_copy decode(const chunk_options& opts, std::string_view in, std::size_t split) {
    chunk_decoder d(opts);
    chunk_copy c;
    std::string pending;
    std::size_t fed = 0;
    auto run = [&](std::size_t upto) {
        pending.append(in.substr(fed, upto - fed));
        fed = upto;
        for (;;) {
            chunk_result r = d.decode(pending);
            check(r.consumed <= pending.size());
            c.consumed += r.consumed;
            if (r.status == chunk_status::data) {
                check(!r.data.empty());
                check(r.data.data() >= pending.data() &&
                      r.data.data() + r.data.size() <= pending.data() + r.consumed);
                c.data.append(r.data);
            }
            pending.erase(0, r.consumed);
            if (r.status != chunk_status::data) {
                c.status = r.status;
                c.error = r.error;
                return r.status != chunk_status::need_more;
            }
        }
    };
    if (split > 0 && split < in.size()) {
        run(split);
    }
    if (c.status == chunk_status::need_more) {
        run(in.size());
    }
    if (c.status == chunk_status::error) {
        c.consumed = 0;
    }
    for (const auto& t : d.trailers()) {
        c.trailers.emplace_back(t.name, t.value);
    }
    check(c.status != chunk_status::done || d.body_size() == c.data.size());
    return c;
}

void fuzz_chunks(bool lenient, std::string_view in, std::size_t split, std::uint8_t cut) {
    chunk_options opts;
    opts.max_chunk_line = 128;
    opts.max_trailer = 1024;
    opts.max_trailer_fields = 8;
    opts.keep_trailers = true;
    opts.allow_bare_lf = lenient;
    chunk_copy whole = decode(opts, in, 0);
    check(decode(opts, in, split) == whole);
    if (whole.status != chunk_status::done) {
        return;
    }
    check(whole.consumed <= in.size());
    std::string wire;
    std::size_t step = std::size_t(cut % 64) + 1;
    for (std::size_t i = 0; i < whole.data.size(); i += step) {
        append_chunk(wire, std::string_view(whole.data).substr(i, step));
    }
    std::vector<header_field> trailers;
    for (const auto& t : whole.trailers) {
        trailers.push_back({t.first, t.second});
    }
    append_last_chunk(wire, trailers);
    opts.allow_bare_lf = false;
    opts.max_trailer *= 2; // bare LFs may have become CRLFs
    chunk_copy again = decode(opts, wire, wire.size() / 2);
    check(again.status == chunk_status::done);
    check(again.consumed == wire.size());
    check(again.data == whole.data);
    check(again.trailers == whole.trailers);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) {
        return 0;
    }
    const std::uint8_t mode = data[0];
    const bool lenient = (mode & 4) != 0;
    std::string_view in(reinterpret_cast<const char*>(data + 2), size - 2);
    const std::size_t split = in.empty() ? 0 : data[1] * in.size() / 256;
    switch (mode & 3) {
    case 0:
        fuzz_head(message_kind::request, false, lenient, in, split);
        break;
    case 1:
        fuzz_head(message_kind::response, false, lenient, in, split);
        break;
    case 2:
        fuzz_head(message_kind::response, true, lenient, in, split);
        break;
    default:
        fuzz_chunks(lenient, in, split, data[1]);
        break;
    }
    return 0;
}
