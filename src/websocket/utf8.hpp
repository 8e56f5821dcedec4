// Incremental UTF-8 validation (RFC 3629; the well-formed sequences of
// Unicode's Table 3-7), for text messages (close code 1007) and close
// reasons.
//
// A text message arrives in fragments, and each fragment in pieces, so the
// validator carries its state from one call to the next: a character may be
// split anywhere.  It fails on the first byte that no valid text could hold
// at that place, without waiting for the rest of the character:
//   * C0, C1 and F5-FF anywhere, and a continuation byte (80-BF) where a
//     character should start;
//   * E0 followed by 80-9F (an overlong 3-byte form), F0 followed by 80-8F
//     (an overlong 4-byte form), ED followed by A0-BF (a surrogate,
//     U+D800-DFFF), F4 followed by 90-BF (above U+10FFFF);
//   * a byte outside 80-BF where a continuation byte is due.
// A character cut short by the end of the text is caught by complete(),
// which the caller asks at the end of a message.  Noncharacters (U+FFFE,
// U+FFFF, U+FDD0-FDEF, ...) are valid UTF-8 and are accepted.
//
// Between characters, ASCII is skipped eight bytes at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace nnghttp::detail::ws {

class utf8_validator {
  public:
    // Checks the next bytes of the text.  Returns s.size() if they keep it
    // valid (a character may still be open at the end); otherwise the index
    // in s of the first byte that makes it invalid.  Once failed, the
    // validator stays failed and returns 0 for any later bytes, until
    // reset().
    [[nodiscard]] std::size_t feed(std::string_view s) noexcept;

    // Whether the text so far is valid and ends between characters: the
    // text may end here.
    bool complete() const noexcept { return state_ == 0; }

    // Whether an invalid byte has been seen.
    bool failed() const noexcept;

    void reset() noexcept { state_ = 0; }

  private:
    std::uint8_t state_ = 0; // 0: between characters
};

// Whether s, as a whole, is valid UTF-8.
bool is_valid_utf8(std::string_view s) noexcept;

} // namespace nnghttp::detail::ws
