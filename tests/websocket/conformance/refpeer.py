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

FAULTS lists the deliberate mistakes the --broken option can switch on, so
that the suite can be shown to catch them.
"""
import os
import socket

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
}

LAX = {"utf8", "rsv", "opcode", "continuation", "control", "close-code"}


def parse_faults(text):
    faults = set(x.strip() for x in (text or "").split(",") if x.strip())
    unknown = faults - set(FAULTS)
    if unknown:
        raise ValueError("unknown fault(s) %s; known: %s" % (", ".join(sorted(unknown)), ", ".join(sorted(FAULTS))))
    return faults


class EchoEndpoint:
    def __init__(self, sock, is_server, faults=(), max_message=None, early=b"", idle=60.0, close_wait=2.0, on_message=None):
        self.sock = sock
        self.is_server = is_server
        self.faults = set(faults)
        self.rx = wp.Receiver(expect_masked=is_server, lax=self.faults & LAX, max_message=max_message)
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

    def send(self, opcode, payload):
        mask = os.urandom(4) if self.masked else None
        self.sock.sendall(wp.encode_frame(opcode, payload, True, 0, mask))

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

