// Server handlers: the objects behind nng_http_handler.  A handler says
// which requests it serves (path, method, host, tree) and how: a user's
// callback, or one of the built-in kinds (a file, a directory, fixed bytes,
// a redirect), which the server serves itself.
//
// Settings follow NNG 1.x: the method defaults to GET (empty: any method),
// the path "" and "/" both mean the root, a body of up to 1 MiB is
// collected by default.  Once a server holds the handler, its settings are
// frozen (NNG_EBUSY), since connections read them without locks.
#pragma once

#include "core/ref_counted.hpp"
#include "http/router.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <nng/nng.h>
#include <string>

namespace nnghttp::detail::http {

class handler final : public ref_counted {
  public:
    enum class kind : std::uint8_t { custom, file, directory, static_data, redirect };
    using callback_fn = void (*)(::nng_aio*);

    // A handler of the given kind for path ("" and "/" are the root).
    handler(kind k, std::string_view path, callback_fn cb = nullptr);

    kind what() const noexcept { return kind_; }
    callback_fn callback() const noexcept { return cb_; }
    // "/" for the root, as NNG reports it.
    const std::string& path() const noexcept { return path_; }

    // NNG_EBUSY once frozen.  nullptr (or "") method: every method; host
    // nullptr, "" or "*" (or a wildcard address): every host.
    int set_method(const char* method);
    int set_host(const char* host);
    int set_tree(bool exclusive);
    // Never refused (NNG allows it at any time, before the server reads).
    void collect_body(bool want, std::size_t max) noexcept;
    int set_data(void* data, void (*dtor)(void*));
    void* data() const noexcept { return data_; }

    const std::string& method() const noexcept { return method_; }
    const std::string& host() const noexcept { return host_; }
    bool tree() const noexcept { return tree_; }
    bool exclusive() const noexcept { return exclusive_; }
    bool wants_body() const noexcept { return want_body_; }
    std::size_t max_body() const noexcept { return max_body_; }

    // Built-in kinds.  file: the file's path; directory: the root
    // directory; static_data: the bytes; redirect: the location.
    const std::string& resource() const noexcept { return resource_; }
    // file, static_data: the Content-Type ("" for file: from the name).
    const std::string& content_type() const noexcept { return content_type_; }
    std::uint16_t redirect_status() const noexcept { return redirect_status_; }

    // Filled by the C API's alloc functions before the handler is shared.
    void set_resource(std::string r) { resource_ = std::move(r); }
    void set_content_type(std::string t) { content_type_ = std::move(t); }
    void set_redirect_status(std::uint16_t s) noexcept { redirect_status_ = s; }

    // The server takes the handler: settings are frozen from now on.
    void freeze() noexcept { busy_.store(true, std::memory_order_release); }
    bool frozen() const noexcept { return busy_.load(std::memory_order_acquire); }

    // How the router should see this handler.
    route to_route() const;

  private:
    ~handler() override;

    kind kind_;
    callback_fn cb_;
    std::string path_;
    std::string method_ = "GET";
    std::string host_;
    bool tree_ = false;
    bool exclusive_ = false;
    bool want_body_ = true;
    std::size_t max_body_ = 1024 * 1024;
    void* data_ = nullptr;
    void (*dtor_)(void*) = nullptr;
    std::string resource_;
    std::string content_type_;
    std::uint16_t redirect_status_ = 0;
    std::atomic<bool> busy_{false};
};

} // namespace nnghttp::detail::http
