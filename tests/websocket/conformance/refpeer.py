"""The strict echo endpoint behind ref_echo_server.py and ref_echo_client.py:
what the future C++ echo programs must do on one open connection.

  * every text or binary message is echoed once, whole, with its type;
  * a ping is answered by a pong with the same payload; a pong is ignored;
  * a protocol error fails the connection (RFC 6455 7.1.7): a close frame
    with the code 7.4.1 names (1002; 1007 for invalid UTF-8, checked as the
    octets arrive; 1009 over the size limit), then the TCP connection is
    closed without processing anything more from the peer;
  * a close frame is answered by a close with the same code (an empty
    close by an empty one) and nothing is sent after it;
  * the server closes the TCP connection first once the closing handshake
    is over; the client waits for that (a bounded time) before closing.

With permessage-deflate (RFC 7692) agreed, it inflates what it receives
(RSV1 on a first frame; anywhere else it fails the connection with 1002;
data that does not inflate, 1007; a message that inflates past the limit,
1009 as it inflates) and compresses every echo within what was agreed.
server_answer() and client_offer() are its side of the negotiation.

FAULTS lists the deliberate mistakes the --broken option can switch on, so
that the suite can be shown to catch them.
"""
import os
import socket

import pmdeflate as pd
import wsproto as wp

FAULTS = {
    "utf8": "does not validate UTF-8 (text messages and close reasons)",
    "rsv": "ignores RSV bits",
    "opcode": "ignores frames with reserved opcodes",
    "continuation": "accepts continuation frames with nothing to continue and new messages inside fragmented ones",
    "control": "accepts fragmented and over-long control frames",
    "close-code": "accepts any close code (and echoes it)",
    "no-pong": "never answers a ping",
    "no-close-reply": "never answers a close frame",
    "close-1002": "answers every close frame with code 1002",
    "linger": "server: keeps the TCP connection open after the closing handshake",
    "no-mask": "client: sends unmasked frames",
    "mask": "server: sends masked frames",
    # permessage-deflate (with --deflate)
    "rsv1-cont": "sets RSV1 on every frame of a compressed echo, which it splits into frames of 64 octets",
    "rsv1-control": "sets RSV1 on the control frames it sends",
    "context-takeover": "keeps its compression context even when it agreed to no context takeover",
    "window": "compresses with a 32 KiB window whatever window it agreed to",
    "keep-tail": "leaves the 00 00 ff ff at the end of its compressed messages",
    "no-tail": "inflates without appending 00 00 ff ff",
    "inflate-limit": "applies --max-message to the compressed size, not the inflated size",
    "accept-any": "accepts any permessage-deflate offer or answer, ignoring what is invalid in it",
    "ignore-offer-params": "server: answers an offer with plain permessage-deflate, even when the offer requires parameters",
}

LAX = {"utf8", "rsv", "opcode", "continuation", "control", "close-code", "inflate-limit"}
DEFAULT_OFFER = "permessage-deflate; client_max_window_bits"


def parse_faults(text):
    faults = set(x.strip() for x in (text or "").split(",") if x.strip())
    unknown = faults - set(FAULTS)
    if unknown:
        raise ValueError("unknown fault(s) %s; known: %s" % (", ".join(sorted(unknown)), ", ".join(sorted(FAULTS))))
    return faults


def server_answer(values, faults=()):
    """The server's side of the negotiation: the answer to the first
    acceptable permessage-deflate offer in the request's
    Sec-WebSocket-Extensions values, as (answer value, Agreement), or
    (None, None) to decline.  Invalid offers are declined (RFC 7692 7.1);
    an offer of server_max_window_bits=8 too, since zlib's raw deflate
    cannot keep to a 256-octet window.  The answer gives what the offer
    requires and nothing more."""
    try:
        offers, _ = pd.pmd_offers(values)
    except pd.NegotiationError:
        return None, None
    for _, offer in offers:
        if not isinstance(offer, pd.Params):
            if "accept-any" in faults:
                answer = pd.Params()
                return answer.text(), pd.agreed(pd.Params(), answer, is_server=True)
            continue
        if offer.smwb == 8 and "accept-any" not in faults:
            continue
        if "ignore-offer-params" in faults:
            answer = pd.Params()
            return answer.text(), pd.agreed(pd.Params(), answer, is_server=True)
        answer = pd.Params(snct=offer.snct, smwb=offer.smwb)
        return answer.text(), pd.agreed(offer, answer, is_server=True)
    return None, None


def client_agreement(offer, answer_values, faults=()):
    """The client's side: (Agreement or None, None) for a usable answer, or
    (None, why) when the answer is illegal and the connection must fail."""
    verdict, agreement, note = pd.judge_answer([offer], answer_values)
    if verdict == "illegal":
        if "accept-any" in faults:
            return pd.Agreement(15, False, 15, False, offer, ", ".join(answer_values)), None
        return None, note
    return agreement, None


class EchoEndpoint:
    def __init__(
        self, sock, is_server, faults=(), max_message=None, early=b"", idle=60.0, close_wait=2.0, on_message=None, pmd=None, fragment=0
    ):
        self.sock = sock
        self.is_server = is_server
        self.faults = set(faults)
        self.pmd = pmd
        inflater = None
        self.deflater = None
        if pmd is not None:
            inflater = pd.Inflater(no_context_takeover=pmd.peer_nct, append_tail="no-tail" not in self.faults)
            self.deflater = pd.Deflater(
                15 if "window" in self.faults else pmd.own_window,
                pmd.own_nct and "context-takeover" not in self.faults,
                keep_tail="keep-tail" in self.faults,
            )
        self.fragment = fragment or (64 if "rsv1-cont" in self.faults else 0)
        self.rx = wp.Receiver(expect_masked=is_server, lax=self.faults & LAX, max_message=max_message, inflater=inflater)
        self.early = early
        self.idle = idle
        self.close_wait = close_wait
        self.on_message = on_message
        self.sent_close = False
        self.failed = False
        self.done = False
        self.peer_eof = False
        self.error = None
        self.remote_close = None
        if is_server:
            self.masked = "mask" in self.faults
        else:
            self.masked = "no-mask" not in self.faults

    def _mask(self):
        return os.urandom(4) if self.masked else None

    def send(self, opcode, payload):
        if self.pmd is None:
            self.sock.sendall(wp.encode_frame(opcode, payload, True, 0, self._mask()))
            return
        if opcode >= 8:
            rsv = 4 if "rsv1-control" in self.faults else 0
            self.sock.sendall(wp.encode_frame(opcode, payload, True, rsv, self._mask()))
            return
        data = self.deflater.compress(payload)
        size = self.fragment or len(data) or 1
        pieces = [data[i : i + size] for i in range(0, len(data), size)] or [b""]
        frames = []
        for i, p in enumerate(pieces):
            rsv = 4 if i == 0 or "rsv1-cont" in self.faults else 0
            frames.append(wp.encode_frame(opcode if i == 0 else wp.OP_CONT, p, i == len(pieces) - 1, rsv, self._mask()))
        self.sock.sendall(b"".join(frames))

    def send_close(self, code, reason=b""):
        self.send(wp.OP_CLOSE, wp.close_payload(code, reason))
        self.sent_close = True

    def handle(self, ev):
        kind = ev[0]
        if kind == "message":
            if self.sent_close:
                return
            if self.on_message is not None:
                self.on_message(ev[1], ev[2])
            else:
                self.send(ev[1], ev[2])
        elif kind == "ping":
            if not self.sent_close and "no-pong" not in self.faults:
                self.send(wp.OP_PONG, ev[1])
        elif kind == "close":
            self.remote_close = ev[1]
            if ev[3] is not None:
                return self.handle(("error", ev[3][0], ev[3][1]))
            if self.sent_close:
                self.done = True
                return
            if "no-close-reply" in self.faults:
                return
            code = ev[1]
            if "close-1002" in self.faults:
                code = wp.CLOSE_PROTOCOL_ERROR
            self.send_close(code)
            self.done = True
        elif kind == "error":
            # Fail the connection (RFC 6455 7.1.7): a close frame with the
            # code, then close the TCP connection without processing
            # anything more from the peer, not even its close frame.
            self.error = ev[2]
            if not self.sent_close:
                self.send_close(ev[1], ev[2].encode("utf-8")[:123])
            self.failed = True
            self.done = True

    def feed(self, data):
        for ev in self.rx.feed(data):
            self.handle(ev)
            if self.done:
                return

    def run(self):
        """Serves the connection to its end; returns a one-line account."""
        try:
            self.sock.settimeout(self.idle)
            if self.early:
                self.feed(self.early)
            while not self.done:
                self.sock.settimeout(self.close_wait if self.sent_close else self.idle)
                try:
                    data = self.sock.recv(1 << 20)
                except socket.timeout:
                    break
                if not data:
                    self.peer_eof = True
                    break
                self.feed(data)
        except (ConnectionResetError, BrokenPipeError):
            self.peer_eof = True
        except OSError:
            self.peer_eof = True
        self.finish()
        return "closed (remote code %s%s)" % (self.remote_close, ", error: " + self.error if self.error else "")

    def finish(self):
        if self.peer_eof:
            try:
                self.sock.close()
            except OSError:
                pass
            return
        if self.failed or (self.is_server and "linger" not in self.faults):
            # FIN first, then discard whatever still arrives until the peer
            # closes too (bounded), so that our close frame is not lost to
            # a reset.
            wp.linger_close(self.sock, self.close_wait)
            return
        # The client (or a lingering server): the other side closes first.
        try:
            self.sock.settimeout(self.close_wait)
            while self.sock.recv(65536):
                pass
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass

