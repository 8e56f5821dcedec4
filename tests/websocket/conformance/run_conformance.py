#!/usr/bin/env python3
"""run_conformance.py (--server URL | --client-port PORT) [options]

A WebSocket (RFC 6455) conformance suite after the case catalogue of
Autobahn|Testsuite, groups 1 to 10 (and 12 and 13, permessage-deflate,
RFC 7692, when asked: --deflate or --groups), against an echo server or an
echo client.  Python 3 standard library only; loopback only.

Testing a server:  --server ws://127.0.0.1:PORT/PATH
  Each case opens its own connection, runs the client side of the opening
  handshake, sends the case's frames (masked) and judges what comes back.
  Independent cases run side by side (--jobs); the large ones of group 9
  run one at a time afterwards.  With --server-cmd the suite starts the
  server itself: the command must print "listening on PORT" as its first
  line, and PORT replaces the port of --server (which may then be 0).

Testing a client:  --client-port PORT
  The suite listens on 127.0.0.1:PORT as a fuzzing server and waits for an
  echo client driven the way Autobahn drives clients (/getCaseCount, then
  /runCase?case=N&agent=NAME for each case, then /updateReports).  With
  --client-cmd the suite starts the client itself ({url} and {port} in the
  command are replaced; PORT may then be 0).

permessage-deflate:  --deflate
  Declares that the program under test supports permessage-deflate (start
  it with its own --deflate) and adds groups 12 and 13 to the run (unless
  --groups says otherwise); a decline of the plain offer then fails the
  case instead of being UNIMPLEMENTED.  --groups 1-13 runs them without
  that declaration.

Every case ends with an outcome: OK, NON-STRICT, FAILED, INFORMATIONAL or
UNIMPLEMENTED (from its behavior and its behaviorClose, see README.md).  The
exit status is 1 if any case is FAILED or NON-STRICT (NON-STRICT is allowed
with --allow-non-strict), 2 on bad usage.
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import select
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)

import cases as catalogue  # noqa: E402
import fuzzer as fz  # noqa: E402
import pmdeflate as pd  # noqa: E402
import wsproto as wp  # noqa: E402

SUITE = "nng-http WebSocket conformance suite (Autobahn|Testsuite cases, groups 1-10, 12, 13)"
HANDSHAKE_TIMEOUT = 5.0
START_TIMEOUT = 15.0
END_TIMEOUT = 5.0


def iso_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat()


# --------------------------------------------------------------- processes
class Program:
    """A program the suite starts; always ended on the way out (SIGTERM,
    then SIGKILL), its output kept in a temporary file."""

    def __init__(self, argv, want_port):
        self.argv = argv
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE if want_port else self.log,
            stderr=self.log,
            stdin=subprocess.DEVNULL,
        )
        self.status = None
        self.port = self._read_port() if want_port else None

    def _read_port(self):
        deadline = time.monotonic() + START_TIMEOUT
        fd = self.proc.stdout.fileno()
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                break
            c = os.read(fd, 1)
            if not c:
                break
            line += c
        text = line.decode(errors="replace").strip()
        if not text.startswith("listening on "):
            self.end()
            raise RuntimeError("%s did not print 'listening on PORT' (first line %r); output:\n%s" % (self.argv[0], text, self.output()))
        # Keep draining its standard output so that it never blocks on it.
        threading.Thread(target=self._drain, daemon=True).start()
        return int(text.split()[2])

    def _drain(self):
        try:
            while True:
                data = self.proc.stdout.read(65536)
                if not data:
                    break
                self.log.write(data)
        except (OSError, ValueError):
            pass

    def alive(self):
        return self.proc.poll() is None

    def wait(self, limit):
        try:
            self.proc.wait(limit)
            return True
        except subprocess.TimeoutExpired:
            return False

    def end(self):
        if self.status is not None:
            return self.status
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if not self.wait(END_TIMEOUT):
                self.proc.kill()
                self.proc.wait(END_TIMEOUT)
                self.status = "killed: still running %.0f s after SIGTERM" % END_TIMEOUT
        if self.status is None:
            self.status = self.proc.returncode
        return self.status

    def output(self, limit=4000):
        try:
            self.log.seek(0)
            text = self.log.read().decode(errors="replace")
        except (OSError, ValueError):
            return ""
        if len(text) > limit:
            text = text[: limit // 2] + "\n[...]\n" + text[-limit // 2 :]
        return text


# ----------------------------------------------------------------- results
def failed_result(case, why, duration_ms=0):
    return {
        "id": case.id,
        "description": case.description,
        "expectation": case.expectation,
        "outcome": fz.FAILED,
        "behavior": fz.FAILED,
        "behaviorClose": fz.FAILED,
        "result": why,
        "resultClose": "The WebSocket opening handshake was never completed.",
        "duration_ms": duration_ms,
    }


def case_result(case, f):
    out = {
        "id": case.id,
        "description": case.description,
        "expectation": case.expectation,
        "outcome": fz.overall(f.behavior, f.behavior_close),
        "behavior": f.behavior,
        "behaviorClose": f.behavior_close,
        "result": f.result,
        "resultClose": f.result_close,
        "duration_ms": f.duration_ms(),
        "expected": {name: [fz.show_event(e) for e in evs] for name, evs in f.expected},
        "received": [fz.show_event(e) for e in f.received[:50]] + (["... %d more" % (len(f.received) - 50)] if len(f.received) > 50 else []),
        "expectedClose": f.expected_close,
        "close": f.close_report(),
        "peerErrors": f.peer_errors,
        "notes": f.notes,
        "frames": {"sent": f.tx_log.report(), "received": f.rx_log.report(), "octets_sent": f.tx_bytes, "octets_received": f.rx_bytes},
    }
    d = f.deflate_report()
    if d is not None:
        out["deflate"] = d
    return out


# ------------------------------------------------------------- server mode
def run_server_case(case, host, port, target, opts):
    t0 = time.monotonic()
    hs_limit = HANDSHAKE_TIMEOUT * opts.scale
    neg = case.negotiation
    offers = neg.offer_values() if neg is not None else []
    try:
        sock = socket.create_connection((host, port), timeout=hs_limit)
    except OSError as e:
        return failed_result(case, "Could not connect: %s." % e)

    def elapsed():
        return int(1000 * (time.monotonic() - t0))

    try:
        early, head = wp.client_handshake(
            sock,
            "%s:%d" % (host, port),
            target,
            time.monotonic() + hs_limit,
            extra_headers=["Sec-WebSocket-Extensions: %s" % v for v in offers],
            extensions_offered=bool(offers),
        )
    except (wp.HandshakeError, OSError) as e:
        try:
            sock.close()
        except OSError:
            pass
        r = failed_result(case, "The opening handshake failed: %s." % e, elapsed())
        if neg is not None:
            r["deflate"] = {"offered": offers}
            if neg.refusal and getattr(e, "status", None):
                r["outcome"] = r["behavior"] = fz.NON_STRICT
                r["behaviorClose"] = fz.OK
                r["result"] = "The server refused the whole opening handshake (status %s) where RFC 7692 7.1 asks it to decline the offer and go on without the extension." % e.status
                r["resultClose"] = "No WebSocket connection."
        return r
    agreement = None
    negotiation = None
    if neg is not None:
        _, headers = wp.parse_head(head.encode("latin-1"))
        answer = wp.header_values(headers, "sec-websocket-extensions")
        verdict, agreement, note = pd.judge_answer(offers, answer)
        negotiation = {"offered": offers, "answer": answer, "verdict": verdict, "note": note}
        if verdict == "illegal":
            # A client must fail the connection here (RFC 6455 4.1).
            wp.abort_close(sock)
            r = failed_result(case, "The server's Sec-WebSocket-Extensions answer is not legal: %s." % note, elapsed())
            r["resultClose"] = "We failed the connection during the opening handshake, as a client must."
            r["deflate"] = negotiation
            return r
    f = fz.Fuzzer(sock, "client", case, opts, early, pmd=agreement, negotiation=negotiation)
    try:
        f.run(case.script, opts.timeout * opts.scale)
    finally:
        try:
            sock.close()
        except OSError:
            pass
    return case_result(case, f)


def server_mode(args, opts, selected, progress):
    host, port, target = wp.parse_ws_url(args.server)
    results = {}
    light = [c for c in selected if not c.heavy]
    heavy = [c for c in selected if c.heavy]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futs = {pool.submit(run_server_case, c, host, port, target, opts): c for c in light}
        for fut in concurrent.futures.as_completed(futs):
            r = fut.result()
            results[r["id"]] = r
            progress(r)
    for c in heavy:
        r = run_server_case(c, host, port, target, opts)
        results[r["id"]] = r
        progress(r)
    return results, []


# ------------------------------------------------------------- client mode
def short_exchange(sock, early, messages, scale):
    """/getCaseCount and /updateReports: send text messages, then close
    (1000); wait for the client's close, then end the TCP connection."""
    rx = wp.Receiver(expect_masked=True)
    for m in messages:
        sock.sendall(wp.encode_frame(wp.OP_TEXT, m.encode("utf-8")))
    sock.sendall(wp.encode_frame(wp.OP_CLOSE, wp.close_payload(wp.CLOSE_NORMAL)))
    deadline = time.monotonic() + 2.0 * scale
    data = early
    try:
        while True:
            for ev in rx.feed(data):
                if ev[0] == "close":
                    wp.linger_close(sock, 1.0 * scale)
                    return
            left = deadline - time.monotonic()
            if left <= 0:
                break
            sock.settimeout(left)
            data = sock.recv(65536)
            if not data:
                break
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class ClientRun:
    def __init__(self, args, opts, selected, progress):
        self.args = args
        self.opts = opts
        self.cases = selected
        self.progress = progress
        self.results = {}
        self.names = set()
        self.errors = []
        self.lock = threading.Lock()
        self.updated = threading.Event()
        self.active = 0
        self.last_activity = time.monotonic()

    def handle(self, sock):
        scale = self.opts.scale
        case = None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            head, early = wp.read_head(sock, time.monotonic() + HANDSHAKE_TIMEOUT * scale)
            start, headers = wp.parse_head(head)
            parts = start.split(" ")
            url = urllib.parse.urlsplit(parts[1] if len(parts) > 1 else "")
            query = urllib.parse.parse_qs(url.query)
            path = url.path
            if path == "/runCase":
                try:
                    n = int(query.get("case", [""])[0])
                except ValueError:
                    n = 0
                if not 1 <= n <= len(self.cases):
                    sock.sendall(wp.response_error(404, "no case %r (there are %d)" % (query.get("case"), len(self.cases))))
                    wp.linger_close(sock, 1.0)
                    return
                case = self.cases[n - 1]
                if "agent" not in query:
                    sock.sendall(wp.response_error(400, "runCase needs agent=NAME"))
                    wp.linger_close(sock, 1.0)
                    self.record(failed_result(case, "The client asked for the case without agent=NAME."))
                    return
                with self.lock:
                    self.names.add(query["agent"][0])
            err = wp.check_client_request(start, headers)
            if err:
                sock.sendall(wp.response_error(*err))
                wp.linger_close(sock, 1.0)
                if case is not None:
                    self.record(failed_result(case, "The client's opening handshake is invalid: %s." % err[1]))
                else:
                    self.errors.append("an invalid opening handshake for %s: %s" % (path, err[1]))
                return
            key = wp.header_values(headers, "sec-websocket-key")[0]
            extra = []
            agreement = None
            negotiation = None
            if case is not None and case.negotiation is not None:
                offered = wp.header_values(headers, "sec-websocket-extensions")
                try:
                    offers, _ = pd.pmd_offers(offered)
                except pd.NegotiationError as e:
                    offers = [("(malformed)", e)]
                bad = [(t, e) for t, e in offers if not isinstance(e, pd.Params)]
                if bad:
                    sock.sendall(wp.response_error(400, "invalid permessage-deflate offer"))
                    wp.linger_close(sock, 1.0)
                    r = failed_result(case, "The client's Sec-WebSocket-Extensions offer is invalid: %s." % "; ".join("%s: %s" % (t, e) for t, e in bad))
                    r["deflate"] = {"offered": offered}
                    self.record(r)
                    return
                value, agreement, note = case.negotiation.answer_for(offers)
                if value is not None:
                    extra.append("Sec-WebSocket-Extensions: %s" % value)
                negotiation = {"offered": offered, "answer": [value] if value else [], "note": note}
            if path == "/getCaseCount":
                sock.sendall(wp.response_101(key))
                short_exchange(sock, early, [str(len(self.cases))], scale)
            elif path == "/updateReports":
                sock.sendall(wp.response_101(key))
                short_exchange(sock, early, [], scale)
                self.updated.set()
            elif case is not None:
                sock.sendall(wp.response_101(key, extra))
                f = fz.Fuzzer(sock, "server", case, self.opts, early, pmd=agreement, negotiation=negotiation)
                f.run(case.script, self.opts.timeout * scale)
                self.record(case_result(case, f))
            else:
                sock.sendall(wp.response_error(404, "unknown path %s" % path))
                wp.linger_close(sock, 1.0)
        except (wp.HandshakeError, OSError) as e:
            if case is not None:
                self.record(failed_result(case, "The client's opening handshake failed: %s." % e))
            try:
                sock.close()
            except OSError:
                pass
        finally:
            with self.lock:
                self.active -= 1
                self.last_activity = time.monotonic()

    def record(self, r):
        with self.lock:
            self.results[r["id"]] = r
        self.progress(r)

    def run(self, lsock, client):
        scale = self.opts.scale
        idle_limit = max(30.0, self.opts.timeout + 10.0) * scale
        threads = []
        while True:
            with self.lock:
                active = self.active
                idle = time.monotonic() - self.last_activity
            if active == 0:
                if self.updated.is_set():
                    break
                if client is not None and not client.alive():
                    # Take what is still queued, then end.
                    r, _, _ = select.select([lsock], [], [], 0.5)
                    if not r:
                        break
                if idle > idle_limit:
                    self.errors.append("no connection from the client for %.0f s" % idle_limit)
                    break
            r, _, _ = select.select([lsock], [], [], 0.2)
            if not r:
                continue
            try:
                conn, _ = lsock.accept()
            except OSError:
                continue
            with self.lock:
                self.active += 1
                self.last_activity = time.monotonic()
            t = threading.Thread(target=self.handle, args=(conn,), daemon=True)
            t.start()
            threads.append(t)
        for t in threads:
            t.join(self.opts.timeout * scale + 5.0)
        for c in self.cases:
            if c.id not in self.results:
                self.results[c.id] = failed_result(c, "The client never ran this case.")
                self.results[c.id]["resultClose"] = "No connection for this case."
        return self.results, self.errors


# -------------------------------------------------------------------- main
def summarize(results_list):
    counts = {o: 0 for o in fz.OUTCOMES}
    by_group = {}
    for r in results_list:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
        g = r["id"].split(".")[0]
        by_group.setdefault(g, {o: 0 for o in fz.OUTCOMES})
        by_group[g][r["outcome"]] += 1
    return counts, by_group


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[1], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 2)[2]
    )
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--server", metavar="URL", help="test the echo server at this ws:// URL")
    mode.add_argument("--client-port", metavar="PORT", type=int, help="test an echo client: listen on this port (0: any)")
    mode.add_argument("--list", action="store_true", help="print the selected cases and exit")
    ap.add_argument("--server-cmd", metavar="CMD", help="start this server (it prints 'listening on PORT')")
    ap.add_argument("--client-cmd", metavar="CMD", help="start this client; {url} and {port} are replaced")
    ap.add_argument("--groups", default=None, help="the groups to build, e.g. 1-13 or 12,13 (default 1-10; with --deflate 1-13)")
    ap.add_argument("--deflate", action="store_true", help="the peer supports permessage-deflate: adds groups 12 and 13, "
                    "and a decline of the plain offer fails")
    ap.add_argument("--cases", default="", help='comma-separated case ids or patterns, e.g. "1.*,6.4.*" (default: all)')
    ap.add_argument("--exclude", default="", help="comma-separated case ids or patterns to leave out")
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds a case may take at most (times --scale; default 20)")
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies every time bound, for slow (sanitizer) builds")
    ap.add_argument(
        "--load",
        default="0.25",
        help="fraction of Autobahn's group 9 message sizes and counts to use ('full' = 1; default 0.25)",
    )
    ap.add_argument("--peer-max-message", type=int, default=None, metavar="BYTES", help="the peer's declared message size limit: "
                    "a group 9 case over it is UNIMPLEMENTED if the peer refuses it with 1009")
    ap.add_argument("--jobs", type=int, default=4, help="cases run side by side in server mode (default 4)")
    ap.add_argument("--report", metavar="PATH", help="write the JSON report here")
    ap.add_argument("--allow-non-strict", action="store_true", help="NON-STRICT cases do not make the exit status non-zero")
    ap.add_argument("--name", default=None, help="the peer's name in the report")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every case as it ends")
    args = ap.parse_args()

    try:
        load = 1.0 if args.load == "full" else float(args.load)
    except ValueError:
        ap.error("--load takes a number or 'full'")
    if not 0 < load <= 1:
        ap.error("--load must be in (0, 1]")
    try:
        groups = catalogue.parse_groups(args.groups or ("1-13" if args.deflate else "1-10"))
    except ValueError as e:
        ap.error(str(e))
    mode_opt = "server" if args.server else "client" if args.client_port is not None else None
    opts = fz.Options(
        scale=args.scale,
        timeout=args.timeout,
        load=load,
        peer_max_message=args.peer_max_message,
        groups=groups,
        mode=mode_opt,
        deflate=args.deflate,
    )
    cat = catalogue.Catalogue(opts)
    selected = cat.select([p for p in args.cases.split(",") if p.strip()], [p for p in args.exclude.split(",") if p.strip()])
    if args.list:
        for c in selected:
            print("%-8s %s%s" % (c.id, c.description, " [large]" if c.heavy else ""))
        print("%d cases" % len(selected))
        return 0
    if not selected:
        ap.error("no case matches --cases %r" % args.cases)
    if args.server_cmd and args.client_port is not None:
        ap.error("--server-cmd goes with --server")
    if args.client_cmd and args.server:
        ap.error("--client-cmd goes with --client-port")

    print_lock = threading.Lock()
    done = [0]

    def progress(r):
        with print_lock:
            done[0] += 1
            if args.verbose or r["outcome"] in (fz.FAILED, fz.NON_STRICT):
                print(
                    "[%3d/%d] %-8s %-13s %6d ms  %s" % (done[0], len(selected), r["id"], r["outcome"], r["duration_ms"], r["result"] if r["outcome"] != fz.OK else ""),
                    flush=True,
                )

    program = None
    started = iso_now()
    t0 = time.monotonic()
    errors = []
    prev_term = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame):
        raise SystemExit(1)

    signal.signal(signal.SIGTERM, on_term)
    try:
        if args.server:
            if args.server_cmd:
                program = Program(shlex.split(args.server_cmd), want_port=True)
                host, _, target = wp.parse_ws_url(args.server)
                args.server = "ws://%s:%d%s" % (host, program.port, target)
            target_text = args.server
            results, errors = server_mode(args, opts, selected, progress)
        else:
            lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            lsock.bind(("127.0.0.1", args.client_port))
            lsock.listen(64)
            port = lsock.getsockname()[1]
            url = "ws://127.0.0.1:%d" % port
            print("listening on %d" % port, flush=True)
            if args.client_cmd:
                argv = [a.replace("{url}", url).replace("{port}", str(port)) for a in shlex.split(args.client_cmd)]
                program = Program(argv, want_port=False)
            run = ClientRun(args, opts, selected, progress)
            try:
                results, errors = run.run(lsock, program)
            finally:
                lsock.close()
            target_text = "client on %s (name%s %s)" % (url, "s" if len(run.names) != 1 else "", ", ".join(sorted(run.names)) or "unknown")
            if args.name is None and run.names:
                args.name = ",".join(sorted(run.names))
    except RuntimeError as e:
        print("run_conformance: %s" % e, file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, prev_term)
        if program is not None:
            if args.client_port is not None:
                program.wait(END_TIMEOUT * args.scale)
            status = program.end()
            if status != 0:
                errors = list(errors) + ["%s exited with status %s; its output:\n%s" % (program.argv[0], status, program.output())]
    elapsed = time.monotonic() - t0

    ordered = [results[c.id] for c in selected]
    counts, by_group = summarize(ordered)
    mode_name = "server" if args.server else "client"
    report = {
        "suite": SUITE,
        "mode": mode_name,
        "target": target_text,
        "name": args.name,
        "started": started,
        "duration_s": round(elapsed, 2),
        "options": {
            "cases": args.cases or "all",
            "exclude": args.exclude,
            "timeout": args.timeout,
            "scale": args.scale,
            "load": load,
            "peer_max_message": args.peer_max_message,
            "groups": ",".join(str(g) for g in groups),
            "deflate": args.deflate,
            "jobs": args.jobs if args.server else 1,
        },
        "summary": counts,
        "by_group": by_group,
        "errors": errors,
        "cases": ordered,
    }
    if args.report:
        d = os.path.dirname(os.path.abspath(args.report))
        os.makedirs(d, exist_ok=True)
        with open(args.report, "w") as fh:
            json.dump(report, fh, indent=1)

    print("%s mode, %s: %d cases in %.1f s" % (mode_name, target_text, len(ordered), elapsed))
    print("  " + "  ".join("%s %d" % (o, counts.get(o, 0)) for o in fz.OUTCOMES))
    print("  by group: " + " | ".join("%s: %s" % (g, ", ".join("%d %s" % (n, o) for o, n in by_group[g].items() if n)) for g in sorted(by_group, key=int)))
    for r in ordered:
        if r["outcome"] != fz.OK:
            print(
                "  %-13s %-8s behavior %s, close %s: %s / %s"
                % (r["outcome"], r["id"], r["behavior"], r["behaviorClose"], r["result"], r["resultClose"])
            )
    for e in errors:
        print("  error: %s" % e)
    if args.report:
        print("  report: %s" % args.report)
    bad = counts.get(fz.FAILED, 0) + (0 if args.allow_non_strict else counts.get(fz.NON_STRICT, 0))
    return 1 if bad or errors else 0


if __name__ == "__main__":
    sys.exit(main())
