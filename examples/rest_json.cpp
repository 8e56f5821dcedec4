// rest_json: a JSON REST service with the C++ API and nlohmann-json, over
// a collection of items kept in memory.
//
//   GET    /items        all items, by id: [{"id": 1, "name": "..."}, ...]
//   GET    /items/{id}   one item
//   POST   /items        a new item from {"name": "...", ...}: 201 Created,
//                        with its URI in Location and the item in the body
//   PUT    /items/{id}   replaces an item (its id stays): 200 and the item
//   DELETE /items/{id}   removes an item: 204 No Content
//
// An item is a JSON object with a string "name"; other members are kept as
// they come; "id" is the server's.  A body that is not such an object gets
// 400, an unknown id 404, each with {"error": "why"}.  Other methods get
// the server's own 405.  Runs until SIGINT or SIGTERM.
//
//   rest_json [URL]     default http://127.0.0.1:8080 (port 0: any free port)
//
// Try it:  curl -d '{"name":"tea"}' localhost:8080/items; curl localhost:8080/items
#include <nlohmann/json.hpp>
#include <nnghttp/nnghttp.hpp>

#include <algorithm>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

using nlohmann::json;
using nnghttp::request;
using nnghttp::response;

constexpr std::string_view items_path = "/items";

// The items, shared by the handlers, which run on several threads at once.
class item_store {
  public:
    json list() const {
        std::lock_guard lock(mu_);
        json all = json::array();
        for (const auto& [id, item] : items_) {
            all.push_back(item);
        }
        return all;
    }
    std::optional<json> find(std::uint64_t id) const {
        std::lock_guard lock(mu_);
        auto it = items_.find(id);
        return it == items_.end() ? std::nullopt : std::optional(it->second);
    }
    json add(json item) {
        std::lock_guard lock(mu_);
        item["id"] = next_id_;
        items_.emplace(next_id_++, item);
        return item;
    }
    std::optional<json> replace(std::uint64_t id, json item) {
        std::lock_guard lock(mu_);
        auto it = items_.find(id);
        if (it == items_.end()) {
            return std::nullopt;
        }
        item["id"] = id;
        it->second = item;
        return item;
    }
    bool remove(std::uint64_t id) {
        std::lock_guard lock(mu_);
        return items_.erase(id) != 0;
    }

  private:
    mutable std::mutex mu_;
    std::map<std::uint64_t, json> items_;
    std::uint64_t next_id_ = 1;
};

// Thrown by the handlers' helpers; becomes a 4xx answer with the message.
struct http_error : std::runtime_error {
    http_error(std::uint16_t s, const std::string& why) : std::runtime_error(why), status(s) {}
    std::uint16_t status;
};

void send_json(response& res, std::uint16_t status, const json& body) {
    res.set_status(status).set_header("Content-Type", "application/json").set_body(body.dump());
}

// The item a request's body describes.
json parse_item(const request& req) {
    json item;
    try {
        item = json::parse(req.body_text());
    } catch (const json::parse_error& e) {
        // e.what() is "[json.exception.parse_error.101] parse error at ...".
        std::string_view what = e.what();
        if (auto end = what.find("] "); end != std::string_view::npos) {
            what.remove_prefix(end + 2);
        }
        throw http_error(400, "invalid JSON: " + std::string(what));
    }
    if (!item.is_object()) {
        throw http_error(400, std::string("an item is a JSON object, not ") + item.type_name());
    }
    auto name = item.find("name");
    if (name == item.end() || !name->is_string()) {
        throw http_error(400, "an item needs a string \"name\"");
    }
    return item;
}

// The request's path below /items: "" for /items itself, else "/...".
std::string_view below_items(const request& req) {
    std::string_view path = req.uri();
    path = path.substr(0, path.find_first_of("?#"));
    path.remove_prefix(std::min(path.size(), items_path.size())); // the router matched /items
    while (!path.empty() && path.back() == '/') {
        path.remove_suffix(1);
    }
    return path;
}

// The id in /items/{id}.  A path that names no item is 404; a method that
// needs an id, used on the collection, is 405.
std::uint64_t item_id(const request& req) {
    std::string_view rest = below_items(req);
    if (rest.empty()) {
        throw http_error(405, std::string(req.method()) + " needs an item: /items/{id}");
    }
    rest.remove_prefix(1);
    std::uint64_t id = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), id);
    if (ec != std::errc() || end != rest.data() + rest.size()) {
        throw http_error(404, "no such item: " + std::string(rest));
    }
    return id;
}

json found(std::optional<json> item, std::uint64_t id) {
    if (!item) {
        throw http_error(404, "no item " + std::to_string(id));
    }
    return std::move(*item);
}

// A handler body F(req, res), with an http_error turned into its answer.
template <typename F> auto answering_errors(F f) {
    return [f = std::move(f)](const request& req, response& res) {
        try {
            f(req, res);
        } catch (const http_error& e) {
            if (e.status == 405) {
                res.set_header("Allow", "GET, HEAD, POST");
            }
            send_json(res, e.status, {{"error", e.what()}});
        }
    };
}

void add_routes(nnghttp::server& server, item_store& items) {
    using nnghttp::handler;
    auto list_or_get = [&](const request& req, response& res) {
        if (below_items(req).empty()) {
            send_json(res, 200, items.list());
            return;
        }
        std::uint64_t id = item_id(req);
        send_json(res, 200, found(items.find(id), id));
    };
    auto create = [&](const request& req, response& res) {
        json item = items.add(parse_item(req));
        res.set_header("Location", std::string(items_path) + "/" + item["id"].dump());
        send_json(res, 201, item);
    };
    auto replace = [&](const request& req, response& res) {
        std::uint64_t id = item_id(req);
        send_json(res, 200, found(items.replace(id, parse_item(req)), id));
    };
    auto remove = [&](const request& req, response& res) {
        std::uint64_t id = item_id(req);
        if (!items.remove(id)) {
            throw http_error(404, "no item " + std::to_string(id));
        }
        res.set_status(204);
    };
    // POST serves /items only; the others serve it and every path below it
    // (tree routes: server.get() and friends make exact-path routes).
    server.add(std::move(handler::custom(items_path, answering_errors(list_or_get)).tree()));
    server.post(items_path, answering_errors(create));
    server.add(
        std::move(handler::custom(items_path, answering_errors(replace)).method("PUT").tree()));
    server.add(
        std::move(handler::custom(items_path, answering_errors(remove)).method("DELETE").tree()));
}

} // namespace

int main(int argc, char** argv) try {
    // Block the stop signals before the library starts any thread: they
    // then wait for sigwait below, whichever thread they were sent to.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);

    item_store items; // outlives the server, whose handlers use it
    nnghttp::server server(argc > 1 ? argv[1] : "http://127.0.0.1:8080");
    add_routes(server, items);
    server.start();
    std::cout << "rest_json: listening on port " << server.port() << std::endl;

    int sig;
    sigwait(&stop, &sig);
    server.stop();
    return 0;
} catch (const std::exception& e) {
    std::cerr << "rest_json: " << e.what() << '\n';
    return 1;
}
