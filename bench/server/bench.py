#!/usr/bin/env python3
"""Helpers for bench/server/run.sh (Python 3.11, standard library only).

Subcommands:
  freeport                  print a free TCP port on 127.0.0.1
  cputicks PID              utime+stime (clock ticks) of PID and its children
  check PORT ONE_BIN        sanity answers of /static, /file and /echo
  idle PID PORT COUNT       resident memory per idle keep-alive connection
  idletls PID PORT COUNT TLS_VERSION
                            the same over https (run_tls.sh)
  report TSV IDLE_TSV MD    median table on stdout and as markdown in MD
  tlsreport TSV MD TLS_VERSION TITLE...
                            run_tls.sh's median table, on stdout and in MD
"""
import http.client
import os
import resource
import selectors
import socket
import ssl
import statistics
import sys
import time


# --- processes ---------------------------------------------------------------

def proc_tree(pid):
    """pid and all its descendants (nginx: master and worker)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def cputicks(pid):
    total = 0
    for p in proc_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # Field 2 (comm) may hold spaces: count fields after its ')'.
        fields = stat[stat.rindex(")") + 2:].split()
        total += int(fields[11]) + int(fields[12])  # fields 14 and 15
    return total


def rss_kib(pid):
    total = 0
    for p in proc_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


# --- sanity check --------------------------------------------------------------

ECHO_BODY = bytes((i * 7 + 13) & 0xFF for i in range(1024))


def check(port, one_bin):
    """One line per route: 'ROUTE ok' or 'ROUTE FAIL reason'."""
    with open(one_bin, "rb") as f:
        file_bytes = f.read()
    cases = [
        ("/static", "GET", None, b"Hello, world!"),
        ("/file", "GET", None, file_bytes),
        ("/echo", "POST", ECHO_BODY, ECHO_BODY),
    ]
    failed = False
    for path, method, body, want in cases:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            headers = {"Content-Type": "application/octet-stream"} if body else {}
            c.request(method, path, body=body, headers=headers)
            r = c.getresponse()
            got = r.read()
            c.close()
            if r.status != 200:
                raise ValueError(f"status {r.status}")
            if got != want:
                raise ValueError(f"body of {len(got)} bytes differs from the {len(want)} expected")
            print(f"{path} ok")
        except Exception as e:  # noqa: BLE001 - any failure is reported
            failed = True
            print(f"{path} FAIL {e}")
    return 1 if failed else 0


# --- idle connections --------------------------------------------------------

REQUEST = b"GET /static HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def response_done(buf):
    """True once buf holds one whole response (Content-Length or chunked)."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = buf[:end].decode("latin-1").lower()
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip() == "content-length":
            return len(buf) >= end + 4 + int(value)
    if "transfer-encoding: chunked" in head:
        return buf.endswith(b"0\r\n\r\n")
    return True


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def get_static(s):
    """One GET /static on the connected (plain or TLS) socket s, read whole."""
    s.sendall(REQUEST)
    buf = b""
    while not response_done(buf):
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError("the server closed the connection before its answer")
        buf += chunk


def closed_by_server(socks):
    """How many of the open sockets socks the server has closed (readable:
    end of stream) by now; closes them all."""
    sel = selectors.DefaultSelector()
    for s in socks:
        sel.register(s, selectors.EVENT_READ)
    closed = sum(1 for _ in sel.select(timeout=0))
    sel.close()
    for s in socks:
        s.close()
    return closed


def warm_up(port, conns=4, requests=100):
    for _ in range(conns):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        for _ in range(requests):
            get_static(s)
        s.close()


def idle(pid, port, count, in_flight=100, limit_s=25.0):
    """Opens count connections, each sends one GET /static and reads the whole
    answer, then stays open; prints the server's VmRSS growth per connection."""
    nofile = raise_nofile(count + 64)
    if nofile < count + 64:
        print(f"IDLEERROR RLIMIT_NOFILE is {nofile}, need {count + 64}")
        return 1
    warm_up(port)
    time.sleep(0.5)
    before = rss_kib(pid)

    sel = selectors.DefaultSelector()
    started = time.monotonic()
    opened = done = failed = 0
    idle_socks = []
    bufs = {}

    def open_one():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        sel.register(s, selectors.EVENT_WRITE, "connect")

    while done + failed < count:
        while opened < count and opened - done - failed < in_flight:
            open_one()
            opened += 1
        if time.monotonic() - started > limit_s:
            break
        for key, _ in sel.select(timeout=1.0):
            s = key.fileobj
            if key.data == "connect":
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    sel.unregister(s)
                    s.close()
                    failed += 1
                    continue
                s.send(REQUEST)  # 40 bytes into an empty socket buffer
                bufs[s] = b""
                sel.modify(s, selectors.EVENT_READ, "read")
                continue
            try:
                chunk = s.recv(65536)
            except OSError:
                chunk = b""
            if not chunk:
                sel.unregister(s)
                s.close()
                del bufs[s]
                failed += 1
                continue
            bufs[s] += chunk
            if response_done(bufs[s]):
                sel.unregister(s)
                del bufs[s]
                idle_socks.append(s)
                done += 1
    elapsed = time.monotonic() - started
    time.sleep(1.0)
    after = rss_kib(pid)

    sel.close()
    closed = closed_by_server(idle_socks)
    for s in bufs:
        s.close()

    per_conn = (after - before) / done if done else float("nan")
    print(f"IDLERESULT conns={done} failed={failed} closed_by_server={closed} "
          f"before_kib={before} after_kib={after} kib_per_conn={per_conn:.2f} "
          f"open_s={elapsed:.2f}")
    return 0


def idle_tls(pid, port, count, tls_version):
    """idle() over https: count connections, one after the other, each a full
    handshake and one GET /static, then left open; prints the server's VmRSS
    growth per connection (what a parked TLS connection costs)."""
    nofile = raise_nofile(count + 64)
    if nofile < count + 64:
        print(f"IDLETLSERROR RLIMIT_NOFILE is {nofile}, need {count + 64}")
        return 1
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    v = ssl.TLSVersion.TLSv1_3 if tls_version == "1.3" else ssl.TLSVersion.TLSv1_2
    ctx.minimum_version = ctx.maximum_version = v

    def one():
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10))
        get_static(s)
        return s

    for _ in range(8):  # warm-up: the first connections allocate for all
        one().close()
    time.sleep(0.5)
    before = rss_kib(pid)
    socks, failed = [], 0
    started = time.monotonic()
    for _ in range(count):
        try:
            socks.append(one())
        except (OSError, ConnectionError):
            failed += 1
    elapsed = time.monotonic() - started
    time.sleep(1.0)
    after = rss_kib(pid)
    closed = closed_by_server(socks)
    done = len(socks)
    per_conn = (after - before) / done if done else float("nan")
    print(f"IDLETLSRESULT conns={done} failed={failed} closed_by_server={closed} "
          f"before_kib={before} after_kib={after} kib_per_conn={per_conn:.2f} "
          f"open_s={elapsed:.2f}")
    return 0


# --- report --------------------------------------------------------------------

SERVERS = [("ours", "nng-http"), ("nng", "NNG 1.5.2"), ("nginx", "nginx")]
ERROR_KINDS = ["connect", "read", "write", "status", "timeout", "died"]


def read_tsv(path):
    rows = []
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            if line.strip():
                rows.append(dict(zip(header, line.rstrip("\n").split("\t"))))
    return rows


def fmt(v, digits):
    return "n/a" if v is None else f"{v:,.{digits}f}"


def ratio(a, b):
    return "n/a" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def render(head, body, left=3):
    """A markdown table: the first `left` columns left-aligned, the rest right."""
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    line = lambda cells: "| " + " | ".join(  # noqa: E731
        c.ljust(w) if i < left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    sep = "|" + "|".join(("-" * (w + 2)) if i < left else ("-" * (w + 1) + ":")
                         for i, w in enumerate(widths)) + "|"
    return [line(head)] + [sep] + [line(r) for r in body]


def report(tsv, idle_tsv, md_path, title_lines):
    rows = read_tsv(tsv)
    groups = {}
    for r in rows:
        groups.setdefault((r["route"], int(r["conns"]), r["server"]), []).append(r)
    routes = []
    for r in rows:
        if r["route"] not in routes:
            routes.append(r["route"])
    conns_list = sorted({int(r["conns"]) for r in rows})

    def stats(runs):
        """Medians over rounds, and error counts summed over rounds."""
        ok = [r for r in runs if r["requests"] != "na" and int(r["requests"]) > 0]
        errs = {k: sum(int(r[k]) for r in runs if r[k] != "na") for k in ERROR_KINDS}
        if not ok:
            return None, errs
        med = lambda key: statistics.median(float(x) for x in (r[key] for r in ok))  # noqa: E731
        s = {
            "rps": statistics.median(int(r["requests"]) / (int(r["duration_us"]) / 1e6) for r in ok),
            "p50": med("p50_us") / 1000.0,
            "p99": med("p99_us") / 1000.0,
            "cpu": statistics.median(
                int(r["cpu_ticks"]) / int(r["clk_tck"]) / int(r["requests"]) * 1e6 for r in ok),
            "n": len(ok),
        }
        return s, errs

    head = ["route", "conns", "server", "req/s", "p50 ms", "p99 ms", "CPU us/req", "errors"]
    table = []
    for route in routes:
        for conns in conns_list:
            got = {}
            for key, label in SERVERS:
                runs = groups.get((route, conns, key))
                if runs is None:
                    continue
                s, errs = stats(runs)
                got[key] = s
                bad = ", ".join(f"{k} {v}" for k, v in errs.items() if v)
                if s is None:
                    table.append([route, str(conns), label, "n/a", "n/a", "n/a", "n/a",
                                  bad or runs[0].get("note", "n/a")])
                else:
                    table.append([route, str(conns), label, fmt(s["rps"], 0), fmt(s["p50"], 3),
                                  fmt(s["p99"], 3), fmt(s["cpu"], 2), bad or "0"])
            ours = got.get("ours")
            for key, label in SERVERS[1:]:
                if key not in got:
                    continue
                theirs = got[key]
                if ours is None or theirs is None:
                    table.append([route, str(conns), f"ours/{label}", "n/a", "n/a", "n/a", "n/a", ""])
                    continue
                table.append([route, str(conns), f"ours/{label}",
                              ratio(ours["rps"], theirs["rps"]), ratio(ours["p50"], theirs["p50"]),
                              ratio(ours["p99"], theirs["p99"]), ratio(ours["cpu"], theirs["cpu"]), ""])

    idle_head = ["idle keep-alive", "server", "conns", "KiB/conn", "RSS before KiB",
                 "RSS after KiB", "notes"]
    idle_table = []
    if idle_tsv and os.path.exists(idle_tsv):
        idle_rows = {r["server"]: r for r in read_tsv(idle_tsv)}
        per = {}
        for key, label in SERVERS:
            r = idle_rows.get(key)
            if r is None:
                continue
            if r["kib_per_conn"] == "na":
                per[key] = None
                idle_table.append(["", label, "n/a", "n/a", "n/a", "n/a", r.get("note", "")])
                continue
            per[key] = float(r["kib_per_conn"])
            notes = []
            if int(r["failed"]):
                notes.append(f"{r['failed']} failed")
            if int(r["closed_by_server"]):
                notes.append(f"{r['closed_by_server']} closed by server")
            idle_table.append(["", label, r["conns"], f"{per[key]:.2f}", r["before_kib"],
                               r["after_kib"], ", ".join(notes) or "0 failed"])
        for key, label in SERVERS[1:]:
            if key in per:
                idle_table.append(["", f"ours/{label}", "", ratio(per.get("ours"), per[key]),
                                   "", "", ""])

    out = list(title_lines) + [""] + render(head, table)
    if idle_table:
        out += [""] + render(idle_head, idle_table)
    out += ["", "Ratios are ours divided by theirs: above 1x is better for req/s, "
            "below 1x is better for latency, CPU per request and KiB per connection. "
            "errors: wrk's socket errors (connect/read/write/timeout) and non-2xx/3xx "
            "answers (status), summed over rounds; died = server process found dead after a run."]
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    with open(md_path, "w") as f:
        f.write(text)
    return 0


def tls_report(tsv, md_path, tls_version, title_lines):
    """run_tls.sh's table: keep-alive requests and full handshakes per second."""
    rows = read_tsv(tsv)
    tests = [("ka", "keep-alive", "req/s"), ("hs", "handshakes", "hs/s")]

    def stats(runs):
        ok = [r for r in runs if r["requests"] != "na" and int(r["requests"]) > 0]
        errs = sum(int(r["errors"]) for r in runs if r["errors"] != "na")
        died = sum(int(r["died"]) for r in runs)
        notes = sorted({r["note"] for r in runs if r["note"]})
        if not ok:
            return None, errs, died, notes

        def per_s(r):
            return int(r["requests"]) / (int(r["duration_us"]) / 1e6)

        def cpu_s(r):
            return int(r["cpu_ticks"]) / int(r["clk_tck"])

        client = [int(r["client_cpu_us"]) / int(r["duration_us"]) for r in ok
                  if r["client_cpu_us"] != "na"]
        return {
            "rate": statistics.median(per_s(r) for r in ok),
            "p50": statistics.median(float(r["p50_us"]) for r in ok) / 1000.0,
            "p99": statistics.median(float(r["p99_us"]) for r in ok) / 1000.0,
            "cpu": statistics.median(cpu_s(r) / int(r["requests"]) * 1e6 for r in ok),
            "busy": statistics.median(cpu_s(r) / (int(r["duration_us"]) / 1e6) for r in ok),
            "client": statistics.median(client) if client else None,
        }, errs, died, notes

    head = ["test", "server", "per second", "p50 ms", "p99 ms", "server CPU us", "server busy",
            "client busy", "errors"]
    table = []
    for test, label, unit in tests:
        got = {}
        for key, name in SERVERS:
            runs = [r for r in rows if r["test"] == test and r["server"] == key]
            if not runs:
                if key == "nng" and tls_version == "1.3":
                    table.append([label, name, "n/a", "n/a", "n/a", "n/a", "n/a", "n/a",
                                  "n/a: mbedTLS in NNG 1.5.2 has no TLS 1.3"])
                continue
            st, errs, died, notes = stats(runs)
            bad = ", ".join([str(errs)] + ([f"died {died}"] if died else []) + notes)
            got[key] = st
            if st is None:
                table.append([label, name, "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", bad])
                continue
            table.append([label, name, f"{fmt(st['rate'], 0)} {unit}", fmt(st["p50"], 3),
                          fmt(st["p99"], 3), fmt(st["cpu"], 2), f"{st['busy'] * 100:.0f}%",
                          "" if st["client"] is None else f"{st['client'] * 100:.0f}%", bad])
        ours = got.get("ours")
        for key, name in SERVERS[1:]:
            if key not in got:
                continue
            theirs = got[key]
            if ours is None or theirs is None:
                table.append([label, f"ours/{name}", "n/a", "n/a", "n/a", "n/a", "", "", ""])
                continue
            table.append([label, f"ours/{name}", ratio(ours["rate"], theirs["rate"]),
                          ratio(ours["p50"], theirs["p50"]), ratio(ours["p99"], theirs["p99"]),
                          ratio(ours["cpu"], theirs["cpu"]), "", "", ""])

    out = list(title_lines) + [""] + render(head, table, left=2)
    out += ["", "Ratios are ours divided by theirs: above 1x is better for the rate, below 1x "
            "for latency and server CPU per request or handshake. errors: failed requests or "
            "connections summed over rounds (wrk: socket errors and non-2xx answers; "
            "hs_client: failed connects, handshakes, reads or wrong answers); died = server "
            "process found dead after a run. When the client is about 100% busy and the server "
            "is not, the rate is the client's limit and the server CPU per handshake is the "
            "figure to compare."]
    text = "\n".join(out) + "\n"
    sys.stdout.write(text)
    with open(md_path, "w") as f:
        f.write(text)
    return 0


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "freeport":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])
        s.close()
        return 0
    if cmd == "cputicks":
        print(cputicks(int(argv[2])))
        return 0
    if cmd == "check":
        return check(int(argv[2]), argv[3])
    if cmd == "idle":
        return idle(int(argv[2]), int(argv[3]), int(argv[4]))
    if cmd == "idletls":
        return idle_tls(int(argv[2]), int(argv[3]), int(argv[4]), argv[5])
    if cmd == "report":
        return report(argv[2], argv[3], argv[4], argv[5:])
    if cmd == "tlsreport":
        return tls_report(argv[2], argv[3], argv[4], argv[5:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
