// Request routing for the HTTP server: which handler serves a request, by
// path, method and host, with NNG 1.x's rules.  Pure data, no locks: the
// server keeps an immutable router per handler set and swaps it on change.
//
// Paths.  A route's path is "" or starts with '/'; trailing slashes are
// ignored.  A request path (already canonical, see canonical_path) matches
// a route whose path equals it, or equals it plus a trailing '/', or, for a
// tree route, is any path below it ("/a" serves "/a/b/c" but not "/ab").
// Routes are tried longest path first; the first match wins.
//
// Methods.  An empty method accepts every method.  A HEAD request is
// served by a GET route when no route takes HEAD itself.  When the path
// matches only routes for other methods, the result is bad_method, with the
// Allow list a 405 response must carry (NNG 1.5.2 omits it).
//
// Hosts.  An empty host matches every request.  Otherwise the request's
// Host header must name it (ASCII case-insensitively), optionally followed
// by ":port" or a final "."; a route host that is an IP literal compares as
// an address.  A request without Host matches only host-less routes.
//
// Conflicts (add() gives NNG_EADDRINUSE), as NNG 1.5.2 decides them: two
// routes conflict when their hosts are both empty or equal, their methods
// are both empty or equal, and either their paths are equal, or one is a
// tree-exclusive route and the other's path is at or below it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace nnghttp::detail::http {

// The canonical path of a request-target, for matching and for mapping to
// files: an absolute-form target ("http://host/p") is reduced to its path;
// the query and fragment are dropped; percent-escapes are decoded; runs of
// '/' collapse; "." and ".." segments are resolved without ever leaving
// "/".  Returns false for a target that cannot be served (no leading '/',
// a malformed escape, an escaped NUL, '/' or '\' hidden in an escape, a
// control character): the server answers 400.
bool canonical_path(std::string_view target, std::string& out);

struct route {
    std::string path;   // "" or "/..."; trailing '/' ignored
    std::string method; // "" accepts every method
    std::string host;   // "" matches every host
    bool tree = false;
    bool exclusive = false; // with tree: nothing else may live below it
    const void* target = nullptr;
};

enum class match_status { found, not_found, bad_method };

struct match_result {
    match_status status = match_status::not_found;
    const void* target = nullptr;
    // bad_method: the methods the path accepts, for the Allow header
    // ("GET, HEAD, POST"); empty otherwise.
    std::string allow;
};

class router {
  public:
    // 0; NNG_EINVAL for a path not starting with '/' or a null target;
    // NNG_EADDRINUSE for a conflict (see top).
    int add(route r);
    // Removes the route for target; whether there was one.
    bool remove(const void* target);

    // host is the request's Host header, or nullptr when it had none.
    match_result match(std::string_view path, std::string_view method, const char* host) const;

    std::size_t size() const noexcept { return routes_.size(); }

  private:
    std::vector<route> routes_; // longest path first
};

} // namespace nnghttp::detail::http
