// Media types for file names, for the server's file and directory handlers.
//
// The table comes from /etc/mime.types (Debian's media-types package: one
// "type/subtype ext1 ext2 ..." per line, '#' starts a comment), read once, on
// first use, under the C++ static-initialisation lock.  When that file cannot
// be read, a small built-in table of the common web types is used instead
// (html htm css js mjs json txt svg png jpg jpeg gif webp ico wasm xml pdf
// woff woff2, with the types Debian's file gives them).
//
// Lookup rules:
//   * Only the last extension counts: "archive.tar.gz" is looked up as "gz".
//     The extension starts after the last '.' of the last path component; a
//     leading dot does not start one (".bashrc" has none), nor does a trailing
//     one ("file." has none).  Extensions are compared case-insensitively.
//   * File entries whose extension holds a dot ("cwl.json") can never match
//     and are skipped; so are extensions longer than max_extension.
//   * An extension listed under several types keeps the first (Debian lists
//     the IANA-registered type before the x- ones: "sh" gives
//     application/x-sh, not text/x-sh).
//   * Unknown, or no extension: "application/octet-stream".
// Lookup does not allocate: the extension is lower-cased into a stack buffer
// and found by binary search in a sorted vector built at load time.
//
// Charset.  mime_type_for() returns the type exactly as the table has it,
// with no parameters: nginx adds no charset by default, and NNG 1.5.2's file
// handler sends the bare types of its own small table.  content_type_for()
// is the same with "; charset=utf-8" appended for text that has a charset
// parameter: text/*, application/javascript, application/xml and any "+xml"
// type (image/svg+xml, application/xhtml+xml).  Not JSON: RFC 8259 defines
// no charset parameter for application/json (it is always UTF-8).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nnghttp::detail::http {

inline constexpr std::string_view default_mime_type = "application/octet-stream";

class mime_table {
  public:
    // Longest extension kept (longer ones are never found).
    static constexpr std::size_t max_extension = 32;

    // An empty table: every lookup gives "".
    mime_table() = default;

    // Parses the text of a mime.types file.  Malformed lines (no '/' in the
    // type) are skipped.
    static mime_table parse(std::string_view text);

    // Reads and parses a mime.types file; nullopt when it cannot be read.
    static std::optional<mime_table> load(const std::string& path);

    // The built-in fallback table.
    static mime_table builtin();

    // The type for a file name or path, or "" when its extension is unknown
    // or it has none.  Views stay valid while the table lives.
    std::string_view find(std::string_view filename) const noexcept;

    // As find(), with "; charset=utf-8" for text types (see top).
    std::string_view find_content_type(std::string_view filename) const noexcept;

    // The type for a bare extension ("png", any case, no dot), or "".
    std::string_view find_extension(std::string_view ext) const noexcept;

    std::size_t size() const noexcept { return entries_.size(); }

  private:
    struct type_info {
        std::string type;         // as in the file
        std::string content_type; // with a charset when text, else == type
    };
    struct entry {
        std::string ext; // lower case
        std::uint32_t type;
    };

    void add(std::string_view type, std::string_view ext);
    void finish();
    const type_info* lookup(std::string_view filename) const noexcept;
    const type_info* lookup_ext(std::string_view ext) const noexcept;

    std::vector<type_info> types_;
    std::vector<entry> entries_; // sorted by ext, unique
};

// The extension of a file name as used for lookup (see top): "" when none.
std::string_view file_extension(std::string_view filename) noexcept;

// Whether a media type gets "; charset=utf-8" in content_type_for().
bool mime_is_text(std::string_view type) noexcept;

// The process-wide table: /etc/mime.types, else the built-in one.  Loaded on
// first call; thread-safe.
const mime_table& default_mime_table();

// Whether default_mime_table() came from /etc/mime.types.
bool default_mime_table_from_file();

// default_mime_table().find(filename), or "application/octet-stream".
std::string_view mime_type_for(std::string_view filename);

// default_mime_table().find_content_type(filename), or
// "application/octet-stream".  Neither allocates once the table is loaded.
std::string_view content_type_for(std::string_view filename);

} // namespace nnghttp::detail::http
