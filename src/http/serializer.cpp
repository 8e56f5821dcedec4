#include "http/serializer.hpp"

#include <charconv>

namespace nnghttp::detail::http {

namespace {

// Room for any int written in decimal.
constexpr std::size_t status_room = 12;

std::size_t status_size(int status) noexcept {
    char tmp[status_room];
    auto r = std::to_chars(tmp, tmp + sizeof(tmp), status);
    return std::size_t(r.ptr - tmp);
}

void append_fields(std::string& out, std::span<const header_field> fields) {
    for (const auto& f : fields) {
        out.append(f.name);
        out.append(": ", 2);
        out.append(f.value);
        out.append("\r\n", 2);
    }
    out.append("\r\n", 2);
}

} // namespace

std::size_t fields_size(std::span<const header_field> fields) noexcept {
    std::size_t n = 0;
    for (const auto& f : fields) {
        n += f.name.size() + f.value.size() + 4;
    }
    return n;
}

std::size_t request_head_size(std::string_view method, std::string_view target,
                              std::string_view version,
                              std::span<const header_field> fields) noexcept {
    return method.size() + target.size() + version.size() + 4 + fields_size(fields) + 2;
}

std::size_t response_head_size(std::string_view version, int status, std::string_view reason,
                               std::span<const header_field> fields) noexcept {
    return version.size() + status_size(status) + reason.size() + 4 + fields_size(fields) + 2;
}

void append_request_head(std::string& out, std::string_view method, std::string_view target,
                         std::string_view version, std::span<const header_field> fields) {
    out.reserve(out.size() + request_head_size(method, target, version, fields));
    out.append(method);
    out.push_back(' ');
    out.append(target);
    out.push_back(' ');
    out.append(version);
    out.append("\r\n", 2);
    append_fields(out, fields);
}

void append_response_head(std::string& out, std::string_view version, int status,
                          std::string_view reason, std::span<const header_field> fields) {
    out.reserve(out.size() + response_head_size(version, status, reason, fields));
    out.append(version);
    out.push_back(' ');
    char tmp[status_room];
    auto r = std::to_chars(tmp, tmp + sizeof(tmp), status);
    out.append(tmp, std::size_t(r.ptr - tmp));
    out.push_back(' ');
    out.append(reason);
    out.append("\r\n", 2);
    append_fields(out, fields);
}

chunk_header make_chunk_header(std::size_t n) noexcept {
    chunk_header h{};
    auto r = std::to_chars(h.bytes, h.bytes + sizeof(h.bytes) - 2, n, 16);
    r.ptr[0] = '\r';
    r.ptr[1] = '\n';
    h.size = static_cast<unsigned char>(r.ptr + 2 - h.bytes);
    return h;
}

void append_chunk(std::string& out, std::string_view data) {
    if (data.empty()) {
        return;
    }
    chunk_header h = make_chunk_header(data.size());
    out.reserve(out.size() + h.size + data.size() + chunk_end.size());
    out.append(h.view());
    out.append(data);
    out.append(chunk_end);
}

void append_last_chunk(std::string& out, std::span<const header_field> trailers) {
    out.reserve(out.size() + 3 + fields_size(trailers) + 2);
    out.append("0\r\n", 3);
    append_fields(out, trailers);
}

} // namespace nnghttp::detail::http
