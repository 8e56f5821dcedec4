#include "http/mime.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>

namespace nnghttp::detail::http {

namespace {

constexpr char lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool is_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

bool ends_with_nocase(std::string_view s, std::string_view suffix) noexcept {
    if (s.size() < suffix.size()) {
        return false;
    }
    s.remove_prefix(s.size() - suffix.size());
    for (std::size_t i = 0; i < s.size(); i++) {
        if (lower(s[i]) != suffix[i]) {
            return false;
        }
    }
    return true;
}

bool equals_nocase(std::string_view a, std::string_view lower_b) noexcept {
    return a.size() == lower_b.size() && ends_with_nocase(a, lower_b);
}

} // namespace

std::string_view file_extension(std::string_view filename) noexcept {
    std::size_t slash = filename.rfind('/');
    std::string_view base = slash == std::string_view::npos ? filename : filename.substr(slash + 1);
    std::size_t dot = base.rfind('.');
    if (dot == std::string_view::npos || dot == 0) {
        return {};
    }
    return base.substr(dot + 1);
}

bool mime_is_text(std::string_view type) noexcept {
    std::size_t slash = type.find('/');
    if (slash == std::string_view::npos) {
        return false;
    }
    std::string_view top = type.substr(0, slash);
    std::string_view sub = type.substr(slash + 1);
    if (equals_nocase(top, "text")) {
        return true;
    }
    if (ends_with_nocase(sub, "+xml")) {
        return true;
    }
    return equals_nocase(top, "application") &&
           (equals_nocase(sub, "javascript") || equals_nocase(sub, "xml"));
}

void mime_table::add(std::string_view type, std::string_view ext) {
    if (ext.empty() || ext.size() > max_extension || ext.find('.') != std::string_view::npos) {
        return;
    }
    if (types_.empty() || types_.back().type != type) {
        std::string ct(type);
        if (mime_is_text(type)) {
            ct += "; charset=utf-8";
        }
        types_.push_back({std::string(type), std::move(ct)});
    }
    std::string e(ext);
    for (char& c : e) {
        c = lower(c);
    }
    entries_.push_back({std::move(e), static_cast<std::uint32_t>(types_.size() - 1)});
}

void mime_table::finish() {
    // Stable, so that among equal extensions the first added comes first.
    std::stable_sort(entries_.begin(), entries_.end(),
                     [](const entry& a, const entry& b) { return a.ext < b.ext; });
    auto last = std::unique(entries_.begin(), entries_.end(),
                            [](const entry& a, const entry& b) { return a.ext == b.ext; });
    entries_.erase(last, entries_.end());
    entries_.shrink_to_fit();
    types_.shrink_to_fit();
}

mime_table mime_table::parse(std::string_view text) {
    mime_table t;
    while (!text.empty()) {
        std::size_t nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (std::size_t hash = line.find('#'); hash != std::string_view::npos) {
            line = line.substr(0, hash);
        }
        std::string_view type;
        bool first = true;
        while (true) {
            while (!line.empty() && is_space(line.front())) {
                line.remove_prefix(1);
            }
            if (line.empty()) {
                break;
            }
            std::size_t n = 0;
            while (n < line.size() && !is_space(line[n])) {
                n++;
            }
            std::string_view word = line.substr(0, n);
            line.remove_prefix(n);
            if (first) {
                first = false;
                std::size_t slash = word.find('/');
                if (slash == 0 || slash == std::string_view::npos || slash + 1 == word.size()) {
                    break; // not a media type: skip the line
                }
                type = word;
            } else {
                t.add(type, word);
            }
        }
    }
    t.finish();
    return t;
}

std::optional<mime_table> mime_table::load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) {
        return std::nullopt;
    }
    return parse(ss.view());
}

mime_table mime_table::builtin() {
    // The types Debian's /etc/mime.types gives these extensions.
    return parse("text/html html htm\n"
                 "text/css css\n"
                 "text/javascript js mjs\n"
                 "application/json json\n"
                 "text/plain txt\n"
                 "image/svg+xml svg\n"
                 "image/png png\n"
                 "image/jpeg jpg jpeg\n"
                 "image/gif gif\n"
                 "image/webp webp\n"
                 "image/vnd.microsoft.icon ico\n"
                 "application/wasm wasm\n"
                 "application/xml xml\n"
                 "application/pdf pdf\n"
                 "font/woff woff\n"
                 "font/woff2 woff2\n");
}

const mime_table::type_info* mime_table::lookup_ext(std::string_view ext) const noexcept {
    if (ext.empty() || ext.size() > max_extension) {
        return nullptr;
    }
    std::array<char, max_extension> buf;
    for (std::size_t i = 0; i < ext.size(); i++) {
        buf[i] = lower(ext[i]);
    }
    std::string_view key(buf.data(), ext.size());
    auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                               [](const entry& e, std::string_view k) { return e.ext < k; });
    if (it == entries_.end() || it->ext != key) {
        return nullptr;
    }
    return &types_[it->type];
}

const mime_table::type_info* mime_table::lookup(std::string_view filename) const noexcept {
    return lookup_ext(file_extension(filename));
}

std::string_view mime_table::find(std::string_view filename) const noexcept {
    const type_info* t = lookup(filename);
    return t ? std::string_view(t->type) : std::string_view();
}

std::string_view mime_table::find_content_type(std::string_view filename) const noexcept {
    const type_info* t = lookup(filename);
    return t ? std::string_view(t->content_type) : std::string_view();
}

std::string_view mime_table::find_extension(std::string_view ext) const noexcept {
    const type_info* t = lookup_ext(ext);
    return t ? std::string_view(t->type) : std::string_view();
}

namespace {

struct default_table {
    mime_table table;
    bool from_file = false;
};

const default_table& the_default() {
    static const default_table d = [] {
        default_table r;
        if (auto t = mime_table::load("/etc/mime.types"); t && t->size() != 0) {
            r.table = std::move(*t);
            r.from_file = true;
        } else {
            r.table = mime_table::builtin();
        }
        return r;
    }();
    return d;
}

} // namespace

const mime_table& default_mime_table() {
    return the_default().table;
}

bool default_mime_table_from_file() {
    return the_default().from_file;
}

std::string_view mime_type_for(std::string_view filename) {
    std::string_view t = default_mime_table().find(filename);
    return t.empty() ? default_mime_type : t;
}

std::string_view content_type_for(std::string_view filename) {
    std::string_view t = default_mime_table().find_content_type(filename);
    return t.empty() ? default_mime_type : t;
}

} // namespace nnghttp::detail::http
