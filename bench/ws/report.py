#!/usr/bin/env python3
"""bench/ws/report.py: the tables and the JSON report of bench/ws/run.sh.

    report.py RUNS IDLE MARKDOWN JSON SERVERS [TITLE_LINE...]

RUNS holds one wsload JSON line per measured run, its "label" being
"SERVER ROUND"; IDLE one wsload idle line per server and mode (label
"SERVER"); both may be empty.  A line with "deflate": true belongs to the
permessage-deflate mode, any other to the plain mode; each mode gets its own
tables, the deflate mode also one of the bytes on the wire per message.
SERVERS lists the servers in table order (ours nng beast floor raw, those
that ran).  Prints the markdown on stdout, writes it to MARKDOWN and the
whole report (every run, the medians, the ratios, the idle figures) to JSON.
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


def mode_of(r):
    return "deflate" if r.get("deflate") else "plain"


def frame_bytes(size, masked):
    """A single frame's bytes for a payload of size bytes."""
    return size + (2 if size < 126 else 4 if size < 65536 else 10) + (4 if masked else 0)


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

    # Medians per (mode, size, conns, server) over the rounds.
    groups = {}
    for r in runs:
        key = (mode_of(r), r["size"], r["conns"], r["label"].split()[0])
        groups.setdefault(key, []).append(r)
    summary = {}
    for key, rs in groups.items():
        ok = [r for r in rs if r["messages"] > 0]

        def med(field, rs_=ok):
            vals = [r[field] for r in rs_ if r.get(field) is not None and r[field] >= 0]
            return statistics.median(vals) if vals else None

        summary[key] = {
            "mode": key[0],
            "size": key[1],
            "conns": key[2],
            "server": key[3],
            "rounds": len(rs),
            "msgs_per_s": med("msgs_per_s"),
            "msgs_per_cpu_s": med("msgs_per_cpu_s"),
            "p99_us": med("p99_us"),
            "p50_us": med("p50_us"),
            "mean_us": med("mean_us"),
            "wire_out_per_msg": med("wire_out_per_msg"),
            "wire_in_per_msg": med("wire_in_per_msg"),
            "uncompressed_echoes": sum(r["messages"] - r.get("compressed_echoes", 0)
                                       for r in ok if r.get("deflate")),
            "client_busy": med("client_cpu_s") / med("duration_s") if ok else None,
            "errors": sum(r["errors"] + r["failed"] for r in rs),
            "first_error": next((r["first_error"] for r in rs if r["first_error"]), ""),
            "empty_runs": len(rs) - len(ok),
        }

    def servers_of(mode):
        ran = {k[3] for k in summary if k[0] == mode}
        ran |= {r["label"] for r in idle if mode_of(r) == mode}
        return [s for s in servers if s in ran]

    def pairs_of(mode, names):
        if mode == "deflate":
            pairs = [("ours", "beast")]
        elif "ours" in names:
            pairs = [("ours", "nng"), ("ours", "beast")]
        else:
            pairs = [("beast", "nng")]
        return [(a, b) for a, b in pairs if a in names and b in names]

    lines = list(title)
    report = {"title": title, "servers": servers, "summary": list(summary.values()),
              "ratios": [], "idle": [], "idle_ratios": [], "runs": runs}
    for mode in ("plain", "deflate"):
        names = servers_of(mode)
        if names:
            mode_tables(mode, names, pairs_of(mode, names), summary, idle, lines, report)

    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    with open(md_path, "w") as f:
        f.write(text)
    with open(json_path, "w") as f:
        json.dump(report, f, indent=1)
        f.write("\n")


def mode_tables(mode, servers, pairs, summary, idle, lines, report):
    """Appends one mode's tables to lines and its ratios and idle rows to report."""
    suffix = ", permessage-deflate" if mode == "deflate" else ""
    cases = sorted({(k[1], k[2]) for k in summary if k[0] == mode})
    notes = []

    def cell(m, text):
        if m["client_busy"] is not None and m["client_busy"] >= BUSY:
            text += "\\*"
        if m["errors"] or m["empty_runs"]:
            text += " !"
        return text

    def table(metric, heading, digits, better):
        lines.append("")
        lines.append(f"### {heading}{suffix}")
        lines.append("")
        head = ["size", "conns"] + [NAMES.get(s, s) for s in servers]
        head += [f"{NAMES.get(a, a)} / {NAMES.get(b, b)}" for a, b in pairs]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "|".join(["------", "------:"] + ["------:"] * (len(head) - 2)) + "|")
        for size, conns in cases:
            row = [size_name(size), str(conns)]
            for s in servers:
                m = summary.get((mode, size, conns, s))
                row.append("n/a" if m is None else cell(m, fmt(m[metric], digits)))
            for a, b in pairs:
                ma, mb = summary.get((mode, size, conns, a)), summary.get((mode, size, conns, b))
                q = ratio(ma and ma[metric], mb and mb[metric])
                row.append("n/a" if q is None else f"{q:.2f}x")
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
        lines.append(f"({better})")

    if cases:
        table("msgs_per_cpu_s", "Messages per server CPU-second", 0,
              "higher is better; server utime+stime over the measured window, all threads")
        table("msgs_per_s", "Messages per second", 0, "higher is better")
        table("p99_us", "p99 round trip (us)", 0, "lower is better; a ratio below 1x is better")
    if cases and mode == "deflate":
        wire_table(servers, cases, summary, lines)

    for (m_, size, conns, s), m in sorted(summary.items()):
        if m_ != mode:
            continue
        if m["errors"] or m["empty_runs"]:
            notes.append(
                f"- {NAMES.get(s, s)}, {size_name(size)} x {conns}: "
                f"{m['errors']} connection(s) failed or lost, {m['empty_runs']} run(s) "
                f"without an echo{': ' + m['first_error'] if m['first_error'] else ''}")
    if any(m["client_busy"] is not None and m["client_busy"] >= BUSY
           for k, m in summary.items() if k[0] == mode):
        lines.append("")
        lines.append(f"\\* the load generator used at least {BUSY:.0%} of its CPU in that run: "
                     "it may have held the server back there (the CPU-second figure is "
                     "the fairer one).")
    if notes:
        lines.append("")
        lines.append("! errors (as wsload saw them):")
        lines.extend(notes)

    for size, conns in cases:
        for a, b in pairs:
            ma, mb = summary.get((mode, size, conns, a)), summary.get((mode, size, conns, b))
            entry = {"mode": mode, "size": size, "conns": conns, "of": a, "to": b}
            for metric in ("msgs_per_cpu_s", "msgs_per_s", "p99_us"):
                entry[metric] = ratio(ma and ma[metric], mb and mb[metric])
            report["ratios"].append(entry)

    base = {r["label"]: r for r in idle if mode_of(r) == mode}
    if not base:
        return
    lines.append("")
    if mode == "deflate":
        lines.append("### Idle connections with permessage-deflate: server VmRSS growth")
    else:
        lines.append("### Idle connections: server VmRSS growth")
    lines.append("")
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
        report["idle"].append({"server": s, "mode": mode, **r})
    lines.append("")
    parts = []
    for a, b in pairs:
        ra, rb = base.get(a), base.get(b)
        q = ratio(ra and ra["bytes_per_conn"], rb and rb["bytes_per_conn"])
        parts.append(f"{NAMES.get(a, a)} / {NAMES.get(b, b)}: "
                     + ("n/a" if q is None or q < 0 else f"{q:.2f}x"))
        report["idle_ratios"].append({"mode": mode, "of": a, "to": b, "bytes_per_conn": q})
    extra = "; each connection negotiated compression and echoed one message" \
        if mode == "deflate" else ""
    lines.append("(lower is better" + ("; " + ", ".join(parts) if parts else "") + extra + ")")


def wire_table(servers, cases, summary, lines):
    """The bytes on the wire per message each way, with the compression ratio."""
    lines.append("")
    lines.append("### Bytes on the wire per message, permessage-deflate")
    lines.append("")
    head = ["size", "conns", "uncompressed frame (sent / echo)"]
    for s in servers:
        head += [f"{NAMES.get(s, s)}: sent", f"{NAMES.get(s, s)}: echo"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join(["------", "------:"] + ["------:"] * (len(head) - 2)) + "|")
    uncompressed = []
    for size, conns in cases:
        plain_out, plain_in = frame_bytes(size, True), frame_bytes(size, False)
        row = [size_name(size), str(conns), f"{plain_out:,} / {plain_in:,}"]
        for s in servers:
            m = summary.get(("deflate", size, conns, s))
            for field, plain in (("wire_out_per_msg", plain_out), ("wire_in_per_msg", plain_in)):
                v = m and m[field]
                row.append("n/a" if not v else f"{v:,.0f} ({plain / v:.1f}x)")
            if m and m["uncompressed_echoes"]:
                uncompressed.append(f"{NAMES.get(s, s)}, {size_name(size)} x {conns}: "
                                    f"{m['uncompressed_echoes']} echo(es) sent uncompressed")
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.append("(medians of the bytes per message over each run's window: frame headers "
                 "plus compressed payloads, as wsload sent and received them; \"sent\" is "
                 "wsload's compression, \"echo\" the server's; in brackets the uncompressed "
                 "frame's size over it, higher is smaller)")
    if uncompressed:
        lines.append("")
        lines.append("Echoes the server chose not to compress (RSV1 clear): "
                     + "; ".join(uncompressed) + ".")


if __name__ == "__main__":
    main()
