// A small recursive-descent scanner over the field value: a cursor, and
// one function per grammar rule that either advances past its rule or
// reports failure.  Field values are short and parsed once per handshake,
// so clarity wins over speed here.
#include "websocket/extensions.hpp"

#include "http/parser.hpp"

namespace nnghttp::detail::ws {

namespace {

struct cursor {
    std::string_view s;
    std::size_t i = 0;

    bool at_end() const { return i == s.size(); }
    bool peek(char c) const { return i < s.size() && s[i] == c; }
    void skip_ows() {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) {
            i++;
        }
    }
    // The longest run of token characters from here (possibly empty).
    std::string_view token() {
        std::size_t start = i;
        while (i < s.size() && http::is_token(s.substr(i, 1))) {
            i++;
        }
        return s.substr(start, i - start);
    }
};

// quoted-string, unescaped into out; the cursor is on the opening quote.
bool quoted(cursor& c, std::string& out) {
    c.i++;
    while (!c.at_end()) {
        char ch = c.s[c.i++];
        if (ch == '"') {
            return true;
        }
        if (ch == '\\') {
            if (c.at_end()) {
                return false;
            }
            ch = c.s[c.i++];
        }
        out.push_back(ch);
    }
    return false; // no closing quote
}

bool param(cursor& c, extension_param& p) {
    p.name = c.token();
    if (p.name.empty()) {
        return false;
    }
    c.skip_ows();
    if (!c.peek('=')) {
        return true;
    }
    c.i++;
    c.skip_ows();
    p.has_value = true;
    if (c.peek('"')) {
        // Whatever the quotes held must be a token once unescaped.
        return quoted(c, p.value) && http::is_token(p.value);
    }
    std::string_view v = c.token();
    p.value.assign(v);
    return !v.empty();
}

bool element(cursor& c, extension& e) {
    e.name = c.token();
    if (e.name.empty()) {
        return false;
    }
    c.skip_ows();
    while (c.peek(';')) {
        c.i++;
        c.skip_ows();
        extension_param p;
        if (!param(c, p)) {
            return false;
        }
        e.params.push_back(std::move(p));
        c.skip_ows();
    }
    return true;
}

} // namespace

bool parse_extensions(std::string_view value, std::vector<extension>& out) {
    std::vector<extension> found;
    cursor c{value};
    for (;;) {
        c.skip_ows();
        if (c.at_end()) {
            break;
        }
        if (c.peek(',')) { // an empty element
            c.i++;
            continue;
        }
        extension e;
        if (!element(c, e)) {
            return false;
        }
        found.push_back(std::move(e));
        // element() returns at the end, a comma, or something it cannot use.
        if (!c.at_end() && !c.peek(',')) {
            return false;
        }
    }
    if (found.empty()) {
        return false;
    }
    for (auto& e : found) {
        out.push_back(std::move(e));
    }
    return true;
}

void append_extensions(std::string& out, std::span<const extension> exts) {
    bool first = true;
    for (const extension& e : exts) {
        if (!first) {
            out += ", ";
        }
        first = false;
        out += e.name;
        for (const extension_param& p : e.params) {
            out += "; ";
            out += p.name;
            if (p.has_value) {
                out += '=';
                out += p.value;
            }
        }
    }
}

} // namespace nnghttp::detail::ws
