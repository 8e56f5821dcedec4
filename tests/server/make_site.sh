#!/bin/sh
# Generates tests/server/site/www/one.bin: 1 MiB (1048576 bytes) of
# deterministic pseudo-random bytes (a 32-bit linear congruential generator,
# top byte of each state), the same on every machine.
# sha256: printed at the end; requests.py's transcript records it.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)/site/www
python3 - "$dir/one.bin" <<'PY'
import sys
state = 1
out = bytearray(1 << 20)
for i in range(len(out)):
    state = (state * 1103515245 + 12345) & 0xFFFFFFFF
    out[i] = state >> 24
with open(sys.argv[1], "wb") as f:
    f.write(out)
PY
sha256sum "$dir/one.bin"
