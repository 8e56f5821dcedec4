"""The fuzzing endpoint of one case: it plays either the client (testing a
server) or the server (testing a client) on one open WebSocket connection,
sends exactly the frames a case script asks for, with the chops and delays
it asks for, records what the peer sends back, runs the closing handshake
the way Autobahn|Testsuite's fuzzer does, and then judges the case.

The model follows Autobahn's (facts read from its sources, the code is
ours):
  * received events are ("message", payload, is_binary), ("pong", payload)
    and ("timeout", tag) markers a script adds; pings from the peer are
    answered and not recorded;
  * a case lists its acceptable event sequences (OK first, then
    NON-STRICT) and its closing expectation: who must start the closing
    handshake, the acceptable close codes, whether it must be clean;
  * when the events match and we are expected to close, we close at once
    with the first expected code;
  * kill_after(t): if the connection is still up after t seconds, we fail it
    (close 1001, or drop the TCP connection if a close was already sent);
  * close_after(t): if still up, we start a closing handshake (empty close);
  * a close we start that is not answered within 1 s is a closing handshake
    timeout (unclean); as a client, a server that keeps the TCP connection
    open 1 s past the closing handshake makes it unclean too.

With permessage-deflate agreed (pmd, a pmdeflate.Agreement), the fuzzer
compresses what a case asks it to within what it agreed, inflates what the
peer sends (with a fresh inflater per message when the peer agreed to no
context takeover, so that a reference into an earlier message fails), and
walks every compressed message of a peer limited to a window below 15 bits
to check each back-reference distance against that window.

Every wait is bounded: each timer, and a hard limit per case.
"""
import heapq
import os
import select
import socket
import time

import pmdeflate
import wsproto as wp

OK = "OK"
NON_STRICT = "NON-STRICT"
FAILED = "FAILED"
INFORMATIONAL = "INFORMATIONAL"
UNIMPLEMENTED = "UNIMPLEMENTED"
# behaviorClose only
UNCLEAN = "UNCLEAN"
WRONG_CODE = "WRONG CODE"
FAILED_BY_CLIENT = "FAILED BY CLIENT"

OUTCOMES = [OK, NON_STRICT, FAILED, INFORMATIONAL, UNIMPLEMENTED]

# How a behaviorClose counts in the overall outcome of a case.  WRONG CODE:
# RFC 6455 lets an endpoint that fails a connection pick its close code
# ("MAY send a Close frame with an appropriate status code", 7.1.7), so a
# different code is not strict but conformant.  FAILED BY CLIENT: the server
# SHOULD close the TCP connection first (7.1.1).
CLOSE_WEIGHT = {
    OK: OK,
    INFORMATIONAL: INFORMATIONAL,
    UNIMPLEMENTED: UNIMPLEMENTED,
    WRONG_CODE: NON_STRICT,
    FAILED_BY_CLIENT: NON_STRICT,
    UNCLEAN: FAILED,
    FAILED: FAILED,
}
RANK = {OK: 0, INFORMATIONAL: 1, UNIMPLEMENTED: 2, NON_STRICT: 3, FAILED: 4}

OPEN = "OPEN"
CLOSING = "CLOSING"
CLOSED = "CLOSED"

LOG_HEAD = 24
LOG_TAIL = 8
# Compressed octets per case that the window check walks at most (the
# walker decodes about five million symbols a second).
WALK_BUDGET = 8 << 20


def overall(behavior, behavior_close):
    c = CLOSE_WEIGHT.get(behavior_close, FAILED)
    b = behavior if behavior in RANK else FAILED
    return b if RANK[b] >= RANK[c] else c


def repeat_to(payload, length):
    if length == 0:
        return b""
    return (payload * (length // len(payload) + 1))[:length]


def show_payload(data, limit=32):
    """A short printable form of a payload for logs and reports."""
    cut = data[:limit]
    more = "..." if len(data) > limit else ""
    try:
        text = cut.decode("utf-8")
        if all(c.isprintable() for c in text):
            return repr(text) + more
    except UnicodeDecodeError:
        pass
    return "0x" + cut.hex() + more


def show_event(ev):
    if ev[0] == "message":
        return "%s message %d bytes %s" % ("binary" if ev[2] else "text", len(ev[1]), show_payload(ev[1]))
    if ev[0] == "pong":
        return "pong %s" % show_payload(ev[1])
    return "timeout %s" % ev[1]


class FrameLog:
    """First LOG_HEAD and last LOG_TAIL entries, and counts per opcode."""

    def __init__(self):
        self.head = []
        self.tail = []
        self.total = 0
        self.entries = 0
        self.counts = {}

    def add(self, t, text, opcode=None):
        """opcode None: a note (part of a frame written later), not counted."""
        if opcode is not None:
            name = wp.OPCODE_NAMES.get(opcode, "op%d" % opcode)
            self.counts[name] = self.counts.get(name, 0) + 1
            self.total += 1
        entry = "%.3f %s" % (t, text)
        self.entries += 1
        if len(self.head) < LOG_HEAD:
            self.head.append(entry)
        else:
            self.tail.append(entry)
            if len(self.tail) > LOG_TAIL:
                self.tail.pop(0)

    def report(self):
        omitted = self.entries - len(self.head) - len(self.tail)
        out = {"count": self.total, "per_opcode": self.counts, "first": self.head}
        if self.tail:
            out["last"] = self.tail
        if omitted > 0:
            out["omitted"] = omitted
        return out


class Options:
    """Time and size settings shared by every case of a run."""

    def __init__(self, scale=1.0, timeout=20.0, load=0.25, peer_max_message=None, gap=0.001, groups=None, mode=None, deflate=False):
        self.scale = scale
        self.timeout = timeout
        self.load = load
        self.peer_max_message = peer_max_message
        self.gap = gap
        # The catalogue's groups (None: 1-10), the mode ("server" tests a
        # server, "client" a client, None: both), and whether the peer was
        # declared to support permessage-deflate (--deflate).
        self.groups = groups
        self.mode = mode
        self.deflate = deflate


class Fuzzer:
    def __init__(self, sock, role, case, opts, early=b"", pmd=None, negotiation=None):
        assert role in ("client", "server")
        self.sock = sock
        self.role = role
        self.case = case
        self.opts = opts
        self.early = early
        # permessage-deflate: the Agreement (None: not in use) and what the
        # opening handshake said, for the report
        self.pmd = pmd
        self.negotiation = negotiation
        inflater = None
        self.deflater = None
        if pmd is not None:
            inflater = pmdeflate.Inflater(no_context_takeover=pmd.peer_nct)
            self.deflater = pmdeflate.Deflater(pmd.own_window, pmd.own_nct)
        self.walk_window = pmd is not None and pmd.peer_window < 15
        self.walk_budget = WALK_BUDGET
        self.pmd_stats = {"compressed": 0, "uncompressed": 0, "walked": 0, "not_walked": 0, "max_distance": 0}
        self.last_info = None
        self.receiver = wp.Receiver(expect_masked=(role == "server"), inflater=inflater, keep_compressed=self.walk_window)
        # Judging inputs
        self.expected = []  # [(outcome, [events])], in order of preference
        self.expected_close = None
        self.received = []
        self.suppress_close = False
        self.behavior = FAILED
        self.behavior_close = FAILED
        self.result = "The events received differ from every expected sequence."
        self.result_close = "The TCP connection was dropped without a closing handshake."
        self.notes = []
        # Closing state, named after Autobahn's report fields
        self.state = OPEN
        self.closed_by_me = False
        self.failed_by_me = False
        self.dropped_by_me = False
        self.was_clean = False
        self.was_not_clean_reason = None
        self.was_close_handshake_timeout = False
        self.was_server_drop_timeout = False
        self.local_close_code = None
        self.local_close_reason = None
        self.remote_close_code = None
        self.remote_close_reason = None
        self.remote_close_seen = False
        self.peer_errors = []
        self.hard_timeout = False
        # Hooks a case may set
        self.message_hook = None
        self.post_hook = None
        # Machinery
        self.timers = []
        self.timer_seq = 0
        self.close_timer = None
        self.outq = []  # [bytearray or bytes, offset, separate]
        self.next_send = 0.0
        self.gap = opts.gap
        self.t0 = None
        self.t_end = None
        self.tx_log = FrameLog()
        self.rx_log = FrameLog()
        self.tx_opcodes = {}
        self.rx_bytes = 0
        self.tx_bytes = 0
        self.data = {}  # per-case scratch space

    # ------------------------------------------------------------ for cases
    def secs(self, t):
        """A protocol wait of the catalogue, times --scale."""
        return t * self.opts.scale

    def expect(self, *pairs):
        """expect((OK, [events]), (NON_STRICT, [events]), ...)."""
        self.expected = list(pairs)

    def expect_close(self, by_me, codes, clean, wrong_endpoint_fatal=False):
        self.expected_close = {
            "closedByMe": by_me,
            "closeCode": list(dict.fromkeys(codes)),
            "requireClean": clean,
            "closedByWrongEndpointIsFatal": wrong_endpoint_fatal,
        }

    def mark(self, tag):
        self.received.append(("timeout", tag))

    def _mask(self):
        return os.urandom(4) if self.role == "client" else None

    def send_frame(self, opcode, payload=b"", fin=True, rsv=0, payload_len=None, chop=None, sync=False):
        if payload_len is not None:
            payload = repeat_to(payload, payload_len)
        mask = self._mask()
        data = wp.encode_frame(opcode, payload, fin, rsv, mask)
        self._log_tx(opcode, fin, rsv, len(payload), payload, chop, sync)
        self._queue(data, chop, sync)

    def send_message(self, payload, binary=False, frag=None, sync=False, compress=False, raw=None):
        """A message in frames of `frag` octets (one frame if None).  With
        compress, the payload is compressed first (within what was agreed)
        and the compressed octets are split; raw gives a compressed payload
        made by the case instead.  RSV1 goes on the first frame only."""
        op = wp.OP_BINARY if binary else wp.OP_TEXT
        rsv = 0
        if raw is not None:
            payload, rsv = raw, 4
        elif compress:
            payload, rsv = self.deflater.compress(payload), 4
        if not frag or frag >= len(payload):
            self.send_frame(op, payload, rsv=rsv, sync=sync)
            return
        pieces = [payload[i : i + frag] for i in range(0, len(payload), frag)]
        frames = []
        for i, p in enumerate(pieces):
            last = i == len(pieces) - 1
            o = op if i == 0 else wp.OP_CONT
            r = rsv if i == 0 else 0
            frames.append(wp.encode_frame(o, p, last, r, self._mask()))
            self._log_tx(o, last, r, len(p), p, None, sync)
        if sync:
            for fr in frames:
                self._queue(fr, None, True)
        else:
            self._queue(b"".join(frames), None, False)

    def begin_frame(self, opcode, length, fin=True):
        """Starts one frame whose payload the case writes in pieces with
        write_frame_data (each piece its own TCP write)."""
        mask = self._mask()
        self.data["_partial"] = [mask, 0]
        self._log_tx(opcode, fin, 0, length, b"", None, True)
        self._queue(wp.frame_header(opcode, length, fin, 0, mask), None, True)

    def write_frame_data(self, piece):
        mask, off = self.data["_partial"]
        data = wp.xor_mask(piece, mask, off) if mask is not None else piece
        self.tx_log.add(self._now(), "  payload octets %d-%d of that frame: %s" % (off, off + len(piece) - 1, show_payload(piece)))
        self.data["_partial"][1] = off + len(piece)
        self._queue(data, None, True)

    def send_close(self, code=None, reason=b"", raw=None):
        """Starts the closing handshake (any code, even an invalid one; raw
        gives the whole close payload instead)."""
        self._send_close_frame(code, reason, reply=False, raw=raw)

    def kill_after(self, t):
        self.call_later(self.secs(t), self._kill)

    def close_after(self, t):
        self.call_later(self.secs(t), self._close_timeout)

    def later(self, t, fn):
        def run():
            if self.state != CLOSED:
                fn()

        self.call_later(self.secs(t), run)

    # ---------------------------------------------------------- the engine
    def call_later(self, delay, fn):
        self.timer_seq += 1
        entry = [time.monotonic() + delay, self.timer_seq, fn, True]
        heapq.heappush(self.timers, entry)
        return entry

    def _cancel(self, entry):
        if entry is not None:
            entry[3] = False

    def _now(self):
        return time.monotonic() - self.t0

    def _log_tx(self, opcode, fin, rsv, length, payload, chop, sync):
        self.tx_opcodes[opcode] = self.tx_opcodes.get(opcode, 0) + 1
        parts = [wp.OPCODE_NAMES.get(opcode, "op%d" % opcode)]
        if not fin:
            parts.append("fin=0")
        if rsv:
            parts.append("rsv=%d" % rsv)
        parts.append("len=%d" % length)
        if payload:
            parts.append(show_payload(payload))
        if chop:
            parts.append("chop=%d" % chop)
        if sync:
            parts.append("sync")
        self.tx_log.add(self._now() if self.t0 else 0.0, " ".join(parts), opcode)

    def _queue(self, data, chop, sync):
        if self.state == CLOSED:
            return
        if chop:
            for i in range(0, len(data), chop):
                self.outq.append([data[i : i + chop], 0, True])
        elif sync:
            self.outq.append([data, 0, True])
        else:
            last = self.outq[-1] if self.outq else None
            if last is not None and not last[2] and last[1] == 0:
                last[0] = bytes(last[0]) + data
            else:
                self.outq.append([data, 0, False])

    def _send_close_frame(self, code, reason, reply, raw=None):
        if self.state != OPEN:
            return
        payload = raw if raw is not None else wp.close_payload(code, reason)
        self.send_frame(wp.OP_CLOSE, payload)
        self.state = CLOSING
        self.closed_by_me = not reply
        self.local_close_code = code
        self.local_close_reason = raw if raw is not None else reason
        if self.closed_by_me:
            self.close_timer = self.call_later(self.secs(1.0), self._close_handshake_timeout)

    def _close_handshake_timeout(self):
        if self.state != CLOSED:
            self.was_clean = False
            self.was_not_clean_reason = "the peer did not answer our close frame within %.1f s" % self.secs(1.0)
            self.was_close_handshake_timeout = True
            self._drop(abort=True)

    def _server_drop_timeout(self):
        if self.state != CLOSED:
            self.was_clean = False
            self.was_not_clean_reason = "the server did not close the TCP connection within %.1f s of the closing handshake" % self.secs(1.0)
            self.was_server_drop_timeout = True
            self._drop(abort=True)

    def _server_drop_wait(self):
        # We answered the peer's close; the server (the peer) must now close
        # the TCP connection.  Autobahn ends such a case with its kill timer;
        # we bound it on our own too.
        if self.state != CLOSED:
            self.notes.append("the server did not close the TCP connection after our close reply")
            self._drop(abort=False)

    def _kill(self):
        if self.state != CLOSED:
            self._fail(wp.CLOSE_GOING_AWAY, b"going away")

    def _close_timeout(self):
        if self.state != CLOSED:
            self._send_close_frame(None, b"", reply=False)

    def _fail(self, code, reason):
        if self.state == CLOSED:
            return
        self.failed_by_me = True
        if self.state != CLOSING:
            self._send_close_frame(code, reason, reply=False)
        else:
            self._drop(abort=False)

    def _drop(self, abort):
        if self.state == CLOSED:
            return
        self.dropped_by_me = True
        self.state = CLOSED
        self.t_end = time.monotonic()
        if abort:
            self.outq = []
            wp.abort_close(self.sock)
            return
        self._flush(self.secs(1.0))
        wp.linger_close(self.sock, self.secs(1.0))

    def _flush(self, limit):
        deadline = time.monotonic() + limit
        try:
            while self.outq and time.monotonic() < deadline:
                item = self.outq[0]
                _, w, _ = select.select([], [self.sock], [], max(0.0, deadline - time.monotonic()))
                if not w:
                    break
                n = self.sock.send(memoryview(item[0])[item[1] : item[1] + 1048576])
                item[1] += n
                if item[1] >= len(item[0]):
                    self.outq.pop(0)
        except OSError:
            pass
        self.outq = []

    def _lost(self, why):
        if self.state == CLOSED:
            return
        self.state = CLOSED
        self.t_end = time.monotonic()
        self.outq = []
        if not self.was_clean and self.was_not_clean_reason is None:
            self.was_not_clean_reason = "the peer %s the TCP connection without a closing handshake" % why
        try:
            self.sock.close()
        except OSError:
            pass

    def _finish_when_done(self):
        for _, events in self.expected:
            if self.received != events:
                return
        if self.expected_close and self.expected_close["closedByMe"] and not self.suppress_close:
            self._send_close_frame(self.expected_close["closeCode"][0], b"", reply=False)

    def _on_close_frame(self, code, reason):
        if self.remote_close_seen:
            return
        self.remote_close_seen = True
        self.remote_close_code = code
        self.remote_close_reason = reason
        if self.state == CLOSED:
            return
        if self.state == CLOSING:
            self._cancel(self.close_timer)
            self.close_timer = None
            self.was_clean = True
            if self.role == "server":
                self._drop(abort=False)
            else:
                self.call_later(self.secs(1.0), self._server_drop_timeout)
        elif self.state == OPEN:
            self.was_clean = True
            self._send_close_frame(wp.CLOSE_NORMAL, b"", reply=True)
            if self.role == "server":
                self._drop(abort=False)
            else:
                self.call_later(self.secs(1.0), self._server_drop_wait)

    def _handle(self, events):
        for ev in events:
            kind = ev[0]
            if kind == "frame":
                h, prev = ev[1], ev[2]
                self.rx_log.add(self._now(), h.describe() + (" " + show_payload(prev) if prev else ""), h.opcode)
            elif self.state == CLOSED:
                # Dropped: nothing more is processed; frames are only logged.
                continue
            elif kind == "message":
                if self.failed_by_me:
                    continue
                info = ev[3]
                if info["compressed"]:
                    self.pmd_stats["compressed"] += 1
                    if self.walk_window and not self._window_ok(info):
                        continue
                else:
                    self.pmd_stats["uncompressed"] += 1
                self.last_info = info
                binary = ev[1] == wp.OP_BINARY
                if self.message_hook is not None:
                    self.message_hook(ev[2], binary)
                else:
                    self.received.append(("message", ev[2], binary))
                    self._finish_when_done()
            elif kind == "ping":
                if self.state == OPEN:
                    self.send_frame(wp.OP_PONG, ev[1])
            elif kind == "pong":
                self.received.append(("pong", ev[1]))
                self._finish_when_done()
            elif kind == "close":
                if ev[3] is not None:
                    # As Autobahn: fail the connection first, then take the
                    # frame as the peer's close (keeping its code).
                    self.peer_errors.append("%s (we fail with %d)" % (ev[3][1], ev[3][0]))
                    self._fail(ev[3][0], ev[3][1].encode("utf-8"))
                self._on_close_frame(ev[1], ev[2])
            elif kind == "error":
                self.peer_errors.append("%s (we fail with %d)" % (ev[2], ev[1]))
                self._fail(ev[1], ev[2].encode("utf-8")[:123])

    def _window_ok(self, info):
        """Walks a compressed message of the peer: every distance must fit
        the window the peer agreed to (RFC 7692 7.1.2)."""
        raw = info["raw"]
        if self.walk_budget < len(raw):
            self.pmd_stats["not_walked"] += 1
            return True
        self.walk_budget -= len(raw)
        try:
            w = pmdeflate.walk(raw + pmdeflate.TAIL)
        except pmdeflate.DeflateError as e:
            # zlib inflated it, so this is a disagreement between the two.
            self.notes.append("the DEFLATE walker could not follow a message zlib inflated: %s" % e)
            return True
        self.pmd_stats["walked"] += 1
        if w.max_distance > self.pmd_stats["max_distance"]:
            self.pmd_stats["max_distance"] = w.max_distance
        limit = 1 << self.pmd.peer_window
        if w.max_distance > limit:
            text = "a compressed message refers %d octets back, beyond the window of %d octets (%d bits) the peer agreed to" % (
                w.max_distance,
                limit,
                self.pmd.peer_window,
            )
            self.peer_errors.append("%s (we fail with 1007)" % text)
            self._fail(wp.CLOSE_INVALID_PAYLOAD, text.encode("utf-8")[:123])
            return False
        return True

    def deflate_report(self):
        if self.pmd is None and self.negotiation is None:
            return None
        out = dict(self.negotiation or {})
        if self.pmd is not None:
            out["agreed"] = self.pmd.report()
            out["peer_messages"] = dict(self.pmd_stats)
        return out

    def run(self, script, hard_limit):
        """Runs the case script, then the connection to its end."""
        self.sock.setblocking(False)
        try:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.t0 = time.monotonic()
        hard_deadline = self.t0 + hard_limit
        script(self)
        if self.early:
            self._handle(self.receiver.feed(self.early))
        while self.state != CLOSED:
            now = time.monotonic()
            while self.timers and self.timers[0][0] <= now and self.state != CLOSED:
                entry = heapq.heappop(self.timers)
                if entry[3]:
                    entry[2]()
            if self.state == CLOSED:
                break
            now = time.monotonic()
            if now >= hard_deadline:
                self.hard_timeout = True
                self.notes.append("the case did not end within its limit of %.1f s" % hard_limit)
                self._drop(abort=True)
                break
            wake = hard_deadline
            if self.timers:
                wake = min(wake, self.timers[0][0])
            want_write = False
            if self.outq:
                if now >= self.next_send:
                    want_write = True
                else:
                    wake = min(wake, self.next_send)
            try:
                r, w, _ = select.select([self.sock], [self.sock] if want_write else [], [], max(0.0, wake - now))
            except (OSError, ValueError):
                self._lost("closed")
                break
            if w:
                self._write_some()
                if self.state == CLOSED:
                    break
            if r:
                try:
                    data = self.sock.recv(1 << 20)
                except (BlockingIOError, InterruptedError):
                    data = None
                except OSError:
                    self._lost("reset")
                    break
                if data == b"":
                    self._lost("closed")
                    break
                if data:
                    self.rx_bytes += len(data)
                    self._handle(self.receiver.feed(data))
        if self.t_end is None:
            self.t_end = time.monotonic()
        self.judge()

    def _write_some(self):
        try:
            while self.outq:
                item = self.outq[0]
                data, off, separate = item
                n = self.sock.send(memoryview(data)[off : off + 1048576])
                self.tx_bytes += n
                item[1] += n
                if item[1] < len(data):
                    return
                self.outq.pop(0)
                if separate and self.gap > 0:
                    self.next_send = time.monotonic() + self.gap
                    return
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._lost("reset")

    # ------------------------------------------------------------- judging
    def judge(self):
        for name, events in self.expected:
            if self.received == events:
                self.behavior = name
                self.result = "The events received match an expected sequence."
                break
        ec = self.expected_close
        if ec is None:
            self.behavior_close = FAILED
            self.result_close = "The case set no closing expectation (a bug in the suite)."
        elif ec["closedByMe"] != self.closed_by_me:
            self.behavior_close = FAILED
            self.result_close = "The connection was failed by the wrong endpoint (%s started the closing handshake)." % (
                "we" if self.closed_by_me else "the peer" if self.remote_close_seen else "nobody"
            )
        elif ec["requireClean"] and not self.was_clean:
            self.behavior_close = UNCLEAN
            self.result_close = "The closing handshake had to be clean here: %s." % (self.was_not_clean_reason or "it was not")
        elif self.remote_close_code is not None and self.remote_close_code not in ec["closeCode"]:
            self.behavior_close = WRONG_CODE
            self.result_close = "The close code should have been %s or none, not %d." % (
                ",".join(str(c) for c in ec["closeCode"]),
                self.remote_close_code,
            )
        elif self.role == "client" and self.dropped_by_me:
            self.behavior_close = FAILED_BY_CLIENT
            self.result_close = "The server should close the TCP connection first."
        else:
            self.behavior_close = OK
            self.result_close = "The connection was closed properly."
        if self.peer_errors and self.behavior_close in (OK, FAILED_BY_CLIENT):
            # Stricter than Autobahn, which reads nothing more once it has
            # dropped the connection: a frame that breaks RFC 6455 (say an
            # unmasked close frame from a client) is never a proper close.
            self.behavior_close = FAILED
            self.result_close = "The peer broke the protocol: %s." % "; ".join(self.peer_errors)
        if ec and ec["closedByWrongEndpointIsFatal"] and ec["closedByMe"] != self.closed_by_me:
            self.behavior = FAILED
            self.result = "The peer did not fail the connection itself: it did not detect what it had to reject."
        if self.hard_timeout:
            self.behavior = FAILED
            self.result = "The case did not end within its time limit."
        if self.post_hook is not None:
            self.post_hook(self)

    def duration_ms(self):
        return int(round(1000.0 * ((self.t_end or time.monotonic()) - self.t0)))

    def close_report(self):
        return {
            "closedByMe": self.closed_by_me,
            "failedByMe": self.failed_by_me,
            "droppedByMe": self.dropped_by_me,
            "wasClean": self.was_clean,
            "wasNotCleanReason": self.was_not_clean_reason,
            "wasCloseHandshakeTimeout": self.was_close_handshake_timeout,
            "wasServerConnectionDropTimeout": self.was_server_drop_timeout,
            "localCloseCode": self.local_close_code,
            "localCloseReason": show_payload(self.local_close_reason) if self.local_close_reason else None,
            "remoteCloseCode": self.remote_close_code,
            "remoteCloseReason": show_payload(self.remote_close_reason) if self.remote_close_reason else None,
        }
