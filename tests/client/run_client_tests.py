#!/usr/bin/env python3
"""Runs client_app against real servers and checks what comes back.

  run_client_tests.py --app CLIENT_APP [--flavor ours|nng] [options] [GROUP...]
      Each case of the groups (nginx, nginx-https, framing, stdlib,
      ours-server, errors; default all)
      through CLIENT_APP; its transcript must meet the case's expectations
      (cases.py): nng-http's, or NNG 1.5.2's with --flavor nng.

  run_client_tests.py --differential --nng-app NNG_APP --app OURS_APP [GROUP...]
      Every case through both programs against the same servers: each must
      meet its own expectations, and the transcripts must be identical
      except for the cases that document a difference (cases.py `why`).

Options: --server-app (tests/server's server_app_ours, for the ours-server group),
--site (tests/server/site), -k SUBSTRING (only cases whose name has it),
-v (name every case), --transcripts (print every transcript),
--list-differences (print the documented differences and exit).

Servers are started here on 127.0.0.1 and stopped on every exit path;
stdlib only.  Exit status 0 when every case passed.
"""
import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import cases as cases_mod  # noqa: E402
from servers import Servers  # noqa: E402

APP_TIMEOUT = 30  # seconds for one case's client_app run (100 MiB under ASan: ~1 s)


def parse_transcript(text):
    """client_app's stdout as a list of transactions (dicts); "close" lines
    are left out."""
    out, cur = [], None
    for line in text.splitlines():
        if line.startswith("== "):
            cur = {"cmd": line[3:], "headers": {}}
            if line[3:] != "close":
                out.append(cur)
        elif cur is None:
            continue
        elif line.startswith("connect: "):
            parts = line.split()
            cur["connect"] = "0" if parts[1] == "0" else parts[2]
        elif line.startswith("result: "):
            parts = line.split()
            cur["result"] = "0" if parts[1] == "0" else parts[2]
        elif line.startswith("status: "):
            parts = line[8:].split(" ", 2)
            cur["version"], cur["status"] = parts[0], int(parts[1])
            cur["reason"] = parts[2] if len(parts) > 2 else ""
        elif line.startswith("  "):
            name, _, value = line.strip().partition(": ")
            cur["headers"][name] = None if value == "(absent)" else value
        elif line.startswith("body: "):
            n, sha = line[6:].split()
            cur["len"], cur["sha"] = int(n), sha.split(":", 1)[1]
        elif line.startswith("text: "):
            cur["text"] = line[6:]
    return out


def check_transaction(got, want):
    """Mismatches between one parsed transaction and one expectation."""
    bad = []
    result = got.get("result")
    wr = want["result"]
    if wr == "error":
        if result in (None, "0"):
            bad.append(f"result: expected an error, got {result}")
    elif result not in wr:
        bad.append(f"result: expected {' or '.join(sorted(wr))}, got {result}")
    if result != "0":
        return bad
    for key in ("status", "reason", "version", "len", "sha", "text"):
        if key in want and want[key] != got.get(key):
            bad.append(f"{key}: expected {want[key]!r}, got {got.get(key)!r}")
    for name, value in want.get("headers", {}).items():
        g = got["headers"].get(name)
        if g != value:
            bad.append(f"header {name}: expected {value!r}, got {g!r}")
    return bad


class Runner:
    def __init__(self, args, servers):
        self.args = args
        self.s = servers
        self.urls = dict(servers.urls)
        self.urls["files"] = str(servers.files)
        self.urls["etag"] = servers.nginx.etag.replace('"', '\\"') if servers.nginx else ""
        if servers.tls:
            self.urls["ca"] = str(servers.tls.ca)
            self.urls["other_ca"] = str(servers.tls.other_ca)

    def script(self, case):
        return [line.format(**self.urls) for line in case.lines]

    def run_app(self, app, flavor, case):
        env = dict(os.environ)
        if flavor == "nng":
            # NNG's own allocations are not ours to judge under ASan builds.
            env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":detect_leaks=0"
        before = self.s.counts()
        t0 = time.monotonic()
        try:
            p = subprocess.run([app] + self.script(case), capture_output=True, text=True,
                               timeout=APP_TIMEOUT, env=env)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = "timeout", (e.stdout or b"").decode(errors="replace"), ""
        elapsed = time.monotonic() - t0
        if self.s.nginx:
            self._settle_nginx_log(before["nginx"], case, flavor)
        after = self.s.counts()
        return {"rc": rc, "out": out, "err": err, "before": before, "after": after,
                "elapsed": elapsed}

    def _settle_nginx_log(self, offset, case, flavor):
        """nginx writes a request's access log line after the response, so
        a line can come after client_app has exited: wait (bounded) until
        the log has a line for each request to nginx that is expected to
        succeed (or case.log_lines)."""
        want = case.log_lines
        if want is None:
            expect, _ = case.expectations(flavor)
            commands = [line for line in case.lines
                        if line.split()[0] in ("conn", "client", "connect")]
            want = sum(1 for line, e in zip(commands, expect)
                       if line.split()[0] != "connect" and "{nginx" in line
                       and e["result"] == {"0"})
        deadline = time.monotonic() + 3.0
        while (self.s.nginx.lines_since(offset) < want and time.monotonic() < deadline):
            time.sleep(0.01)

    def check(self, case, flavor, run):
        """Mismatch messages for one run of case by one program."""
        bad = []
        if run["rc"] != 0:
            bad.append(f"client_app exit status {run['rc']}")
        expect, conns = case.expectations(flavor)
        got = parse_transcript(run["out"])
        if len(got) != len(expect):
            bad.append(f"{len(got)} transactions in the transcript, expected {len(expect)}")
        for i, (g, w) in enumerate(zip(got, expect)):
            for m in check_transaction(g, w):
                bad.append(f"#{i + 1} ({g['cmd']}): {m}")
        for kind, n in conns.items():
            seen = self.s.connections_between(run["before"], run["after"], kind)
            if seen != n:
                bad.append(f"{kind} saw {seen} connection(s), expected {n}")
        return bad

    def report(self, label, case, flavor, run, bad):
        if not bad:
            if self.args.verbose:
                print(f"ok   {label}  ({run['elapsed']:.2f} s)")
            if self.args.transcripts:
                for line in run["out"].splitlines():
                    print(f"    {line}")
            return
        print(f"FAIL {label}")
        print("  script:")
        for line in self.script(case):
            print(f"    {line}")
        for m in bad:
            print(f"  - {m}")
        print("  transcript:")
        for line in run["out"].splitlines():
            print(f"    {line}")
        err = [line for line in run["err"].splitlines() if not line.startswith("time: ")]
        if err:
            print("  stderr:")
            for line in err[-40:]:
                print(f"    {line}")

    def single(self, selected):
        failed = 0
        for case in selected:
            run = self.run_app(self.args.app, self.args.flavor, case)
            bad = self.check(case, self.args.flavor, run)
            self.report(f"{case.group}/{case.name}", case, self.args.flavor, run, bad)
            failed += bool(bad)
        print(f"{len(selected)} cases against {self.args.flavor}, {failed} failed")
        return failed

    def differential(self, selected):
        failed, differing = 0, []
        for case in selected:
            rn = self.run_app(self.args.nng_app, "nng", case)
            ro = self.run_app(self.args.app, "ours", case)
            bad_n = self.check(case, "nng", rn)
            bad_o = self.check(case, "ours", ro)
            bad = [f"nng: {m}" for m in bad_n] + [f"ours: {m}" for m in bad_o]
            same = rn["out"] == ro["out"]
            if case.why is None and not same:
                bad.append("transcripts differ (no documented difference for this case)")
                bad.append("nng transcript:")
                bad += [f"    {line}" for line in rn["out"].splitlines()]
            if case.why is not None:
                if same:
                    bad.append("documented difference not seen: both gave the same transcript")
                else:
                    differing.append(case)
            if bad:
                self.report(f"{case.group}/{case.name} (ours transcript below)", case, "ours",
                            ro, bad)
            elif self.args.verbose:
                print(f"ok   {case.group}/{case.name}")
            failed += bool(bad)
        for case in differing:
            print(f"differs on purpose, as expected: {case.name}: {case.why}")
        print(f"{len(selected)} cases, NNG 1.5.2 vs nng-http, {failed} failed")
        return failed


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", help="client_app to test (ours in --differential)")
    ap.add_argument("--flavor", choices=["ours", "nng"], default="ours")
    ap.add_argument("--nng-app", help="client_app built against NNG 1.5.2")
    ap.add_argument("--differential", action="store_true")
    ap.add_argument("--server-app", help="server_app_ours (tests/server)")
    ap.add_argument("--site", default=str(HERE.parent / "server" / "site"))
    ap.add_argument("-k", dest="pattern", default="")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--transcripts", action="store_true", help="print every transcript")
    ap.add_argument("--list-differences", action="store_true")
    ap.add_argument("groups", nargs="*")
    args = ap.parse_args()

    groups = args.groups or cases_mod.GROUPS
    for g in groups:
        if g not in cases_mod.GROUPS:
            ap.error(f"unknown group {g}")
    if args.list_differences:
        # where the documented cases live
        groups = ["nginx-https", "framing", "stdlib", "errors"]
    elif not args.app or (args.differential and not args.nng_app):
        ap.error("--app (and --nng-app with --differential) required")
    if "ours-server" in groups and not args.server_app and not args.list_differences:
        ap.error("the ours group needs --server-app")
    kinds = set().union(*(cases_mod.SERVERS[g] for g in groups))
    # A SIGTERM (a test driver's timeout) still stops the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    with Servers(kinds, args.server_app, args.site) as servers:
        selected = [c for c in cases_mod.build(servers)
                    if c.group in groups and args.pattern in c.name]
        if args.list_differences:
            for c in selected:
                if c.why:
                    print(f"{c.name}: {c.why}")
            return 0
        if not selected:
            print("no cases selected")
            return 1
        runner = Runner(args, servers)
        t0 = time.monotonic()
        failed = runner.differential(selected) if args.differential else runner.single(selected)
        print(f"({time.monotonic() - t0:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
