#!/usr/bin/env python3
"""compare.py NNG_TRANSCRIPT OURS_TRANSCRIPT

Compares two requests.py transcripts case by case and exits 1 if a case
differs where it should not.  Allowed to differ:
  * the cases requests.py --known-bugs names (NNG 1.5.2 is wrong there;
    docs/compat.md), whose answers from nng-http are printed for the record;
  * the cases in DELIBERATE below (documented differences that are not NNG
    bugs);
  * the bytes of server-made HTML pages (error pages and redirect pages are
    our own text): for a response with Content-Type "text/html;
    charset=UTF-8" and a status of 300 or more, only the status line and
    the other headers are compared.
"""
import re
import subprocess
import sys
from pathlib import Path

# HTTP/1.0 with "Connection: keep-alive" is kept open (RFC 9112 appendix
# C.2.2); NNG 1.5.2 closes every HTTP/1.0 connection.
DELIBERATE = {"http10-keep-alive"}

# Where we differ on purpose, what our answer must contain (lines that must
# appear in the case's transcript, in order).
EXPECT_OURS = {
    "file-post": ["HTTP/1.1 405 Method Not Allowed", "  allow: GET, HEAD"],
    "dir-dotdot-escape": ["HTTP/1.1 404 Not Found"],
    "dir-dotdot-encoded": ["HTTP/1.1 404 Not Found"],
    "dir-percent-space": ["HTTP/1.1 200 OK"],
    "dir-query": ["HTTP/1.1 200 OK"],
    "echo-over-limit": ["HTTP/1.1 413 Payload Too Large", "then: closed"],
    "echo-over-limit-smuggle": ["HTTP/1.1 413 Payload Too Large", "no response (closed)"],
    "echo-chunked": ["HTTP/1.1 200 OK", "body: 20 bytes 'hello, chunked world'"],
    "pipelined-chunked-then-get": [
        "HTTP/1.1 200 OK",
        "body: 21 bytes 'first body, in chunks'",
        "HTTP/1.1 200 OK",
        "body: 13 bytes 'Hello, world!'",
    ],
    "echo-gzip-te": ["HTTP/1.1 400 Bad Request", "then: closed"],
    "echo-get-405": ["HTTP/1.1 405 Method Not Allowed", "  allow: POST"],
    "put-get-405": ["HTTP/1.1 405 Method Not Allowed", "  allow: PUT"],
    "put-delete-405": ["HTTP/1.1 405 Method Not Allowed", "  allow: PUT"],
    "static-lowercase-method": ["HTTP/1.1 405 Method Not Allowed"],
    "empty-body": ["HTTP/1.1 200 OK", "  content-length: 0"],
    "static-percent-encoded": ["HTTP/1.1 200 OK"],
    "not-found-head": ["HTTP/1.1 404 Not Found", "body: 0 bytes ''"],
    "put-head-405": ["HTTP/1.1 405 Method Not Allowed", "body: 0 bytes ''"],
    "malformed-request-line": ["HTTP/1.1 400 Bad Request", "then: closed"],
    "malformed-header-line": ["HTTP/1.1 400 Bad Request", "then: closed"],
    "long-header": ["HTTP/1.1 431 Headers Too Large", "then: closed"],
    "long-uri": ["HTTP/1.1 414 Request Entity Too Long", "then: closed"],
    "http10-keep-alive": ["  connection: keep-alive", "then: open"],
}


def contains_in_order(lines, wanted):
    i = 0
    for line in lines:
        if i < len(wanted) and line == wanted[i]:
            i += 1
    return i == len(wanted)


def cases(path):
    out, name = {}, None
    for line in Path(path).read_text().splitlines():
        m = re.match(r"^=== (\S+)", line)
        if m:
            name = m.group(1)
            out[name] = []
        elif name is not None:
            out[name].append(line)
    return out


def normalize(lines):
    """Drops the bytes of server-made HTML pages (see the module comment)."""
    out, status, html = [], 0, False
    for line in lines:
        m = re.match(r"^HTTP/1\.[01] (\d{3})", line)
        if m:
            status, html = int(m.group(1)), False
        if line.strip() == "content-type: text/html; charset=UTF-8":
            html = True
        out.append(line)
    if status >= 300 and html:
        out = [l for l in out if not l.strip().startswith("content-length:")
               and not l.startswith("body:")]
    return out


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    here = Path(__file__).resolve().parent
    known = subprocess.run([sys.executable, str(here / "requests.py"), "--known-bugs"],
                           capture_output=True, text=True, check=True).stdout
    known = {line.split()[0] for line in known.splitlines() if line.strip()}
    nng, ours = cases(argv[1]), cases(argv[2])
    bad = 0
    for name, want in nng.items():
        got = ours.get(name)
        if got is None:
            print(f"MISSING {name}")
            bad += 1
        elif name in known or name in DELIBERATE:
            wanted = EXPECT_OURS.get(name)
            if wanted is None:
                bad += 1
                print(f"NO EXPECTATION for {name} (add one to EXPECT_OURS)")
            elif not contains_in_order(got, wanted):
                bad += 1
                print(f"WRONG {name}: expected {wanted}")
                for line in got:
                    print(f"  ours: {line}")
            else:
                print(f"differs on purpose, as expected: {name}")
        elif normalize(want) != normalize(got):
            bad += 1
            print(f"DIFFERENT {name}")
            for line in want:
                print(f"  nng:  {line}")
            for line in got:
                print(f"  ours: {line}")
    print(f"{len(nng)} cases, {bad} unexpected differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
