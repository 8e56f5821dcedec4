#!/usr/bin/env python3
"""Live fuzzer of `nnghttp serve`: mutated HTTP/1.1 requests over many
concurrent connections against a running server, with an oracle on every
exchange and on the process at the end.  See README.md in this directory.

    livefuzz.py NNGHTTP [--seed S] [--requests N] [--connections C]
                        [--time-limit T] [--response-timeout R] ...
    livefuzz.py NNGHTTP --seed S --case I [--case J ...]   (replay cases)
    livefuzz.py NNGHTTP --replay FILE.bin [--end fin]      (replay bytes)

Python 3 standard library only.
"""
import argparse
import collections
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time

# The modules beside this file; no __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cases  # noqa: E402
import model  # noqa: E402
import wire  # noqa: E402

START_TIMEOUT = 30.0
TERM_TIMEOUT = 20.0
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer")
MIB = 1024 * 1024
CONTROL_EVERY = 50


# ---------------------------------------------------------------- the server


def proc_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def proc_fd_links(pid):
    """fd number -> what it refers to."""
    out = {}
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            out[int(fd)] = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            pass
    return out


def proc_rss(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def uses_asan(binary, pid):
    try:
        with open("/proc/%d/maps" % pid) as f:
            if "asan" in f.read():
                return True
    except OSError:
        pass
    try:
        with open(binary, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


class Server:
    """`nnghttp serve` on a temporary site, port chosen by the kernel.  Its
    access log (one line per response) goes to a file, not a pipe, so that
    it never blocks on a full pipe."""

    def __init__(self, binary, www, workdir, threads=None, cert=None, key=None):
        self.binary = binary
        self.out_path = os.path.join(workdir, "serve.stdout")
        self.err_path = os.path.join(workdir, "serve.stderr")
        self.https = cert is not None
        argv = [binary, "serve", www, "--listen", "%s://127.0.0.1:0" % ("https" if self.https else "http")]
        if threads is not None:
            argv += ["--threads", str(threads)]
        if self.https:
            argv += ["--tls-cert", cert, "--tls-key", key]
        self.argv = argv
        self.out = open(self.out_path, "wb")
        self.err = open(self.err_path, "wb")
        # restore_signals (the default) gives the child SIGPIPE's default
        # disposition back: a write to a reset connection kills it unless
        # it protects itself.
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.err,
                                     restore_signals=True)
        self.pid = self.proc.pid
        self.port = self._port()
        self.exit_status = None

    def _port(self):
        deadline = time.monotonic() + START_TIMEOUT
        pattern = re.compile(rb"serving .* at https?://127\.0\.0\.1:(\d+)/")
        while time.monotonic() < deadline:
            with open(self.out_path, "rb") as f:
                m = pattern.search(f.readline())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.terminate()
        raise RuntimeError("%s did not start: stdout %r, stderr %r" % (
            " ".join(self.argv), self.read_out()[:500], self.stderr()[-2000:]))

    def alive(self):
        return self.proc.poll() is None

    def terminate(self):
        """SIGTERM, bounded wait, SIGKILL; the exit status (negative: the
        signal), or a text saying it had to be killed."""
        if self.exit_status is not None:
            return self.exit_status
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(TERM_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(TERM_TIMEOUT)
                self.exit_status = "killed: no exit within %.0f s of SIGTERM" % TERM_TIMEOUT
        if self.exit_status is None:
            self.exit_status = self.proc.returncode
        self.out.close()
        self.err.close()
        return self.exit_status

    def read_out(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stderr(self):
        with open(self.err_path, "rb") as f:
            return f.read().decode(errors="replace")

    def socket_states(self):
        """For each socket the process holds: (inode, state, remote port)
        from /proc/PID/net/tcp*, for the sockets of its listening port."""
        inodes = set()
        for fd in os.listdir("/proc/%d/fd" % self.pid):
            try:
                link = os.readlink("/proc/%d/fd/%s" % (self.pid, fd))
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
        found = []
        for table in ("tcp", "tcp6"):
            try:
                with open("/proc/%d/net/%s" % (self.pid, table)) as f:
                    lines = f.read().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                cols = line.split()
                local_port = int(cols[1].rsplit(":", 1)[1], 16)
                remote_port = int(cols[2].rsplit(":", 1)[1], 16)
                if cols[9] in inodes and local_port == self.port and remote_port != 0:
                    found.append((cols[9], TCP_STATES.get(cols[3], cols[3]), remote_port))
        return found


TCP_STATES = {"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2",
              "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN",
              "0B": "CLOSING"}


def signal_text(status):
    if isinstance(status, int) and status < 0:
        try:
            return "killed by %s" % signal.Signals(-status).name
        except ValueError:
            return "killed by signal %d" % -status
    return "exit status %s" % (status,)


# ---------------------------------------------------------------- the run


class Failure:
    def __init__(self, category, message, case=None, prev=None, received=b"", responses=()):
        self.category = category
        self.message = message
        self.case = case
        self.prev = prev
        self.received = received
        self.responses = list(responses)


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.cases = 0
        self.requests = 0
        self.bytes_sent = 0
        self.classes = collections.Counter()
        self.ends = collections.Counter()
        self.connections = 0
        self.kinds = collections.Counter()

    def add(self, **kw):
        with self.lock:
            for k, v in kw.items():
                setattr(self, k, getattr(self, k) + v)


class Fuzzer:
    def __init__(self, args, server, out_dir):
        self.args = args
        self.server = server
        self.out_dir = out_dir
        self.stats = Stats()
        self.lock = threading.Lock()
        self.failures = []
        self.failure_count = 0
        self.halt = threading.Event()
        self.server_dead = False
        self.next_index = 0
        self.inflight = {}
        self.recent = collections.deque(maxlen=64)
        self.retired = []  # every connection of the run, once done with
        self.quiet = False  # failures are not recorded while set
        self.trace = False  # print every answer (replays)
        self.save = True  # write failures to the output directory
        self.fd_base = None  # the server's descriptors between connections (--check-each)
        self.tls = None
        if server.https:
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            self.tls.check_hostname = False
            self.tls.verify_mode = ssl.CERT_NONE
        self.deadline = None
        self.ran_out_of_time = False

    # ---- failures

    def fail(self, f):
        if self.quiet:
            return
        with self.lock:
            if self.server_dead and f.category not in ("crash",):
                return
            self.failure_count += 1
            n = self.failure_count
            if n <= self.args.max_saved:
                self.failures.append(f)
                if self.save:
                    self._save(n, f)
            if n >= self.args.max_failures:
                self.halt.set()

    def _save(self, n, f):
        os.makedirs(self.out_dir, exist_ok=True)
        base = os.path.join(self.out_dir, "failure-%03d" % n)
        with open(base + ".txt", "w") as out:
            out.write(self.render(f, full=True))
        if f.case is not None:
            with open(base + ".bin", "wb") as out:
                out.write(f.case.data)
        f.saved = base

    def replay_command(self, case):
        if case.index < 0:
            return "(not replayable by index)"
        extra = ""
        if self.args.control_every != CONTROL_EVERY:
            extra += " --control-every %d" % self.args.control_every
        if self.args.kinds:
            extra += " --kinds %s" % self.args.kinds
        if self.args.threads is not None:
            extra += " --threads %d" % self.args.threads
        if self.args.tls_cert:
            extra += " --tls-cert %s --tls-key %s" % (os.path.abspath(self.args.tls_cert),
                                                      os.path.abspath(self.args.tls_key))
        return "python3 %s %s --seed %d --case %d%s" % (os.path.abspath(__file__), os.path.abspath(self.args.nnghttp),
                                                         case.seed, case.index, extra)

    def render_case(self, c, label="case", full=False):
        lines = ["  %s: %s" % (label, c.describe())]
        lines.append("    model: %r" % (c.analysis,))
        data = c.data
        shown = data if full or len(data) <= 600 else data[:400] + b" ... " + data[-100:]
        lines.append("    bytes (%d): %r" % (len(data), shown))
        if full:
            lines.append("    hex: %s" % data.hex())
        lines.append("    replay: %s" % self.replay_command(c))
        return "\n".join(lines)

    def render(self, f, full=False):
        lines = ["[%s] %s" % (f.category, f.message)]
        for label, c in (("case", f.case), ("previous case on the same connection", f.prev)):
            if c is not None:
                lines.append(self.render_case(c, label, full))
        if f.responses:
            lines.append("  answers before it: %s" % ", ".join(r.summary() for r in f.responses))
        if f.received:
            shown = f.received if full or len(f.received) <= 600 else f.received[:600] + b" ..."
            lines.append("  received (%d bytes not yet a whole response): %r" % (len(f.received), shown))
        for c in getattr(f, "inflight", ()):
            lines.append("  in flight: %s" % c.describe())
        saved = getattr(f, "saved", None)
        if saved:
            lines.append("  saved: %s.txt%s" % (saved, ", %s.bin" % saved if f.case is not None else ""))
        return "\n".join(lines) + "\n"

    # ---- the workers

    def take_index(self):
        with self.lock:
            if self.halt.is_set() or self.next_index >= self.args.requests:
                return None
            if time.monotonic() > self.deadline:
                self.ran_out_of_time = True
                self.halt.set()
                return None
            i = self.next_index
            self.next_index += 1
            return i

    def new_conn(self, case):
        try:
            conn = wire.Conn(self.server.port, time.monotonic() + self.args.response_timeout, self.tls)
        except OSError as e:
            # Refused: maybe the process is on its way out; give it a moment
            # to be seen dead before blaming the listener.
            end = time.monotonic() + 2
            while time.monotonic() < end:
                if not self.check_alive():
                    return None
                time.sleep(0.05)
            self.fail(Failure("connect", "cannot connect to the server: %s" % e, case))
            return None
        self.stats.add(connections=1)
        return conn

    def check_alive(self):
        if self.server.alive():
            return True
        with self.lock:
            if self.server_dead:
                return False
            self.server_dead = True
        status = self.server.proc.wait()
        inflight = list(self.inflight.values())
        f = Failure("crash", "the server died (%s) during the run; %d case(s) were in flight, the "
                    "last %d finished are in the report" % (signal_text(status), len(inflight), len(self.recent)))
        f.inflight = inflight
        with self.lock:
            self.failure_count += 1
            self.failures.append(f)
            os.makedirs(self.out_dir, exist_ok=True)
            base = os.path.join(self.out_dir, "crash")
            with open(base + ".txt", "w") as out:
                out.write(self.render(f, full=True))
                out.write("\ncases in flight when it died:\n")
                for c in inflight:
                    out.write(self.render_case(c, "in flight", full=True) + "\n")
                    with open("%s-case-%d.bin" % (base, c.index), "wb") as b:
                        b.write(c.data)
                out.write("\nlast cases finished, oldest first:\n")
                for c in list(self.recent):
                    out.write(self.render_case(c, "finished") + "\n")
                out.write("\nserver stderr:\n" + self.server.stderr()[-20000:])
            f.saved = base
        self.halt.set()
        return False

    def monitor(self):
        while not self.halt.wait(0.2):
            if not self.check_alive():
                return

    def worker(self, wid):
        conn = None
        prev = None
        try:
            while True:
                i = self.take_index()
                if i is None:
                    break
                case = cases.generate(self.args.seed, i, self.args.control_every, self.args.only)
                self.inflight[wid] = case
                if conn is not None and (case.fresh or conn.poll_end() is not None or conn.buf):
                    if conn.buf and conn.ended is None:
                        self.fail(Failure("unsolicited", "%d byte(s) arrived on an idle keep-alive connection "
                                          "after every request on it had its answer" % len(conn.buf),
                                          prev, received=bytes(conn.buf)))
                    conn.close()
                    self.retire(conn)
                    conn = None
                if conn is None:
                    conn = self.new_conn(case)
                    prev = None
                    if conn is None:
                        continue
                conn.cases.append(case.index)
                case.prev_index = prev.index if prev is not None else None
                try:
                    reusable = self.run_case(conn, case, prev)
                except Exception as e:  # a fault of the fuzzer itself: reported, not hidden
                    import traceback
                    self.fail(Failure("internal", "the fuzzer raised %r:\n%s" % (e, traceback.format_exc()),
                                      case, prev))
                    self.abort(conn, case)
                    reusable = False
                self.recent.append(case)
                del self.inflight[wid]
                if reusable:
                    prev = case
                else:
                    self.retire(conn, case, prev)
                    conn = None
                    prev = None
        finally:
            if conn is not None:
                conn.close()
                self.retire(conn)

    def retire(self, conn, case=None, prev=None):
        conn.buf = bytearray()
        with self.lock:
            self.retired.append(conn)
        if self.args.check_each and case is not None and self.fd_base is not None:
            # One connection at a time: once it is over, the server must be
            # back to the descriptors it had before.
            pid = self.server.pid
            end = time.monotonic() + 2
            while proc_fds(pid) > self.fd_base and time.monotonic() < end:
                time.sleep(0.01)
            n = proc_fds(pid)
            if n > self.fd_base:
                self.fail(Failure("descriptor", "the server still holds %d more descriptor(s) 2 s after this "
                                  "connection ended (ours: %s; the server's: %s)" % (
                                      n - self.fd_base, conn.our_end and conn.our_end[1], conn.ended), case, prev))
                self.fd_base = n

    def explain_leftovers(self, server, fd_before, since, watch):
        """The server still holds more descriptors than before the run.
        Watches them for up to `watch` seconds more: when one goes, the
        server's timeouts (head 30 s, idle/body/send 60 s) say when the
        connection that held it last moved, and the connections of ours
        whose last byte or end came at that moment are the suspects."""
        pid = server.pid
        held = proc_fds(pid) - fd_before
        states = server.socket_states()
        drops = []
        end = time.monotonic() + watch
        last = proc_fds(pid)
        while last > fd_before and time.monotonic() < end and server.alive():
            time.sleep(0.05)
            n = proc_fds(pid)
            if n < last:
                drops.append((time.monotonic(), last - n))
            last = n
        lines = ["descriptors: %d more than before the run, %.0f s after our last connection closed; the server "
                 "holds %d TCP connection(s) listed in /proc/net/tcp (%s); the rest are sockets reset by our side "
                 "that the server has not closed" % (
                     held, time.monotonic() - since if not drops else drops[0][0] - since, len(states),
                     ", ".join("%s from port %d" % (st, port) for _, st, port in states) or "none")]
        if not drops:
            lines.append("  none of them was released within %.0f s more" % watch)
        by_port = {c.local_port: c for c in self.retired}
        for _, st, port in states:
            c = by_port.get(port)
            if c is not None:
                lines.append("  %s connection from port %d carried cases %s, ended by us: %s" % (
                    st, port, c.cases, c.our_end[1] if c.our_end else "no"))
        for t, n in drops:
            lines.append("  %d released %.1f s after the run; candidates: our connections that ended by a reset "
                         "just one server timeout earlier (closest first; replay them with --case):" % (n, t - since))
            suspects = []
            for timeout in (30.0, 60.0):
                for c in self.retired:
                    # A socket the server holds but /proc/net/tcp does not
                    # list was reset: by our reset, or by our close with its
                    # data still coming.  Not one that the server closed.
                    if c.server_end is not None or c.our_end is None or c.our_end[1] == "FIN":
                        continue
                    marks = [("opened", c.opened), ("last byte sent", c.last_sent)]
                    if c.our_end:
                        marks.append(("our %s" % c.our_end[1], c.our_end[0]))
                    for what, when in marks:
                        late = (t - when) - timeout
                        if -0.05 <= late <= 0.3:
                            suspects.append((abs(late - 0.02), late, timeout, what, c))
            suspects.sort(key=lambda x: x[0])
            for _, late, timeout, what, c in suspects[:4]:
                lines.append("    port %d: %s %.0f s + %.3f s before; cases %s; ended by us: %s; by the server: %s" % (
                    c.local_port, what, timeout, late, ", ".join(str(i) for i in c.cases),
                    c.our_end[1] if c.our_end else "no", "yes" if c.server_end else "no"))
            if not suspects:
                lines.append("    (none)")
        return "\n".join(lines)

    # ---- one exchange

    def run_case(self, conn, case, prev):
        """Sends the case, checks what comes back, ends the connection as
        the case says.  True if the connection can take another request."""
        a = case.analysis
        t = self.args.response_timeout
        self.stats.add(cases=1, requests=max(1, len(a.items)), bytes_sent=len(case.data))
        with self.stats.lock:
            self.stats.kinds[case.kind] += 1
        responses = []
        ended = None
        for pause, part in case.parts:
            if pause:
                time.sleep(pause)
            try:
                ended = conn.send(part, time.monotonic() + t)
            except wire.TimedOut:
                self.fail(Failure("hang", "the server took none of our bytes for %.1f s" % t, case, prev,
                                  bytes(conn.buf)))
                self.abort(conn, case)
                return False
            if ended:
                break
        if ended:
            # It closed while we were sending: what it sent before must
            # still parse.
            self.count_end(case, "server reset during our send")
        if case.abort_after is not None:
            return self.abort_download(conn, case)
        if case.end in ("close", "rst") and not case.read_first:
            return self.finish(conn, case, prev, responses)

        while len(responses) < a.must:
            r = self.read_one(conn, case, prev, responses)
            if r is None:
                self.abort(conn, case)
                return False
            if r == "ended":
                return self.done(conn)
        return self.finish(conn, case, prev, responses)

    def read_one(self, conn, case, prev, responses):
        """One final response (interim ones are skipped), checked.  Returns
        the response, "ended" if the connection ended cleanly, None after a
        failure."""
        t = self.args.response_timeout
        while True:
            i = len(responses)
            bodiless = case.analysis.bodiless(i)
            try:
                res = conn.read_response(time.monotonic() + t, bodiless)
            except wire.Ended as e:
                self.count_end(case, "server " + ("close" if e.how == "eof" else "reset"))
                if e.partial and e.how == "eof":
                    self.fail(Failure("protocol", "the connection closed in the middle of a response",
                                      case, prev, e.partial, responses))
                    return None
                if len(responses) < case.analysis.must and e.how == "eof" and case.analysis.exact and \
                        len(case.expects) > i and case.expects[i] is not None and \
                        not any(r.closes() for r in responses):
                    self.fail(Failure("dropped", "the server closed the connection without answering request "
                                      "%d of %d, a valid one" % (i + 1, case.analysis.must), case, prev,
                                      e.partial, responses))
                    return None
                return "ended"
            except wire.TimedOut as e:
                if e.what is not None:
                    why = "%s within %.1f s" % (e.what, t)
                elif i < case.analysis.must:
                    why = "no answer to request %d and no close within %.1f s (the server owes %d answer(s))" % (
                        i + 1, t, case.analysis.must)
                else:
                    why = "no close within %.1f s of our FIN (every answer owed came)" % t
                self.fail(Failure("hang", why, case, prev, e.partial, responses))
                self.abort(conn, case)
                return None
            except wire.Violation as v:
                self.fail(Failure("protocol", str(v), case, prev, v.partial, responses))
                self.abort(conn, case)
                return None
            if self.trace:
                print("  answer: %s %r" % (res.summary(), res.headers))
            cls = "%dxx" % (res.status // 100)
            with self.stats.lock:
                self.stats.classes[cls] += 1
            if res.status < 200:
                continue
            responses.append(res)
            if i < len(case.expects) and case.expects[i] is not None:
                why = case.expects[i].check(res)
                if why is not None:
                    self.fail(Failure("answer", "request %d: %s" % (i + 1, why), case, prev, b"", responses))
                    self.abort(conn, case)
                    return None
            bound = case.analysis.bound
            if bound is not None and len(responses) > bound:
                self.fail(Failure("extra", "%d answers to %d request(s): bytes the server should have "
                                  "treated as part of a request (a body?) were answered as a request" % (
                                      len(responses), bound), case, prev, b"", responses))
                self.abort(conn, case)
                return None
            if res.closes():
                how, extra = conn.wait_end(time.monotonic() + t)
                if how is None:
                    self.fail(Failure("hang", "answered with \"Connection: close\" but did not close within "
                                      "%.1f s" % t, case, prev, extra, responses))
                    self.abort(conn, case)
                    return None
                self.count_end(case, "server " + ("close" if how == "eof" else "reset"))
                if extra and how == "eof":
                    self.fail(Failure("protocol", "bytes after a \"Connection: close\" answer", case, prev,
                                      extra, responses))
                    return None
                return "ended"
            return res

    def finish(self, conn, case, prev, responses):
        a = case.analysis
        if conn.ended is not None:
            return self.done(conn)
        if case.end == "keep":
            if a.exact and len(responses) == len(a.items):
                return True
            conn.close()
            self.count_end(case, "our close")
            return False
        if case.end == "rst":
            conn.reset()
            self.count_end(case, "our reset")
            return False
        if case.end == "close":
            conn.close()
            self.count_end(case, "our close")
            return False
        # fin: the server must answer what it owes, then close.
        conn.shutdown_write()
        self.count_end(case, "our FIN")
        while True:
            r = self.read_one(conn, case, prev, responses)
            if r is None:
                self.abort(conn, case)
                return False
            if r == "ended":
                break
        return self.done(conn)

    def done(self, conn):
        """The server ended the connection: ours closes too."""
        conn.close()
        return False

    def abort(self, conn, case):
        """Ends the connection with a reset after a failure."""
        if conn.ended is None:
            conn.reset()
            self.count_end(case, "our reset after a failure")
        else:
            conn.close()

    def abort_download(self, conn, case):
        deadline = time.monotonic() + self.args.response_timeout
        try:
            while len(conn.buf) < case.abort_after:
                conn._fill(deadline)
        except (wire.Ended, wire.TimedOut):
            pass
        if case.end == "rst":
            conn.reset()
            self.count_end(case, "our reset")
        else:
            conn.close()
            self.count_end(case, "our close")
        return False

    def count_end(self, case, what):
        case.ends.append(what)
        with self.stats.lock:
            self.stats.ends[what] += 1


# ---------------------------------------------------------------- main


def parse_args(argv):
    p = argparse.ArgumentParser(description="Live fuzzer of nnghttp serve")
    p.add_argument("nnghttp", help="the nnghttp program")
    p.add_argument("--seed", type=int, default=1, help="seed of every case (default 1)")
    p.add_argument("--requests", type=int, default=20000, help="cases to send (default 20000)")
    p.add_argument("--connections", type=int, default=30, help="concurrent connections (default 30)")
    p.add_argument("--time-limit", type=float, default=300.0,
                   help="seconds for the whole fuzzing phase; not finishing in time fails (default 300)")
    p.add_argument("--response-timeout", type=float, default=5.0,
                   help="seconds the server has for each answer or close it owes (default 5)")
    p.add_argument("--control-every", type=int, default=CONTROL_EVERY,
                   help="every Nth case is a valid GET /index.html on a new connection (default 50)")
    p.add_argument("--settle", type=float, default=10.0,
                   help="seconds for the descriptor count to come back at the end (default 10)")
    p.add_argument("--rss-slack-mib", type=float, default=None,
                   help="allowed RSS growth over the baseline (default 32; 384 under AddressSanitizer)")
    p.add_argument("--leak-watch", type=float, default=70.0,
                   help="when descriptors are left over: seconds to watch them go, to name the connections "
                        "that held them (default 70)")
    p.add_argument("--threads", type=int, default=None, help="nnghttp serve --threads N")
    p.add_argument("--tls-cert", help="serve https with this certificate (with --tls-key)")
    p.add_argument("--tls-key")
    p.add_argument("--check-each", action="store_true",
                   help="after each connection ends, the server's descriptor count must come back (use with "
                        "--connections 1 to find the case that leaves one behind)")
    p.add_argument("--kinds", help="comma-separated kinds of case to draw from (default: all of %s); replay "
                   "with the same list" % ",".join(k for k, _ in cases.KINDS))
    p.add_argument("--max-failures", type=int, default=20, help="end the run after this many failures")
    p.add_argument("--max-saved", type=int, default=50, help="failures written to --out")
    p.add_argument("--out", default="livefuzz-out", help="where failures are written (default ./livefuzz-out)")
    p.add_argument("--case", type=int, action="append", help="replay this case alone (repeatable)")
    p.add_argument("--replay", help="replay the bytes of this file (a saved failure-NNN.bin)")
    p.add_argument("--end", choices=["keep", "fin", "close", "rst"], default="fin",
                   help="with --replay: how to end the connection (default fin)")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args(argv)
    if (args.tls_cert is None) != (args.tls_key is None):
        p.error("--tls-cert and --tls-key go together")
    args.only = None
    if args.kinds:
        args.only = set(args.kinds.split(","))
        unknown = args.only - {k for k, _ in cases.KINDS}
        if unknown:
            p.error("unknown kinds: %s" % ", ".join(sorted(unknown)))
    return args


def replay(args, fz):
    """Runs the chosen cases one after another, each on a new connection,
    and prints every exchange."""
    todo = []
    if args.replay:
        with open(args.replay, "rb") as f:
            data = f.read()
        c = cases.Case(args.seed, -1, "replayed file")
        c.parts = [(0.0, data)]
        c.notes = [args.replay]
        c.analysis = model.analyze(data)
        c.end = args.end
        todo.append(c)
    for i in args.case or []:
        todo.append(cases.generate(args.seed, i, args.control_every, args.only))
    for c in todo:
        print(c.describe())
        print("  model: %r" % (c.analysis,))
        print("  bytes: %r" % (c.data if len(c.data) < 2000 else c.data[:2000] + b"..."))
        before = fz.failure_count
        conn = fz.new_conn(c)
        if conn is None:
            break
        fz.trace = True
        start = time.monotonic()
        fds = proc_fds(fz.server.pid)
        fz.run_case(conn, c, None)
        conn.close()
        took = time.monotonic() - start
        # The connection is over: the server must let go of it.
        end = time.monotonic() + 2
        while proc_fds(fz.server.pid) > fds and time.monotonic() < end:
            time.sleep(0.02)
        if proc_fds(fz.server.pid) > fds:
            fz.fail(Failure("descriptor", "the server still holds the connection's descriptor 2 s after it "
                            "ended (ours: %s, the server's: %s)" % (conn.our_end[1], conn.ended), c))
        print("  took %.3f s; %s" % (took, "ok" if fz.failure_count == before else "FAILED"))
        for f in fz.failures[before:]:
            print(fz.render(f))


def main(argv=None):
    args = parse_args(argv if argv is not None else sys.argv[1:])
    nnghttp = os.path.abspath(args.nnghttp)
    work = tempfile.mkdtemp(prefix="livefuzz-")
    www = os.path.join(work, "www")
    cases.make_site(www)
    out_dir = os.path.abspath(args.out)
    if not (args.case or args.replay) and os.path.isdir(out_dir):
        shutil.rmtree(out_dir, ignore_errors=True)
    server = Server(nnghttp, www, work, args.threads, args.tls_cert, args.tls_key)
    fz = Fuzzer(args, server, out_dir)
    problems = []
    try:
        if args.case or args.replay:
            fz.deadline = time.monotonic() + 3600
            fz.save = False
            replay(args, fz)
            status = server.terminate()
            if status != 0:
                print("server: %s after SIGTERM" % signal_text(status))
            return 1 if fz.failure_count or status != 0 else 0
        return run(args, server, fz, problems, out_dir)
    finally:
        server.terminate()
        shutil.rmtree(work, ignore_errors=True)


def run(args, server, fz, problems, out_dir):
    pid = server.pid
    # Warm up with one control request, then take the baseline.
    fz.deadline = time.monotonic() + 60
    warm = cases.control_case(args.seed, -1)
    conn = fz.new_conn(warm)
    if conn is not None:
        fz.run_case(conn, warm, None)
    if conn is None or fz.failure_count:
        print("livefuzz: the server does not answer a plain GET /index.html")
        for f in fz.failures:
            print(fz.render(f))
        return 1
    time.sleep(0.3)
    fd_before = proc_fds(pid)
    links_before = proc_fd_links(pid)
    rss_before = proc_rss(pid)
    asan = uses_asan(server.binary, pid)
    slack = args.rss_slack_mib if args.rss_slack_mib is not None else (384.0 if asan else 32.0)

    print("livefuzz: %s serve on port %d (pid %d%s), seed %d, %d cases over %d connections, time limit %.0f s"
          % (server.binary, server.port, pid, ", AddressSanitizer" if asan else "", args.seed, args.requests,
             args.connections, args.time_limit), flush=True)
    fz.stats = Stats()
    fz.fd_base = fd_before
    start = time.monotonic()
    fz.deadline = start + args.time_limit
    threads = [threading.Thread(target=fz.worker, args=(w,), daemon=True) for w in range(args.connections)]
    mon = threading.Thread(target=fz.monitor, daemon=True)
    mon.start()
    for th in threads:
        th.start()
    last = start
    while any(th.is_alive() for th in threads):
        for th in threads:
            th.join(0.5)
        now = time.monotonic()
        if args.verbose or now - last >= 10:
            last = now
            print("  %.0f s: %d cases, %d failure(s)" % (now - start, fz.stats.cases, fz.failure_count),
                  flush=True)
    elapsed = time.monotonic() - start
    fz.halt.set()
    mon.join(1)

    # The process after the run.
    fd_after = rss_after = fd_at_end = None
    settled_in = 0.0
    if server.alive() and not fz.server_dead:
        settle_start = time.monotonic()
        settle_end = settle_start + args.settle
        fd_after = proc_fds(pid)
        fd_at_end = fd_after
        while fd_after != fd_before and time.monotonic() < settle_end:
            time.sleep(0.1)
            n = proc_fds(pid)
            if args.verbose and n != fd_after:
                print("  %.1f s after the run: %d descriptors" % (time.monotonic() - settle_start, n))
            fd_after = n
        settled_in = time.monotonic() - settle_start
        rss_after = proc_rss(pid)
        if fd_after != fd_before:
            links_after = proc_fd_links(pid)
            new_links = collections.Counter(v for k, v in links_after.items() if links_before.get(k) != v)
            kinds = collections.Counter(re.sub(r"\[\d+\]$", "", v) for v in new_links.elements())
            problems.append("descriptors: %d at the end against %d before the run, %.0f s after every "
                            "connection of ours was closed; the new ones: %s" % (
                                fd_after, fd_before, args.settle,
                                ", ".join("%d x %s" % (n, k) for k, n in kinds.most_common(8))))
            problems.append(fz.explain_leftovers(server, fd_before, settle_start, args.leak_watch))
        if rss_after > rss_before + slack * MIB:
            problems.append("memory: VmRSS %.1f MiB at the end against %.1f MiB before (allowed +%.0f MiB)" % (
                rss_after / MIB, rss_before / MIB, slack))
        # A last liveness check.
        final = cases.control_case(args.seed, -2)
        fz.deadline = time.monotonic() + 60
        c = fz.new_conn(final)
        if c is not None:
            fz.run_case(c, final, None)
    if fz.ran_out_of_time:
        problems.append("time limit: only %d of %d cases in %.0f s" % (fz.stats.cases, args.requests,
                                                                        args.time_limit))
    alive = server.alive()
    status = server.terminate()
    if not alive and not fz.server_dead:
        problems.append("the server was dead at the end (%s)" % signal_text(status))
    elif alive and status != 0:
        problems.append("the server ended with %s after SIGTERM (expected exit status 0)" % signal_text(status))
    err = server.stderr()
    marks = [m for m in SANITIZER_MARKS if m in err]
    if marks:
        i = min(err.find(m) for m in marks)
        problems.append("sanitizer report on the server's stderr (%s):\n%s" % (", ".join(marks), err[i : i + 6000]))
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "serve.stderr"), "w") as f:
            f.write(err)

    s = fz.stats
    print("livefuzz: seed %d: %d cases (%d requests, %.1f MiB) in %.1f s over %d connections (%d opened)" % (
        args.seed, s.cases, s.requests, s.bytes_sent / MIB, elapsed, args.connections, s.connections))
    print("  cases by kind: %s" % ", ".join("%s %d" % kv for kv in sorted(s.kinds.items())))
    print("  answers: %s" % ", ".join("%s %d" % (k, s.classes.get(k, 0)) for k in ("1xx", "2xx", "3xx", "4xx", "5xx")))
    print("  connection ends: %s" % ", ".join("%s %d" % kv for kv in sorted(s.ends.items())))
    if fd_after is not None:
        print("  descriptors: %d before, %d when the last connection closed, %d %.1f s later; VmRSS: %.1f MiB "
              "before, %.1f MiB after (allowed +%.0f MiB)" % (fd_before, fd_at_end, fd_after, settled_in,
                                                              rss_before / MIB, rss_after / MIB, slack))
    print("  server: %s after SIGTERM" % signal_text(status))

    total = fz.failure_count + len(problems)
    if total == 0:
        print("livefuzz: PASS")
        return 0
    print("livefuzz: FAIL: %d failure(s)%s; replay one with --seed %d --case INDEX" % (
        total, " (the run ended early at --max-failures %d)" % args.max_failures
        if fz.failure_count >= args.max_failures else "", args.seed))
    for f in fz.failures:
        print(fz.render(f))
    for p in problems:
        print("[process] " + p)
    if fz.failures or problems:
        print("details: %s" % out_dir)
    return 1


if __name__ == "__main__":
    sys.exit(main())
