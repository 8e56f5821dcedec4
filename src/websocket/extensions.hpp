// Sec-WebSocket-Extensions values (RFC 6455 section 9.1), parsed into
// extension names and parameters for the negotiation of extensions such as
// permessage-deflate (RFC 7692), and written back for the answer.  Pure
// string work.
//
// Grammar, with optional spaces and tabs around every ',', ';' and '=':
//   list      = element *( "," element ), empty elements skipped, at least
//               one extension in all
//   extension = token *( ";" param )
//   param     = token [ "=" ( token / quoted-string ) ]
// A quoted value is unescaped ("\x" stands for x) and must then be a token
// (section 9.1), so "\"15\"" is the value 15 and "\"a b\"" is malformed.
// Section 9.1 says a malformed value fails the connection: parsing is all
// or nothing.  What the parameters mean (and whether one may repeat) is
// each extension's business.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nnghttp::detail::ws {

struct extension_param {
    std::string_view name; // a view into the parsed value
    std::string value;     // unescaped; empty if there was no "="
    bool has_value = false;

    friend bool operator==(const extension_param&, const extension_param&) = default;
};

struct extension {
    std::string_view name; // a view into the parsed value
    std::vector<extension_param> params;

    friend bool operator==(const extension&, const extension&) = default;
};

// Appends the extensions of one Sec-WebSocket-Extensions field line to out
// (a request may carry several lines; the offers keep their order).  False
// if the value is malformed; out is then unchanged.  The names are views
// into value.
bool parse_extensions(std::string_view value, std::vector<extension>& out);

// Appends exts as a field value: "name; param=value, name2".  Values are
// written as tokens (every parsed value is one).
void append_extensions(std::string& out, std::span<const extension> exts);

} // namespace nnghttp::detail::ws
