#!/usr/bin/env python3
"""Helpers for bench/client/run.sh (Python 3, standard library only).

Subcommands:
  freeport              print a free TCP port on 127.0.0.1
  check PORT            GET /static once: prints 'ok' or 'FAIL reason'
  report TSV MD TITLE.. median table on stdout and as markdown in MD
"""
import http.client
import socket
import statistics
import sys

CLIENTS = [("ours", "nng-http"), ("nng", "NNG 1.5.2"), ("wrk", "wrk")]
MODES = [("loop", "1 conn, transact loop"), ("async", "callback chains")]


def freeport():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()
    return 0


def check(port):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/static")
        r = c.getresponse()
        body = r.read()
        c.close()
        if r.status != 200 or body != b"Hello, world!":
            print(f"FAIL status {r.status}, body {body[:40]!r}")
            return 1
    except Exception as e:  # noqa: BLE001 - any failure is reported
        print(f"FAIL {e}")
        return 1
    print("ok")
    return 0


def read_tsv(path):
    with open(path) as f:
        head = f.readline().rstrip("\n").split("\t")
        return [dict(zip(head, line.rstrip("\n").split("\t"))) for line in f if line.strip()]


def stats(runs):
    """Medians over the rounds that gave a result; errors summed over all."""
    errors = sum(int(r["errors"]) for r in runs if r["errors"] != "na")
    failed = sum(1 for r in runs if r["requests"] == "na")
    ok = [r for r in runs if r["requests"] != "na" and int(r["requests"]) > 0]
    if not ok:
        return None, errors, failed
    med = lambda f: statistics.median(f(r) for r in ok)  # noqa: E731
    return {
        "rps": med(lambda r: int(r["requests"]) / (float(r["elapsed_us"]) / 1e6)),
        "p50": med(lambda r: float(r["p50_us"])),
        "p99": med(lambda r: float(r["p99_us"])),
        "cpu": med(lambda r: float(r["cpu_us"]) / int(r["requests"])),
        "core": med(lambda r: float(r["cpu_us"]) / float(r["elapsed_us"]) * 100),
    }, errors, failed


def fmt(v, digits):
    return "n/a" if v is None else f"{v:,.{digits}f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def rfmt(v):
    return "n/a" if v is None else f"{v:.2f}x"


def report(tsv, md_path, title):
    rows = read_tsv(tsv)
    head = ["mode", "conns", "client", "req/s", "p50 us", "p99 us", "CPU us/req", "CPU %core",
            "errors"]
    table, verdicts = [], []
    for mode, label in MODES:
        conns_seen = sorted({int(r["conns"]) for r in rows if r["mode"] == mode})
        for conns in conns_seen:
            got = {}
            for key, name in CLIENTS:
                runs = [r for r in rows if r["mode"] == mode and int(r["conns"]) == conns
                        and r["client"] == key]
                if not runs:
                    continue
                s, errors, failed = stats(runs)
                got[key] = s
                err = str(errors) + (f" ({failed} runs failed)" if failed else "")
                if s is None:
                    notes = sorted({r["note"] for r in runs if r["note"]})
                    table.append([label, str(conns), name, "n/a", "n/a", "n/a", "n/a", "n/a",
                                  err + (": " + "; ".join(notes) if notes else "")])
                    continue
                table.append([label, str(conns), name, fmt(s["rps"], 0), fmt(s["p50"], 1),
                              fmt(s["p99"], 1), fmt(s["cpu"], 1), fmt(s["core"], 0), err])
            ours = got.get("ours")
            for key, name in CLIENTS[1:]:
                if key not in got or "ours" not in got:
                    continue
                theirs = got[key]
                g = lambda s, k: None if s is None else s[k]  # noqa: E731
                table.append([label, str(conns), f"ours/{name}",
                              rfmt(ratio(g(ours, "rps"), g(theirs, "rps"))),
                              rfmt(ratio(g(ours, "p50"), g(theirs, "p50"))),
                              rfmt(ratio(g(ours, "p99"), g(theirs, "p99"))),
                              rfmt(ratio(g(ours, "cpu"), g(theirs, "cpu"))),
                              rfmt(ratio(g(ours, "core"), g(theirs, "core"))), ""])
            if mode == "loop" and "ours" in got and "nng" in got:
                s_ours, s_nng = got["ours"], got["nng"]
                rate = ratio(s_ours and s_ours["rps"], s_nng and s_nng["rps"])
                cpu = ratio(s_ours and s_ours["cpu"], s_nng and s_nng["cpu"])
                verdicts.append(
                    f"Targets (1 connection): rate >= 1.3x NNG's: {rfmt(rate)} "
                    f"({'n/a' if rate is None else 'met' if rate >= 1.3 else 'not met'}); "
                    f"client CPU per request <= 0.5x NNG's: {rfmt(cpu)} "
                    f"({'n/a' if cpu is None else 'met' if cpu <= 0.5 else 'not met'}).")

    widths = [max(len(x) for x in col) for col in zip(head, *table)]
    line = lambda cells: "| " + " | ".join(  # noqa: E731
        c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    sep = "|" + "|".join(("-" * (w + 2)) if i < 3 else ("-" * (w + 1) + ":")
                         for i, w in enumerate(widths)) + "|"
    out = list(title) + ["", line(head), sep] + [line(r) for r in table]
    if verdicts:
        out += [""] + verdicts
    out += ["", "Ratios are ours divided by theirs: above 1x is better for req/s, below 1x "
            "for latency and CPU. errors: failed or wrong answers (clients), socket errors "
            "and non-2xx/3xx answers (wrk), summed over rounds."]
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    with open(md_path, "w") as f:
        f.write(text)
    return 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "freeport":
        return freeport()
    if cmd == "check" and len(argv) == 3:
        return check(int(argv[2]))
    if cmd == "report" and len(argv) >= 4:
        return report(argv[2], argv[3], argv[4:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
