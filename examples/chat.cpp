// chat: a chat room in the browser, on the C++ API's WebSocket routes.
//
//   chat [PORT]     default 8080 (0: any free port), on 127.0.0.1
//
// Open http://127.0.0.1:PORT/ in two windows and talk (/?name=alice fills in
// a name).  GET / serves the page below; /chat is its WebSocket.  A browser's first text message is
// its name, every later one a line of chat.  The server answers with one
// JSON object per event, sent to everyone in the room, the sender too:
//
//   {"type":"join","from":"alice","time":1718000000000}
//   {"type":"message","from":"alice","text":"hi!","time":1718000001234}
//   {"type":"leave","from":"alice","time":1718000009999}
//
// (time: milliseconds since 1970, UTC).  Runs until SIGINT or SIGTERM.
#include <nnghttp/nnghttp.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace {

using namespace std::chrono_literals;

constexpr std::size_t max_text = 4096;          // bytes of a message (fits the page's 1000 chars)
constexpr std::size_t max_name = 32;            // bytes of a name (longer ones are cut)
constexpr std::size_t max_backlog = 256 * 1024; // unsent bytes one browser may have waiting
constexpr auto close_timeout = 2000ms;          // bound on each closing handshake

// The page.  Everything a peer sent goes in with textContent, never as markup.
constexpr std::string_view page = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nng-http chat</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 42em; margin: 2em auto; padding: 0 1em; }
  #messages { list-style: none; margin: 0 0 1em; padding: .5em; height: 22em; overflow-y: auto;
              border: 1px solid #ccc; border-radius: 6px; }
  #messages li { margin: .2em 0; white-space: pre-wrap; overflow-wrap: anywhere; }
  #status, .join, .leave, .time { color: #777; }
  .join, .leave { font-style: italic; }
  .time { font-size: .85em; margin-right: .6em; }
  .from { font-weight: 600; margin-right: .4em; }
  form { display: flex; gap: .5em; }
  input, button { font: inherit; padding: .3em .5em; }
  #text { flex: 1; }
</style>
</head>
<body>
<h1>nng-http chat</h1>
<p id="status">connecting...</p>
<ul id="messages"></ul>
<form id="send">
  <input id="name" placeholder="your name" maxlength="32" size="10">
  <input id="text" placeholder="say something" maxlength="1000" autocomplete="off" autofocus>
  <button>Send</button>
</form>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
$("name").value = new URLSearchParams(location.search).get("name") ||
                  "guest-" + Math.floor(Math.random() * 1000);
let ws = null;

function show(event) {
  const li = document.createElement("li");
  li.className = event.type;
  for (const [part, text] of [["time", new Date(event.time).toLocaleTimeString()],
                              ["from", event.from],
                              ["text", event.type === "message" ? event.text
                                       : event.type === "join" ? "joined" : "left"]]) {
    const span = document.createElement("span");
    span.className = part;
    span.textContent = text;
    li.append(span);
  }
  const list = $("messages");
  list.append(li);
  if (list.children.length > 500) list.firstElementChild.remove(); // the latest 500 only
  list.scrollTop = list.scrollHeight;
}

function connect() {
  const sock = new WebSocket(location.origin.replace(/^http/, "ws") + "/chat");
  ws = sock;
  sock.onopen = () => {
    sock.send($("name").value);
    $("status").textContent = "connected as " + $("name").value;
  };
  sock.onmessage = (e) => show(JSON.parse(e.data));
  sock.onclose = (e) => {
    if (sock === ws) $("status").textContent = "disconnected (" + e.code + ")";
  };
}

$("send").onsubmit = (e) => {
  e.preventDefault();
  if ($("text").value && ws.readyState === WebSocket.OPEN) {
    ws.send($("text").value);
    $("text").value = "";
  }
};
// A new name is a new connection: leave, and join again.
$("name").onchange = () => { ws.close(); connect(); };
connect();
</script>
</body>
</html>
)html";

// s as a JSON string.  The library has checked that text messages are
// UTF-8, so only quotes, backslashes and control characters need escapes.
void append_json(std::string& out, std::string_view s) {
    out += '"';
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(c));
            out += esc;
        } else {
            out += c;
        }
    }
    out += '"';
}

// One event for the room, as JSON (type is one of ours: no escapes needed).
std::string event(std::string_view type, std::string_view from, std::string_view text = {}) {
    using namespace std::chrono;
    auto ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    std::string out = R"({"type":")" + std::string(type) + R"(","from":)";
    append_json(out, from);
    if (type == "message") {
        out += R"(,"text":)";
        append_json(out, text);
    }
    return out + R"(,"time":)" + std::to_string(ms) + "}";
}

// At most max_name bytes, cut before a character, never inside one.
std::string clean_name(std::string_view s) {
    if (s.size() > max_name) {
        std::size_t n = max_name;
        while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) {
            n--; // s[n] continues a character: cut before its first byte
        }
        s = s.substr(0, n);
    }
    return s.empty() ? "anonymous" : std::string(s);
}

// One browser.  Its own coroutine receives from it while relays on any
// event loop thread send to it, so it is shared, and locks guard the rest.
struct member {
    explicit member(nnghttp::websocket w) : ws(std::move(w)) {}
    nnghttp::websocket ws; // its operations may be called from any thread
    bool joined = false;   // named and not gone: gets the room's events (room's lock)
    std::mutex mu;
    std::size_t reserved = 0; // bytes being enqueued now (mu)
    bool dropped = false;     // too slow: gets nothing more (mu)
};

// Every connection.  The library runs completions on several event loop
// threads at once, hence the lock; it is never held across a co_await.
class room {
  public:
    // A new connection; false once the server is closing.
    bool enter(const std::shared_ptr<member>& m) {
        std::lock_guard lock(mu_);
        return !closing_ && members_.insert(m).second;
    }
    void set_joined(member& m, bool joined) {
        std::lock_guard lock(mu_);
        m.joined = joined;
    }
    void forget(const std::shared_ptr<member>& m) {
        std::lock_guard lock(mu_);
        if (members_.erase(m) != 0 && members_.empty()) {
            gone_.notify_all();
        }
    }
    // Those who get the room's events.
    std::vector<std::shared_ptr<member>> everyone() {
        std::lock_guard lock(mu_);
        std::vector<std::shared_ptr<member>> out;
        std::copy_if(members_.begin(), members_.end(), std::back_inserter(out),
                     [](const auto& m) { return m->joined; });
        return out;
    }
    // Closes every connection with 1001 (going away) and waits, at most
    // grace, for them to end; new ones are turned away.
    void close_all(std::chrono::milliseconds grace);

  private:
    std::mutex mu_;
    std::condition_variable gone_;
    std::unordered_set<std::shared_ptr<member>> members_;
    bool closing_ = false;
};

nnghttp::task<void> say_goodbye(std::shared_ptr<member> m, std::uint16_t code,
                                std::string reason) {
    co_await m->ws.close(code, reason).no_throw();
}

void room::close_all(std::chrono::milliseconds grace) {
    std::unique_lock lock(mu_);
    closing_ = true;
    for (const auto& m : members_) {
        nnghttp::spawn(say_goodbye(m, 1001, "server shutting down"));
    }
    gone_.wait_for(lock, grace, [this] { return members_.empty(); });
}

// Queues json for m, and never waits for m to read.  enqueue() completes
// at once while the bytes queued for m stay within max_send_queue (set to
// max_backlog); it would wait past that.  Relays to m run concurrently
// (one per sender), so each reserves its bytes before it checks the room
// left: none can then pass the bound and wait.  A browser that falls
// max_backlog behind is dropped with 1008 rather than skipped: skipping
// would leave holes in its conversation that it could not see, while a
// dropped page says "disconnected" and can join again.
nnghttp::task<void> deliver(std::shared_ptr<member> m, std::string json) {
    const std::size_t n = json.size();
    {
        std::lock_guard lock(m->mu);
        if (m->dropped) {
            co_return;
        }
        if (m->ws.buffered_amount() + m->reserved + n > max_backlog) {
            m->dropped = true;
            // spawned: the closing handshake must not hold up this relay
            nnghttp::spawn(say_goodbye(m, 1008, "too slow: messages were piling up"));
            co_return;
        }
        m->reserved += n;
    }
    // A failure (the browser left meanwhile) is its own coroutine's business.
    co_await m->ws.enqueue(std::move(json), true).no_throw();
    std::lock_guard lock(m->mu);
    m->reserved -= n;
}

// To everyone in the room.  Each sender's events reach everyone in the
// order it sent them; two senders' events may interleave differently for
// different readers.
nnghttp::task<void> broadcast(room& r, std::string json) {
    for (auto& m : r.everyone()) {
        co_await deliver(std::move(m), json);
    }
}

// One browser's whole visit: its name, its lines, its leaving.
nnghttp::task<void> visit(std::shared_ptr<room> r, nnghttp::websocket ws) {
    auto me = std::make_shared<member>(std::move(ws));
    if (!r->enter(me)) {
        co_return; // the server is closing: me's destructor closes with 1001
    }
    // The first message is the name, the others are lines.  Ends when the
    // browser leaves, breaks the protocol, sends more than max_text (the
    // library then closes with 1009) or sends binary (1003, here).
    std::string name;
    nnghttp::ws_message msg;
    while (co_await me->ws.receive(msg).no_throw()) {
        if (!msg.text) {
            co_await me->ws.close(1003, "text only").no_throw();
            break;
        }
        if (name.empty()) {
            name = clean_name(msg.data);
            r->set_joined(*me, true);
            co_await broadcast(*r, event("join", name));
        } else {
            co_await broadcast(*r, event("message", name, msg.data));
        }
    }
    r->set_joined(*me, false);
    if (!name.empty()) {
        co_await broadcast(*r, event("leave", name));
    }
    r->forget(me);
}

} // namespace

int main(int argc, char** argv) try {
    // Block SIGINT and SIGTERM before the library starts any thread: they
    // then wait for sigwait below, whichever thread they were sent to.
    sigset_t quit;
    sigemptyset(&quit);
    sigaddset(&quit, SIGINT);
    sigaddset(&quit, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &quit, nullptr);

    std::string_view port_arg = argc > 1 ? argv[1] : "8080";
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_arg.data(), port_arg.data() + port_arg.size(), port);
    if (argc > 2 || ec != std::errc() || end != port_arg.data() + port_arg.size() || port > 65535) {
        std::cerr << "usage: chat [PORT]\n";
        return 2;
    }

    auto r = std::make_shared<room>();
    nnghttp::ws_options opts;
    opts.max_message = opts.max_frame = max_text;
    opts.max_send_queue = max_backlog;
    opts.close_timeout = close_timeout;
    // Browsers let any site's script open a WebSocket anywhere, and say
    // which site it is in Origin: only this server's own page may join.
    opts.on_upgrade = [](nnghttp::ws_upgrade& u) {
        std::string own = "http://" + std::string(u.req.header("Host").value_or(""));
        if (!u.origin().empty() && u.origin() != own) {
            u.refuse(403, "only this server's page may connect");
        }
    };

    nnghttp::server server("http://127.0.0.1:" + std::to_string(port));
    server.add(nnghttp::handler::static_content("/", page, "text/html; charset=utf-8"));
    server.ws("/chat", [r](nnghttp::websocket ws) { return visit(r, std::move(ws)); }, opts);
    server.start();
    std::cout << "listening on http://127.0.0.1:" << server.port() << std::endl;

    int sig;
    sigwait(&quit, &sig);
    server.shutdown(1s); // no new connections; requests for the page finish
    r->close_all(close_timeout + 1s);
    return 0;
} catch (const std::exception& e) {
    std::cerr << "chat: " << e.what() << '\n';
    return 1;
}
