#!/usr/bin/env python3
"""bench/ws/report.py: the tables and the JSON report of bench/ws/run.sh.

    report.py RUNS IDLE MARKDOWN JSON SERVERS [TITLE_LINE...]

RUNS holds one wsload JSON line per measured run, its "label" being
"SERVER ROUND"; IDLE one wsload idle line per server (label "SERVER"); both
may be empty.  SERVERS lists the servers in table order (ours nng beast
floor raw, those that ran).  Prints the markdown on stdout, writes it to
MARKDOWN and the whole report (every run, the medians, the ratios, the idle
figures) to JSON.
"""
import json
import statistics
import sys

NAMES = {
    "ours": "nng-http",
    "nng": "NNG 1.5.2",
    "beast": "Beast",
    "floor": "floor ws",
    "raw": "floor raw",
}
# A run whose generator was this busy may have been held back by it.
BUSY = 0.95


def load_lines(path):
    out = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


def size_name(n):
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n >> 10} KiB"
    return f"{n} B"


def fmt(v, digits=0):
    if v is None:
        return "n/a"
    if digits == 0:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def main():
    runs_path, idle_path, md_path, json_path, servers = sys.argv[1:6]
    title = sys.argv[6:]
    servers = servers.split()
    runs = load_lines(runs_path)
    idle = load_lines(idle_path)
    pairs = [("ours", "nng"), ("ours", "beast")] if "ours" in servers else [("beast", "nng")]
    pairs = [(a, b) for a, b in pairs if a in servers and b in servers]

    # Medians per (size, conns, server) over the rounds.
    cases = []
    groups = {}
    for r in runs:
        server = r["label"].split()[0]
        key = (r["size"], r["conns"], server)
        groups.setdefault(key, []).append(r)
        if (r["size"], r["conns"]) not in cases:
            cases.append((r["size"], r["conns"]))
    cases.sort()
    summary = {}
    for key, rs in groups.items():
        ok = [r for r in rs if r["messages"] > 0]

        def med(field, rs_=ok):
            vals = [r[field] for r in rs_ if r.get(field) is not None and r[field] >= 0]
            return statistics.median(vals) if vals else None

        summary[key] = {
            "size": key[0],
            "conns": key[1],
            "server": key[2],
            "rounds": len(rs),
            "msgs_per_s": med("msgs_per_s"),
            "msgs_per_cpu_s": med("msgs_per_cpu_s"),
            "p99_us": med("p99_us"),
            "p50_us": med("p50_us"),
            "mean_us": med("mean_us"),
            "client_busy": med("client_cpu_s") / med("duration_s") if ok else None,
            "errors": sum(r["errors"] + r["failed"] for r in rs),
            "first_error": next((r["first_error"] for r in rs if r["first_error"]), ""),
            "empty_runs": len(rs) - len(ok),
        }

    lines = list(title)
    notes = []

    def table(metric, heading, digits, better):
        lines.append("")
        lines.append(f"### {heading}")
        lines.append("")
        head = ["size", "conns"] + [NAMES.get(s, s) for s in servers]
        head += [f"{NAMES.get(a, a)} / {NAMES.get(b, b)}" for a, b in pairs]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "|".join(["------", "------:"] + ["------:"] * (len(head) - 2)) + "|")
        for size, conns in cases:
            row = [size_name(size), str(conns)]
            for s in servers:
                m = summary.get((size, conns, s))
                if m is None:
                    row.append("n/a")
                    continue
                cell = fmt(m[metric], digits)
                if m["client_busy"] is not None and m["client_busy"] >= BUSY:
                    cell += "\\*"
                if m["errors"] or m["empty_runs"]:
                    cell += " !"
                row.append(cell)
            for a, b in pairs:
                ma, mb = summary.get((size, conns, a)), summary.get((size, conns, b))
                q = ratio(ma and ma[metric], mb and mb[metric])
                row.append("n/a" if q is None else f"{q:.2f}x")
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
        lines.append(f"({better})")

    table("msgs_per_cpu_s", "Messages per server CPU-second", 0,
          "higher is better; server utime+stime over the measured window, all threads")
    table("msgs_per_s", "Messages per second", 0, "higher is better")
    table("p99_us", "p99 round trip (us)", 0, "lower is better; a ratio below 1x is better")

    for (size, conns, s), m in sorted(summary.items()):
        if m["errors"] or m["empty_runs"]:
            notes.append(
                f"- {NAMES.get(s, s)}, {size_name(size)} x {conns}: "
                f"{m['errors']} connection(s) failed or lost, {m['empty_runs']} run(s) "
                f"without an echo{': ' + m['first_error'] if m['first_error'] else ''}")
    if any(m["client_busy"] is not None and m["client_busy"] >= BUSY for m in summary.values()):
        lines.append("")
        lines.append(f"\\* the load generator used at least {BUSY:.0%} of its CPU in that run: "
                     "it may have held the server back there (the CPU-second figure is "
                     "the fairer one).")
    if notes:
        lines.append("")
        lines.append("! errors (as wsload saw them):")
        lines.extend(notes)

    idle_rows = []
    idle_ratios = []
    if idle:
        lines.append("")
        lines.append("### Idle connections: server VmRSS growth")
        lines.append("")
        base = {}
        for r in idle:
            base[r["label"]] = r
        head = ["server", "held", "failed", "RSS before (KiB)", "RSS after (KiB)",
                "bytes per connection"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "|".join(["------"] + ["------:"] * (len(head) - 1)) + "|")
        for s in servers:
            r = base.get(s)
            if r is None:
                continue
            per = r["bytes_per_conn"] if r["bytes_per_conn"] >= 0 else None
            row = [NAMES.get(s, s), fmt(r["idle"]), fmt(r["failed"] + r["errors"]),
                   fmt(r["rss_before_kib"]), fmt(r["rss_after_kib"]), fmt(per)]
            lines.append("| " + " | ".join(row) + " |")
            idle_rows.append({"server": s, **r})
        lines.append("")
        parts = []
        for a, b in pairs:
            ra, rb = base.get(a), base.get(b)
            q = ratio(ra and ra["bytes_per_conn"], rb and rb["bytes_per_conn"])
            parts.append(f"{NAMES.get(a, a)} / {NAMES.get(b, b)}: "
                         + ("n/a" if q is None or q < 0 else f"{q:.2f}x"))
            idle_ratios.append({"of": a, "to": b, "bytes_per_conn": q})
        lines.append("(lower is better" + ("; " + ", ".join(parts) if parts else "") + ")")

    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    with open(md_path, "w") as f:
        f.write(text)

    ratios = []
    for (size, conns) in cases:
        for a, b in pairs:
            ma, mb = summary.get((size, conns, a)), summary.get((size, conns, b))
            entry = {"size": size, "conns": conns, "of": a, "to": b}
            for metric in ("msgs_per_cpu_s", "msgs_per_s", "p99_us"):
                entry[metric] = ratio(ma and ma[metric], mb and mb[metric])
            ratios.append(entry)
    report = {
        "title": title,
        "servers": servers,
        "summary": list(summary.values()),
        "ratios": ratios,
        "idle": idle_rows,
        "idle_ratios": idle_ratios,
        "runs": runs,
    }
    with open(json_path, "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
