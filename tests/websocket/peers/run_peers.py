#!/usr/bin/env python3
"""run_peers.py: third-party WebSocket peers against the echo server and
echo client under test.

  run_peers.py --server-cmd "ECHO_SERVER {port}" [--client-cmd "ECHO_CLIENT {url}"]
               [--peer node|python|all] [--only GLOB]... [--timeout S] [--scale N]
               [--report PATH] [--list] [-v]

Server tests: node's `ws` and Python's `websockets` connect as clients to
the echo server (started twice: once plain, once with --protocol chat
--protocol superchat) and check its echoes, pongs, closes and subprotocol
choice.  Client tests: the peers play the server for one run of the echo
client per scenario; the peer checks what the client sent back and this
runner checks the client's output and exit status.

Each command is a template split like a shell line ({port} and {url} are
replaced); the runner adds --protocol arguments where a test needs them.
Python standard library only; the peers run as child processes (node with
NODE_PATH=/usr/share/nodejs, /usr/bin/python3).  Loopback only; every wait
is bounded; every process started is ended.  Exit status: 0 if every
selected test passed, 1 if one failed, 2 on bad usage.
"""
import argparse
import collections
import fnmatch
import json
import os
import queue
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = ("node", "python")
SERVER_PROTOCOLS = ["--protocol", "chat", "--protocol", "superchat"]

# What the echo client must do in each client scenario: the extra arguments
# it gets, then either the "protocol" line, the "closed" line and the exit
# status it must show (None: not judged), or fail=True: the connection must
# fail (non-zero status, no "protocol" line).
CLIENT_SCENARIOS = collections.OrderedDict(
    [
        ("echo", dict(args=[], protocol="-", closed=(4001, "bye"), status=0)),
        ("subprotocol", dict(args=["--protocol", "chat", "--protocol", "superchat"], protocol="superchat", closed=(1000, ""), status=0)),
        ("close-no-code", dict(args=[], protocol="-", closed=(1005, ""), status=0)),
        ("abort", dict(args=[], protocol="-", closed=(1006, ""), status=None)),
        ("wrong-protocol", dict(args=["--protocol", "chat"], fail="the server selected a subprotocol the client did not offer")),
        ("unrequested-protocol", dict(args=[], fail="the server selected a subprotocol although the client offered none")),
        ("bad-accept", dict(args=[], fail="the server's Sec-WebSocket-Accept is wrong")),
        ("no-upgrade", dict(args=[], fail="the server's 101 has no Upgrade header")),
        ("status-200", dict(args=[], fail="the server answered 200 instead of 101")),
    ]
)


# The compression scenarios (--deflate): the echo client runs with --deflate
# and must echo everything, answer the ping and the close 4001 "bye".
DEFLATE_CLIENT = dict(args=["--deflate"], protocol="-", closed=(4001, "bye"), status=0)


def client_spec(scenario):
    return CLIENT_SCENARIOS.get(scenario, DEFLATE_CLIENT)


class Usage(Exception):
    pass


# ------------------------------------------------------------------ processes


class Proc:
    """A child process in its own session, its output read by threads."""

    live = []

    def __init__(self, argv, env=None, what="process"):
        self.what = what
        self.argv = argv
        try:
            self.p = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                start_new_session=True,
            )
        except OSError as e:
            raise RuntimeError("cannot start %s (%s): %s" % (what, " ".join(argv), e)) from None
        Proc.live.append(self)
        self.lines = queue.Queue()
        self.out = []
        self.err = collections.deque(maxlen=40)
        threading.Thread(target=self._read_out, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read_out(self):
        for raw in self.p.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.out.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def _read_err(self):
        for raw in self.p.stderr:
            self.err.append(raw.decode("utf-8", "replace").rstrip("\r\n"))

    def line(self, deadline):
        """The next stdout line, None at its end; raises TimeoutError at the deadline."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        try:
            return self.lines.get(timeout=left)
        except queue.Empty:
            raise TimeoutError from None

    def drain(self, seconds):
        """Wait (bounded) until the reader threads have taken all of stdout."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                if self.line(deadline) is None:
                    return
            except TimeoutError:
                return

    def wait(self, seconds):
        try:
            return self.p.wait(timeout=max(seconds, 0.01))
        except subprocess.TimeoutExpired:
            return None

    def running(self):
        return self.p.poll() is None

    def stderr_tail(self, n=8):
        tail = list(self.err)[-n:]
        return ("; stderr: " + " | ".join(tail)) if tail else ""

    def kill(self):
        """End the process group this process leads, politely first."""
        if self.p.poll() is None:
            for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 2.0)):
                try:
                    os.killpg(self.p.pid, sig)
                except ProcessLookupError:
                    break
                if self.wait(grace) is not None:
                    break
        else:
            try:  # leftovers of a process that already ended
                os.killpg(self.p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self in Proc.live:
            Proc.live.remove(self)

    @classmethod
    def kill_all(cls):
        for proc in list(cls.live):
            proc.kill()


def describe_status(rc):
    if rc is None:
        return "still running"
    if rc < 0:
        try:
            return "killed by %s" % signal.Signals(-rc).name
        except ValueError:
            return "killed by signal %d" % -rc
    return "exit status %d" % rc


def listening_port(proc, seconds):
    """Read the "listening on PORT" first line."""
    try:
        line = proc.line(time.monotonic() + seconds)
    except TimeoutError:
        raise RuntimeError("%s printed no line within %g s%s" % (proc.what, seconds, proc.stderr_tail())) from None
    if line is None:
        rc = proc.wait(2)
        raise RuntimeError("%s ended (%s) before printing \"listening on PORT\"%s" % (proc.what, describe_status(rc), proc.stderr_tail()))
    m = re.match(r"^listening on (\d+)\s*$", line)
    if not m:
        raise RuntimeError('%s printed "%s" first, not "listening on PORT"' % (proc.what, line[:200]))
    return int(m.group(1))


def expand(template, key, value, extra=()):
    argv = [tok.replace("{%s}" % key, value) for tok in shlex.split(template)]
    return argv + list(extra)


# ------------------------------------------------------------------ peers


class Peer:
    def __init__(self, name, args):
        self.name = name
        if name == "node":
            env = dict(os.environ)
            paths = [p for p in [args.node_path, env.get("NODE_PATH")] if p]
            env["NODE_PATH"] = os.pathsep.join(paths)
            self.env = env
            self.argv = [args.node, os.path.join(HERE, "node_peer.js")]
            self.label = "node ws"
        else:
            self.env = dict(os.environ)
            self.argv = [args.python, os.path.join(HERE, "python_peer.py")]
            self.label = "python websockets"

    def start(self, *more, what=None):
        return Proc(self.argv + list(more), env=self.env, what=what or "the %s peer" % self.label)

    def catalogue(self, seconds):
        """The peer's test names; raises RuntimeError if the peer cannot run."""
        if shutil.which(self.argv[0]) is None:
            raise RuntimeError("%s not found: %s" % (self.label, self.argv[0]))
        proc = self.start("list")
        try:
            rc = proc.wait(seconds)
            if rc is None:
                raise RuntimeError("%s did not list its tests within %g s" % (self.label, seconds))
            proc.drain(2)
            text = "\n".join(proc.out).strip()
            if rc != 0 or not text:
                raise RuntimeError("%s cannot run (%s)%s" % (self.label, describe_status(rc), proc.stderr_tail()))
            return json.loads(text.splitlines()[-1])
        finally:
            proc.kill()


# ------------------------------------------------------------------ results


class Results:
    def __init__(self, verbose):
        self.verbose = verbose
        self.items = []

    def add(self, name, ok, detail="", ms=None):
        self.items.append({"name": name, "ok": bool(ok), "detail": detail, "ms": ms})
        timing = " (%d ms)" % ms if ms is not None else ""
        if ok:
            print("PASS %s%s%s" % (name, timing, ": " + detail if self.verbose and detail else ""), flush=True)
        else:
            print("FAIL %s%s: %s" % (name, timing, detail), flush=True)

    def counts(self):
        passed = sum(1 for i in self.items if i["ok"])
        return passed, len(self.items) - passed


# ------------------------------------------------------------------ server tests


def start_server(args, extra, what):
    proc = Proc(expand(args.server_cmd, "port", "0", extra), what=what)
    port = listening_port(proc, args.T)
    return proc, port


def run_server_tests(args, peer, names, want_sigterm, res):
    prefix = "server.%s." % peer.name
    servers = []
    more = []
    try:
        plain, plain_port = start_server(args, [], "the echo server")
        servers.append(plain)
        proto, proto_port = start_server(args, SERVER_PROTOCOLS, "the echo server with --protocol chat --protocol superchat")
        servers.append(proto)
        if args.deflate:
            deflate, deflate_port = start_server(args, ["--deflate"], "the echo server with --deflate")
            servers.append(deflate)
            more = ["--deflate", "ws://127.0.0.1:%d/" % deflate_port]
    except RuntimeError as e:
        for n in names:
            res.add(prefix + n, False, "not run: %s" % e)
        if want_sigterm:
            res.add(prefix + "sigterm", False, "not run: %s" % e)
        for s in servers:
            s.kill()
        return

    if names:
        run = peer.start(
            "server-tests",
            "--plain", "ws://127.0.0.1:%d/" % plain_port,
            "--proto", "ws://127.0.0.1:%d/" % proto_port,
            "--tests", ",".join(names),
            "--timeout", "%g" % args.T,
            *more,
        )
        deadline = time.monotonic() + args.budget
        seen, why = set(), None
        while True:
            dead = [s for s in servers if not s.running()]
            if dead:
                why = "%s ended during the tests (%s)%s" % (dead[0].what, describe_status(dead[0].wait(1)), dead[0].stderr_tail())
                break
            try:
                line = run.line(min(deadline, time.monotonic() + 0.5))
            except TimeoutError:
                if time.monotonic() >= deadline:
                    why = "the %s peer did not finish within %g s" % (peer.label, args.budget)
                    break
                continue
            if line is None:
                rc = run.wait(args.T)
                why = "the %s peer ended (%s) without finishing%s" % (peer.label, describe_status(rc), run.stderr_tail())
                break
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("done"):
                break
            if "test" in ev:
                seen.add(ev["test"])
                res.add(prefix + ev["test"], ev.get("ok"), ev.get("detail", ""), ev.get("ms"))
        run.kill()
        for n in names:
            if n not in seen:
                res.add(prefix + n, False, "no result: %s" % why)

    for s in servers:
        if not s.running():
            continue
        s.p.send_signal(signal.SIGTERM)
    if want_sigterm:
        problems = []
        for s in servers:
            rc = s.wait(args.T)
            if rc != 0:
                problems.append("%s: %s after SIGTERM%s" % (s.what, describe_status(rc) if rc is not None else "still running %g s" % args.T, s.stderr_tail()))
        res.add(prefix + "sigterm", not problems, "; ".join(problems) or "both servers exited with status 0")
    for s in servers:
        s.kill()


# ------------------------------------------------------------------ client tests


def judge_client(spec, client, rc, timed_out, deadline_s):
    problems = []
    lines = [l.rstrip() for l in client.out]
    lines = [l for l in lines if l]
    shown = " / ".join(lines[:6]) or "nothing"
    if timed_out:
        problems.append("the client did not exit within %g s (killed)" % deadline_s)
    elif rc is not None and rc < 0:
        problems.append("the client was %s" % describe_status(rc))
    if spec.get("fail"):
        if not timed_out and rc == 0:
            problems.append("the client exited with status 0 although %s" % spec["fail"])
        proto_lines = [l for l in lines if l.startswith("protocol ")]
        if proto_lines:
            problems.append('the client printed "%s" although %s' % (proto_lines[0], spec["fail"]))
        return problems
    if spec["status"] is not None and not timed_out and rc is not None and rc >= 0 and rc != spec["status"]:
        problems.append("the client exited with status %d, expected %d" % (rc, spec["status"]))
    want_protocol = "protocol %s" % spec["protocol"]
    if not lines or not lines[0].startswith("protocol "):
        problems.append('the first line is not "protocol NAME" (stdout: %s)' % shown)
    elif lines[0] != want_protocol:
        problems.append('the client printed "%s", expected "%s"' % (lines[0], want_protocol))
    if sum(1 for l in lines if l.startswith("protocol ")) > 1:
        problems.append("more than one protocol line (stdout: %s)" % shown)
    code, reason = spec["closed"]
    want_closed = ("closed %d %s" % (code, reason)).rstrip()
    closed = [l for l in lines if l.startswith("closed")]
    if not closed:
        problems.append('no "closed CODE REASON" line (stdout: %s)' % shown)
    elif len(closed) > 1 or lines[-1] != closed[0]:
        problems.append('"closed" is not the single last line (stdout: %s)' % shown)
    elif closed[0] != want_closed:
        problems.append('the client printed "%s", expected "%s"' % (closed[0], want_closed))
    return problems


def run_client_scenario(args, peer, scenario, res):
    name = "client.%s.%s" % (peer.name, scenario)
    spec = client_spec(scenario)
    start = time.monotonic()
    server = client = None
    try:
        server = peer.start("client-peer", "--scenario", scenario, "--timeout", "%g" % args.T)
        port = listening_port(server, args.T)
        url = "ws://127.0.0.1:%d/%s" % (port, scenario)
        client = Proc(expand(args.client_cmd, "url", url, spec["args"]), what="the echo client")
        deadline_s = 3 * args.T
        rc = client.wait(deadline_s)
        timed_out = rc is None
        if timed_out:
            client.kill()
        # The peer ends by itself once its connection is over (bounded by T).
        peer_rc = server.wait(2 * args.T)
        if peer_rc is None:
            server.kill()
        server.drain(2)
        client.drain(2)
        checks, done = [], False
        for line in list(server.out)[1:]:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if ev.get("done"):
                done = True
            elif "check" in ev:
                checks.append(ev)
        problems = ["%s: %s" % (c["check"], c.get("detail", "")) for c in checks if not c.get("ok")]
        if not done:
            problems.append("the %s peer did not finish (%s)%s" % (peer.label, describe_status(peer_rc), server.stderr_tail()))
        problems += judge_client(spec, client, rc, timed_out, deadline_s)
        if problems and client.err:
            problems.append("client stderr: " + " | ".join(list(client.err)[-4:]))
        ok = not problems
        passed = [c["check"] for c in checks if c.get("ok")]
        detail = "; ".join(problems) if problems else "peer checks passed: %s" % ", ".join(passed)
        res.add(name, ok, detail, int((time.monotonic() - start) * 1000))
    except RuntimeError as e:
        res.add(name, False, str(e), int((time.monotonic() - start) * 1000))
    finally:
        for p in (client, server):
            if p is not None:
                p.kill()


def run_refused(args, res):
    """Connecting to a port where nothing listens must fail."""
    start = time.monotonic()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    client = Proc(expand(args.client_cmd, "url", "ws://127.0.0.1:%d/refused" % port), what="the echo client")
    try:
        rc = client.wait(2 * args.T)
        timed_out = rc is None
        if timed_out:
            client.kill()
        problems = judge_client(dict(fail="nothing listens on the port"), client, rc, timed_out, 2 * args.T)
        res.add("client.refused", not problems, "; ".join(problems) or describe_status(rc), int((time.monotonic() - start) * 1000))
    finally:
        client.kill()


# ------------------------------------------------------------------ main


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server-cmd", help='echo server command line, with {port}: "ECHO_SERVER {port}"')
    ap.add_argument("--client-cmd", help='echo client command line, with {url}: "ECHO_CLIENT {url}"')
    ap.add_argument("--peer", choices=["node", "python", "all"], default="all")
    ap.add_argument("--only", action="append", default=[], metavar="GLOB", help="run the tests whose names match (repeatable)")
    ap.add_argument("--timeout", type=float, default=10.0, help="the longest single wait, seconds (default 10)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every time bound (3 for sanitizer builds)")
    ap.add_argument("--budget", type=float, default=150.0, help="the longest run of one peer's server tests, seconds (default 150)")
    ap.add_argument("--node", default="node")
    ap.add_argument("--node-path", default="/usr/share/nodejs", help="added to NODE_PATH (Debian's node-ws)")
    ap.add_argument("--python", default="/usr/bin/python3", help="a Python with the websockets package")
    ap.add_argument("--deflate", action="store_true", help="add the compression tests (permessage-deflate)")
    ap.add_argument("--report", metavar="PATH", help="write the results as JSON")
    ap.add_argument("--list", action="store_true", help="print the selected test names and exit")
    ap.add_argument("-v", "--verbose", action="store_true", help="details of passing tests too")
    args = ap.parse_args(argv)
    if args.timeout <= 0 or args.scale <= 0:
        ap.error("--timeout and --scale must be positive")
    if args.server_cmd is not None and "{port}" not in args.server_cmd:
        ap.error("--server-cmd needs {port}")
    if args.client_cmd is not None and "{url}" not in args.client_cmd:
        ap.error("--client-cmd needs {url}")
    if not args.list and args.server_cmd is None and args.client_cmd is None:
        ap.error("give --server-cmd, --client-cmd or both")
    args.T = args.timeout * args.scale
    args.budget *= args.scale
    return args


def selected(args, name):
    return not args.only or any(fnmatch.fnmatchcase(name, g) for g in args.only)


def main(argv):
    args = parse_args(argv)
    peers = [Peer(n, args) for n in (PEERS if args.peer == "all" else (args.peer,))]
    do_server = args.server_cmd is not None or (args.list and args.client_cmd is None)
    do_client = args.client_cmd is not None or (args.list and args.server_cmd is None)
    res = Results(args.verbose)
    started = time.monotonic()

    plan = []  # (peer, server test names, sigterm?, client scenarios)
    for peer in peers:
        try:
            cat = peer.catalogue(args.T)
        except RuntimeError as e:
            if args.list:
                print("# %s: %s" % (peer.name, e))
                continue
            if do_server:
                res.add("server.%s.setup" % peer.name, False, str(e))
            if do_client:
                res.add("client.%s.setup" % peer.name, False, str(e))
            continue
        server_names = cat["server"] + (cat.get("deflate_server", []) if args.deflate else [])
        names = [n for n in server_names if do_server and selected(args, "server.%s.%s" % (peer.name, n))]
        sigterm = do_server and selected(args, "server.%s.sigterm" % peer.name)
        all_scenarios = list(CLIENT_SCENARIOS) + (cat.get("deflate_client", []) if args.deflate else [])
        scenarios = [s for s in all_scenarios if do_client and selected(args, "client.%s.%s" % (peer.name, s))]
        missing = [s for s in scenarios if s not in cat["client"] + cat.get("deflate_client", [])]
        if missing:
            raise RuntimeError("the %s peer has no scenario %s" % (peer.label, ", ".join(missing)))
        plan.append((peer, names, sigterm, scenarios))
    refused = do_client and selected(args, "client.refused")

    if args.list:
        for peer, names, sigterm, scenarios in plan:
            for n in names + (["sigterm"] if sigterm else []):
                print("server.%s.%s" % (peer.name, n))
            for s in scenarios:
                print("client.%s.%s" % (peer.name, s))
        if refused:
            print("client.refused")
        return 0

    for peer, names, sigterm, scenarios in plan:
        if names or sigterm:
            run_server_tests(args, peer, names, sigterm, res)
        for s in scenarios:
            run_client_scenario(args, peer, s, res)
    if refused:
        run_refused(args, res)

    passed, failed = res.counts()
    if args.report:
        with open(args.report, "w", encoding="utf-8") as f:
            json.dump({"passed": passed, "failed": failed, "tests": res.items}, f, indent=1, ensure_ascii=False)
    if passed + failed == 0:
        print("no test selected", file=sys.stderr)
        return 1
    print("(%.1f s)" % (time.monotonic() - started))
    print("peers: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def on_signal(signum, frame):
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        sys.exit(main(sys.argv[1:]))
    except RuntimeError as e:
        print("run_peers.py: %s" % e, file=sys.stderr)
        sys.exit(2)
    finally:
        Proc.kill_all()
