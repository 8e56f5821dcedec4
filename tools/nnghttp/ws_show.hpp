// How `nnghttp ws` shows a received message: always on one line of its
// own, and never with bytes a terminal would obey.
//
//   a text message            as it is              hello, wörld
//   a text message with a     "[text] ", escaped    [text] two\nlines
//   control character, or
//   one that starts with a
//   marker ("[text] ", "[binary ")
//   a binary message          "[binary N]", hex     [binary 3] 00ff41
//
// Escapes: \\ \n \r \t, \xHH for the other C0 controls and DEL, \u00HH
// for the C1 controls (U+0080 to U+009F, which some terminals obey too).
// A tab alone does not make a message escaped.  An empty binary message
// is "[binary 0]".
#pragma once

#include <string>
#include <string_view>

namespace tool {

// The line (without its newline) that shows a message.  A text message is
// valid UTF-8 (the library checks it on receipt).
std::string shown_message(std::string_view data, bool text);

// text with the escapes above (for a close reason on stderr).
std::string escaped(std::string_view text);

// Whether s is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), as a text message must be.
bool valid_utf8(std::string_view s);

} // namespace tool
