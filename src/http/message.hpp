// HTTP requests and responses: the objects behind nng_http_req and
// nng_http_res.  Pure data, no I/O.
//
// Behaviour follows NNG 1.x (see docs/compat.md for the differences):
//  * header names compare without regard to ASCII case; set replaces the
//    first field of that name, add appends ", value" to it (NNG folds
//    repeated fields into one), del removes the first, get returns it;
//  * the method, version and reason have defaults ("GET", "HTTP/1.1", the
//    standard phrase for the status) that a NULL restores;
//  * a body is either borrowed (set_data: the caller's memory, which must
//    outlive the message's use of it) or owned (copy_data); both set
//    Content-Length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <span>
#include <vector>

namespace nnghttp::detail::http {

struct header {
    std::string name;
    std::string value;
};

// ASCII case-insensitive equality of header names.
bool name_equals(std::string_view a, std::string_view b) noexcept;

class header_list {
public:
    // The value of the first field named name, or nullptr.
    const std::string* find(std::string_view name) const noexcept;
    void set(std::string_view name, std::string_view value);
    void add(std::string_view name, std::string_view value);
    bool remove(std::string_view name) noexcept;
    // Forgets the fields but keeps their storage: a message reused for the
    // next request or response then fills the same strings again, without
    // allocating (a server's hot path).
    void clear() noexcept { used_ = 0; }
    std::span<const header> fields() const noexcept { return {fields_.data(), used_}; }
    std::size_t size() const noexcept { return used_; }

private:
    header* lookup(std::string_view name) noexcept;
    void append(std::string_view name, std::string_view value);
    std::vector<header> fields_; // [0, used_) in use; the rest spare storage
    std::size_t used_ = 0;
};

// A string that may be unset, and keeps its storage when unset (a message
// reused for the next request or response fills it again without
// allocating).
class opt_string {
public:
    explicit operator bool() const noexcept { return set_; }
    bool has_value() const noexcept { return set_; }
    const std::string* operator->() const noexcept { return &s_; }
    const std::string& operator*() const noexcept { return s_; }
    void reset() noexcept { set_ = false; }
    void emplace(std::string_view v) {
        s_.assign(v);
        set_ = true;
    }

private:
    std::string s_;
    bool set_ = false;
};

// A message body: borrowed or owned bytes.
class body {
public:
    void borrow(const void* data, std::size_t size) noexcept;
    void copy(const void* data, std::size_t size); // throws std::bad_alloc
    // Takes ownership of a buffer the caller filled (e.g. a body read from
    // the wire).
    void adopt(std::unique_ptr<char[]> data, std::size_t size) noexcept;
    void clear() noexcept;

    void* data() const noexcept { return const_cast<void*>(data_); }
    std::size_t size() const noexcept { return size_; }
    bool owned() const noexcept { return owned_ != nullptr; }

private:
    const void* data_ = nullptr;
    std::size_t size_ = 0;
    std::unique_ptr<char[]> owned_;
};

// What requests and responses share: version, headers, body.
class message {
public:
    // "HTTP/1.1" unless set; set_version(nullptr) restores the default.
    const char* version() const noexcept;
    void set_version(const char* v);
    void set_version(std::string_view v); // from a parser: no NUL needed

    header_list& headers() noexcept { return headers_; }
    const header_list& headers() const noexcept { return headers_; }
    const char* get_header(std::string_view name) const noexcept;

    http::body& body() noexcept { return body_; }
    const http::body& body() const noexcept { return body_; }
    // set_data / copy_data: the body and a matching Content-Length.
    void set_data(const void* data, std::size_t size);
    void copy_data(const void* data, std::size_t size);

protected:
    void reset_common() noexcept;

private:
    opt_string version_;
    header_list headers_;
    http::body body_;
};

class request : public message {
public:
    // "GET" unless set.
    const char* method() const noexcept;
    void set_method(const char* m);
    void set_method(std::string_view m);
    // "" unless set.
    const char* uri() const noexcept;
    void set_uri(const char* u);
    void set_uri(std::string_view u);
    bool has_uri() const noexcept { return uri_.has_value(); }

    void reset() noexcept;

private:
    opt_string method_;
    opt_string uri_;
};

class response : public message {
public:
    std::uint16_t status() const noexcept { return status_; }
    void set_status(std::uint16_t s) noexcept { status_ = s; }
    // The reason set, else the standard phrase for the status.
    const char* reason() const noexcept;
    void set_reason(const char* r);
    void set_reason(std::string_view r);

    void reset() noexcept;

private:
    std::uint16_t status_ = 200;
    opt_string reason_;
};

// Appends the message's head (start line, header fields, blank line) as
// it goes on the wire; the body is written separately, from body().
void append_head(std::string& out, const request& req);
void append_head(std::string& out, const response& res);

// The standard reason phrase for a status ("Unknown HTTP Status" for codes
// without one).  NNG's phrases where NNG has one.
const char* reason_phrase(std::uint16_t status) noexcept;

// The small HTML page NNG-style servers send with an error status; details
// (may be empty) is inserted as a paragraph, escaped.
std::string error_page(std::uint16_t status, std::string_view details = {});

// Makes res an error response: status, text/html Content-Type and the
// error page as an owned body.
void make_error(response& res, std::uint16_t status, std::string_view details = {});

} // namespace nnghttp::detail::http
