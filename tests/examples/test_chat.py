#!/usr/bin/env python3
"""examples/chat in a real browser: headless Chromium opens two pages on one
chat server, and each page must show what the other sent.

  - alice's page sees bob join; a line alice types shows up, exactly, in
    bob's list and in her own, and a line of bob's in alice's; text that
    looks like markup stays text (the page uses textContent);
  - the server's limits, from inside the page: a message over 4 KiB is
    closed with 1009, a binary one with 1003; a handshake from another
    site's page (Origin) is refused with 403;
  - bob's page closing is announced to alice; SIGTERM closes alice's
    connection with 1001 and the server exits with status 0;
  - a client that never reads is dropped once its backlog is full, while
    the others get every message, in order.
A screenshot of each page goes to OUTPUT_DIR (alice.png, bob.png), with
Chromium's log (chromium.log).

The browser is driven with the DevTools protocol: --remote-debugging-port=0
makes it listen on a free port, which it writes to DevToolsActivePort in
its profile, and each page gets a WebSocket of its own (a small client
below, on the standard library alone).  Runtime.evaluate types, clicks and
reads the DOM; a wait for what a page shows is a MutationObserver inside
the page, not a polling loop.  Every wait is bounded.  Every process started is ended
before the test returns: the server, and the browser with all its
children (found by the temporary directory in their command lines); both
are killed if the test itself dies (PR_SET_PDEATHSIG).
Chromium missing is a failure, not a skip: scripts/deps installs it.

Usage: test_chat.py EXAMPLES_DIR OUTPUT_DIR [unittest arguments]
"""
import base64
import ctypes
import http.client
import json
import os
import re
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

EXAMPLES_DIR = sys.argv[1] if len(sys.argv) > 1 else "build/examples/examples"
OUTPUT_DIR = sys.argv[2] if len(sys.argv) > 2 else "chat-output"
CHROMIUM = "/usr/bin/chromium"
START_TIMEOUT = 30  # seconds for the server to say its port, or the browser to listen
WAIT_TIMEOUT = 15   # seconds for a page to show what it should
END_TIMEOUT = 10    # seconds for a process to exit

LIBC = ctypes.CDLL(None, use_errno=True)


def die_with_the_test():
    """In a child before exec: killed if the test dies, however it ends."""
    LIBC.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class ChatServer:
    """examples/chat on port 0; its first line is the URL it listens on."""

    def __init__(self):
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([os.path.join(EXAMPLES_DIR, "chat"), "0"],
                                     stdout=subprocess.PIPE, stderr=self.log,
                                     preexec_fn=die_with_the_test)
        line = b""
        deadline = time.monotonic() + START_TIMEOUT
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while b"\n" not in line:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise AssertionError("chat did not say its URL in %d s" % START_TIMEOUT)
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    raise AssertionError("chat exited at once: %s" % self.errors())
                line += chunk
        line = line.decode().splitlines()[0]
        prefix = "listening on http://127.0.0.1:"
        if not line.startswith(prefix):
            raise AssertionError("chat said %r, not %r..." % (line, prefix))
        self.port = int(line[len(prefix):])
        self.url = "http://127.0.0.1:%d" % self.port

    def errors(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def terminate(self):
        """SIGTERM; returns the exit status."""
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(END_TIMEOUT)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(END_TIMEOUT)
        self.proc.stdout.close()
        self.log.close()


class DevTools:
    """One DevTools WebSocket (to the browser, or to one page): commands,
    their results, and the events that came meanwhile."""

    def __init__(self, port, path):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=START_TIMEOUT)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                           "Sec-WebSocket-Key: %s\r\n\r\n" % (path, port, key)).encode())
        self.buffer = b""
        deadline = time.monotonic() + START_TIMEOUT
        while b"\r\n\r\n" not in self.buffer:
            self._fill(deadline)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101 "):
            raise AssertionError("chromium refused a DevTools connection: %r" % head[:200])
        self.next_id = 0
        self.events = []

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no answer from chromium in time")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(1 << 20)
        except socket.timeout:
            raise TimeoutError("no answer from chromium in time") from None
        if not chunk:
            raise AssertionError("chromium closed a DevTools connection")
        self.buffer += chunk

    def _take(self, n, deadline):
        while len(self.buffer) < n:
            self._fill(deadline)
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def _send(self, obj):
        data = json.dumps(obj).encode()
        n = len(data)
        if n < 126:
            head = bytes([0x81, 0x80 | n])
        elif n < 65536:
            head = bytes([0x81, 0x80 | 126]) + n.to_bytes(2, "big")
        else:
            head = bytes([0x81, 0x80 | 127]) + n.to_bytes(8, "big")
        mask = os.urandom(4)  # a client masks what it sends (RFC 6455)
        self.sock.sendall(head + mask + bytes(b ^ mask[i & 3] for i, b in enumerate(data)))

    def _receive(self, deadline):
        """The next message, whatever frames it came in."""
        message = b""
        while True:
            first, second = self._take(2, deadline)
            n = second & 0x7F
            if n >= 126:
                n = int.from_bytes(self._take(2 if n == 126 else 8, deadline), "big")
            payload = self._take(n, deadline)  # a server's frames are not masked
            opcode = first & 0x0F
            if opcode == 8:
                raise AssertionError("chromium closed a DevTools connection")
            if opcode in (0, 1):
                message += payload
                if first & 0x80:
                    return json.loads(message)

    def call(self, method, params=None, timeout=WAIT_TIMEOUT):
        """Sends one command; returns its result."""
        self.next_id += 1
        self._send({"id": self.next_id, "method": method, "params": params or {}})
        deadline = time.monotonic() + timeout
        while True:
            got = self._receive(deadline)
            if got.get("id") == self.next_id:
                if "error" in got:
                    raise AssertionError("%s failed: %s" % (method, got["error"]))
                return got["result"]
            if "method" in got:
                self.events.append(got)

    def wait_event(self, method, timeout=WAIT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events:
                if e["method"] == method:
                    self.events.remove(e)
                    return e
            got = self._receive(deadline)
            if "method" in got:
                self.events.append(got)

    def close(self):
        self.sock.close()


class Browser:
    """Headless Chromium with its DevTools on a free port."""

    def __init__(self, output_dir):
        if not os.access(CHROMIUM, os.X_OK):
            raise AssertionError("%s is not installed: scripts/deps installs Debian's "
                                 "chromium package" % CHROMIUM)
        # Everything the browser writes (profile, crash database) stays in
        # here, and its path in a command line marks a process as ours.
        self.home = tempfile.mkdtemp(prefix="nnghttp-chat-test-")
        profile = os.path.join(self.home, "profile")
        self.log = open(os.path.join(output_dir, "chromium.log"), "wb")
        args = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
                "--remote-debugging-port=0", "--user-data-dir=" + profile, "--no-first-run",
                "--disable-extensions", "--window-size=800,720", "about:blank"]
        env = dict(os.environ, HOME=self.home, XDG_CONFIG_HOME=self.home, XDG_CACHE_HOME=self.home)
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log, env=env, preexec_fn=die_with_the_test)
        self.pages = []
        # Once it listens, the browser writes "PORT\n/devtools/browser/ID"
        # to this file (not atomically: a short read is tried again).
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with open(port_file) as f:
                    port, path = f.read().split()
                if re.fullmatch(r"/devtools/browser/[0-9a-f-]{36}", path):
                    break
            except (OSError, ValueError):
                pass
            if self.proc.poll() is not None:
                raise AssertionError("chromium exited with %d; see %s" %
                                     (self.proc.returncode, self.log.name))
            if time.monotonic() > deadline:
                raise AssertionError("chromium did not listen within %d s" % START_TIMEOUT)
            time.sleep(0.05)
        self.port = int(port)
        self.devtools = DevTools(self.port, path)

    def open(self, url):
        """A new tab on url, loaded."""
        target = self.devtools.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        page = Page(self, target, DevTools(self.port, "/devtools/page/" + target))
        self.pages.append(page)
        page.devtools.call("Page.enable")
        page.devtools.call("Page.navigate", {"url": url})
        page.devtools.wait_event("Page.loadEventFired")
        page.js(PAGE_JS)
        return page

    def ours(self):
        """Our processes still alive (zombies aside): pid -> command."""
        found = {}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    cmd = f.read()
                with open("/proc/%s/stat" % pid) as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if self.home.encode() in cmd and state != "Z":
                found[int(pid)] = cmd.replace(b"\0", b" ")[:100].decode(errors="replace")
        return found

    def close(self):
        """Ends the browser and every process it started; returns the
        processes that would not end (none, normally)."""
        for page in self.pages:
            page.devtools.close()
        try:
            if self.proc.poll() is None:
                self.devtools.call("Browser.close", timeout=END_TIMEOUT)
                self.proc.wait(END_TIMEOUT)
        except Exception:  # no answer: the kills below
            pass
        self.devtools.close()
        # What is left (crashpad, for one, runs apart from the browser).
        deadline = time.monotonic() + END_TIMEOUT
        while self.ours() and time.monotonic() < deadline:
            for pid in self.ours():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(END_TIMEOUT)
        self.log.close()
        left = self.ours()
        shutil.rmtree(self.home, ignore_errors=True)
        return left


# Defined in each page before the test uses it.
PAGE_JS = r"""
// log: every entry of the page's list, kept up to date as entries come.
const read = (li) => ({
    type: li.className,
    from: li.querySelector(".from").textContent,
    text: li.querySelector(".text").textContent,
});
window.log = Array.from(document.querySelectorAll("#messages li"), read);
new MutationObserver((records) => {
    for (const r of records) {
        r.addedNodes.forEach((li) => log.push(read(li)));
    }
}).observe(document.getElementById("messages"), {childList: true});
// Resolves with cond()'s value once it is truthy (checked on every DOM
// change), or fails after ms.
window.until = (cond, ms) => new Promise((resolve, reject) => {
    const done = () => {
        const v = cond();
        if (v) {
            observer.disconnect();
            clearTimeout(timer);
            resolve(v);
        }
        return v;
    };
    const observer = new MutationObserver(done);
    const timer = setTimeout(() => {
        observer.disconnect();
        const last = log.slice(-8).map((e) => `${e.from} ${e.type} ${e.text.slice(0, 40)}`);
        reject(new Error("timed out; status: " + document.getElementById("status").textContent +
                         "; the list ends with: " + JSON.stringify(last)));
    }, ms);
    observer.observe(document.body, {subtree: true, childList: true, characterData: true});
    done();
});
// The close code the server gives a connection that sends what send() does.
window.closeCode = (send) => new Promise((resolve) => {
    const ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/chat");
    ws.onopen = () => { ws.send("tester"); send(ws); };
    ws.onclose = (e) => resolve(e.code);
});
true
"""


class Page:
    def __init__(self, browser, target, devtools):
        self.browser, self.target, self.devtools = browser, target, devtools

    def js(self, expr, timeout=WAIT_TIMEOUT):
        """expr's value (awaited if it is a promise)."""
        r = self.devtools.call("Runtime.evaluate",
                               {"expression": expr, "awaitPromise": True, "returnByValue": True},
                               timeout + 5)
        if "exceptionDetails" in r:
            raise AssertionError("in the page: %s" % r["exceptionDetails"]["exception"].get(
                "description", r["exceptionDetails"]))
        return r["result"].get("value")

    def until(self, cond):
        """Waits until the JavaScript expression cond is truthy."""
        return self.js("until(() => %s, %d)" % (cond, WAIT_TIMEOUT * 1000))

    def until_entry(self, type, who, text=None):
        want = json.dumps({"type": type, "from": who, "text": text})
        return self.until("log.find((e) => { const w = %s; return e.type === w.type && "
                          "e.from === w.from && (w.text === null || e.text === w.text); })" % want)

    def say(self, text):
        """Types text and presses Send, as a person would."""
        self.js("document.getElementById('text').value = %s; "
                "document.querySelector('#send button').click(); true" % json.dumps(text))

    def screenshot(self, path):
        png = self.devtools.call("Page.captureScreenshot", {"format": "png"})
        with open(path, "wb") as f:
            f.write(base64.b64decode(png["data"]))

    def close(self):
        self.browser.devtools.call("Target.closeTarget", {"targetId": self.target})


class Chat(unittest.TestCase):
    def setUp(self):
        os.makedirs(OUTPUT_DIR, exist_ok=True)
        self.server = ChatServer()
        self.addCleanup(self.server.kill)
        self.browser = Browser(OUTPUT_DIR)
        self.addCleanup(self.close_browser)

    def close_browser(self):
        left = self.browser.close()
        self.assertEqual(left, {}, "processes of chromium still running")

    def test_two_pages_talk(self):
        alice = self.browser.open(self.server.url + "/?name=alice")
        alice.until("document.getElementById('status').textContent === 'connected as alice'")
        alice.until_entry("join", "alice", "joined")
        bob = self.browser.open(self.server.url + "/?name=bob")
        bob.until("document.getElementById('status').textContent === 'connected as bob'")
        alice.until_entry("join", "bob", "joined")

        # A unique line each way; markup, quotes, backslashes and non-ASCII
        # must arrive as the very same text.
        stamp = "%d.%d" % (os.getpid(), time.monotonic_ns())
        from_alice = 'hello bob <b>%s</b> "quoted" \\back\\slash\\ & caf\u00e9 \U0001F600' % stamp
        from_bob = "hi alice, got it: %s\ttab" % stamp
        alice.say(from_alice)
        bob.until_entry("message", "alice", from_alice)
        alice.until_entry("message", "alice", from_alice)  # the sender gets it too
        bob.say(from_bob)
        alice.until_entry("message", "bob", from_bob)
        for page in (alice, bob):
            self.assertIsNone(page.js("document.querySelector('#messages b')"),
                              "a peer's text became markup")
            texts = [e["text"] for e in page.js("log") if e["type"] == "message"]
            self.assertEqual(texts, [from_alice, from_bob])
        for name, page in (("alice", alice), ("bob", bob)):
            path = os.path.abspath(os.path.join(OUTPUT_DIR, name + ".png"))
            page.screenshot(path)
            print("screenshot:", path)

        # The limits, from a connection of the page's own.
        self.assertEqual(alice.js("closeCode((ws) => ws.send('x'.repeat(5000)))"), 1009)
        self.assertEqual(alice.js("closeCode((ws) => ws.send(new Uint8Array([1, 2])))"), 1003)
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=WAIT_TIMEOUT)
        conn.request("GET", "/chat", headers={
            "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Origin": "http://evil.example"})
        self.assertEqual(conn.getresponse().status, 403)
        conn.close()

        bob.close()
        alice.until_entry("leave", "bob", "left")
        # SIGTERM with alice still there: she is told the server goes away.
        status = self.server.terminate()
        self.assertEqual(status, 0, "chat exited with %s: %s" % (status, self.server.errors()))
        alice.until("document.getElementById('status').textContent === 'disconnected (1001)'")

    def test_slow_reader_is_dropped(self):
        # A client that never reads: its queue fills up, and it must not
        # hold back the others.  Its receive buffer is small so that the
        # kernel soaks up little.
        alice = self.browser.open(self.server.url + "/?name=alice")
        bob = self.browser.open(self.server.url + "/?name=bob")
        bob.until_entry("join", "bob", "joined")
        slow = socket.socket()
        self.addCleanup(slow.close)
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.settimeout(WAIT_TIMEOUT)
        slow.connect(("127.0.0.1", self.server.port))
        slow.sendall(b"GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = slow.recv(1)  # byte by byte: nothing past the head is taken
            self.assertTrue(chunk, "the server closed the handshake")
            answer += chunk
        self.assertTrue(answer.startswith(b"HTTP/1.1 101 "), answer)
        name, mask = b"slowpoke", b"\x01\x02\x03\x04"
        slow.sendall(bytes([0x81, 0x80 | len(name)]) + mask +
                     bytes(b ^ mask[i % 4] for i, b in enumerate(name)))
        bob.until_entry("join", "slowpoke", "joined")

        # Past what the kernel may buffer for the slow client (its send
        # buffer grows up to tcp_wmem's maximum) plus the 256 KiB the server
        # lets wait for it, in messages of 4000 bytes.  They go in batches
        # of 50 (200 kB, within what any reader may lag: alice and bob are
        # never the slow ones), and bob must get each batch whole, in order.
        try:
            with open("/proc/sys/net/ipv4/tcp_wmem") as f:
                kernel = int(f.read().split()[2])
        except (OSError, ValueError, IndexError):
            kernel = 4 << 20
        count, batch = (kernel + (1 << 20) + 256 * 1024) // 4000, 50
        for start in range(0, count, batch):
            end = min(start + batch, count)
            alice.js("for (let i = %d; i < %d; i++) ws.send(i + ':' + 'x'.repeat(3990)); true"
                     % (start, end))
            bob.until("log.findLast((e) => e.type === 'message')?.text.startsWith('%d:')"
                      % (end - 1))
        got = bob.js("log.filter((e) => e.type === 'message').map((e) => e.text.split(':')[0])")
        self.assertEqual(got, [str(i) for i in range(count)])
        # Dropped (1008; its closing handshake cannot finish, so the
        # server's close timeout ends it), and the others are told.
        alice.until_entry("leave", "slowpoke", "left")
        self.assertEqual(self.server.terminate(), 0, self.server.errors())


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]] + sys.argv[3:], verbosity=2)
