"""What the two stand-in echo programs share: the echo loop and the
deliberate faults of --broken.  Python `websockets` (Debian
python3-websockets), run with /usr/bin/python3."""
import sys

import websockets

MiB = 1 << 20
LIMIT = 16 * MiB  # the contract: messages up to 16 MiB

# Faults of the echo loop, shared by both programs.
ECHO_FAULTS = {
    "binary-as-text": "echo binary messages as text (their octets read as Latin-1)",
    "text-as-binary": "echo text messages as binary",
    "mangle-utf8": "echo text with every non-ASCII character replaced by '?'",
    "truncate": "echo only the first 1 MiB of a longer message",
    "split": "echo every message of 2 octets or more as two messages",
    "small-limit": "refuse messages over 1 MiB (websockets' default max_size) instead of 16 MiB",
    "no-pong": "never answer a ping",
}


def parse_faults(text, known, prog):
    faults = set(filter(None, (text or "").split(",")))
    unknown = faults - set(known)
    if unknown:
        sys.stderr.write("%s: unknown fault(s) %s; known: %s\n" % (prog, ", ".join(sorted(unknown)), ", ".join(known)))
        sys.exit(2)
    return faults


def list_faults(known):
    for name, what in known.items():
        print("%-22s %s" % (name, what))


def max_size(faults):
    return MiB if "small-limit" in faults else LIMIT


async def echo(ws, faults):
    """Echo every message with its type until the connection closes."""
    try:
        async for msg in ws:
            if isinstance(msg, bytes) and "binary-as-text" in faults:
                msg = msg.decode("latin-1")
            elif isinstance(msg, str) and "text-as-binary" in faults:
                msg = msg.encode("utf-8")
            if isinstance(msg, str) and "mangle-utf8" in faults:
                msg = msg.encode("ascii", "replace").decode("ascii")
            if "truncate" in faults and len(msg) > MiB:
                msg = msg[:MiB]
            if "split" in faults and len(msg) >= 2:
                await ws.send(msg[: len(msg) // 2])
                msg = msg[len(msg) // 2 :]
            await ws.send(msg)
    except websockets.ConnectionClosed:
        pass


def without_pongs(protocol_class):
    """A protocol class that never answers pings."""

    class NoPong(protocol_class):
        async def pong(self, data=b""):
            return None

    return NoPong
