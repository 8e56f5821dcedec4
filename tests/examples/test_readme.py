#!/usr/bin/env python3
"""README.md's code excerpts are taken from programs the tests build and
run: every block announced by `<!-- excerpt: PATH -->` must appear in PATH,
line for line and in order (other lines may come between; a line `// ...`
or `/* ... */` in the block marks an elision and is skipped).

Usage: test_readme.py SOURCE_DIR
"""
import re
import sys
import unittest
from pathlib import Path

ROOT = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
ELISION = re.compile(r"^\s*(//|/\*)\s*\.\.\.\s*(\*/)?\s*$")


def excerpts(text):
    """(path, [lines]) for each announced block."""
    out = []
    pat = re.compile(r"<!-- excerpt: (\S+) -->\n```\w*\n(.*?)```\n", re.S)
    for m in pat.finditer(text):
        out.append((m.group(1), m.group(2).splitlines()))
    return out


def missing_line(block, source):
    """The first block line not found (in order) in source, else None."""
    lines = source.splitlines()
    pos = 0
    for line in block:
        if not line.strip() or ELISION.match(line):
            continue
        while pos < len(lines) and lines[pos].rstrip() != line.rstrip():
            pos += 1
        if pos == len(lines):
            return line
        pos += 1
    return None


class ReadmeExcerpts(unittest.TestCase):
    def test_excerpts_come_from_tested_programs(self):
        text = (ROOT / "README.md").read_text()
        found = excerpts(text)
        # The C example, the C++ server and the coroutine client at least.
        self.assertGreaterEqual(len(found), 3, "README.md lost its excerpts")
        for path, block in found:
            with self.subTest(path=path):
                src = ROOT / path
                self.assertTrue(src.is_file(), f"{path} does not exist")
                self.assertGreater(len(block), 3)
                bad = missing_line(block, src.read_text())
                self.assertIsNone(bad, f"README.md's excerpt of {path} has a line "
                                       f"that is not in the file (or out of order): {bad!r}")

    def test_checker_notices_a_change(self):
        # The check itself must be able to fail.
        self.assertEqual(missing_line(["int b;"], "int a;\n"), "int b;")
        self.assertEqual(missing_line(["b();", "a();"], "a();\nb();\n"), "a();")
        self.assertIsNone(missing_line(["a();", "// ...", "b();"], "a();\nx();\nb();\n"))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
