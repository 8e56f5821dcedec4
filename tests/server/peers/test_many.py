"""1,000 connections open at once to server_app_ours, each answered twice
(keep-alive)."""
import resource
import select
import threading
import time
import unittest

from peerlib import HELLO, Conn, NoResponse, ServerTestCase, Site, request

SITE = None
CONNECTIONS = 1000
THREADS = 8
# Descriptors each process needs: the connections and some to spare.
NEED_FDS = CONNECTIONS + 200


def setUpModule():
    global SITE
    SITE = Site()


def tearDownModule():
    SITE.cleanup()


def raise_fd_limit():
    """Raises the soft RLIMIT_NOFILE (inherited by the server started
    after); returns an error text if the hard limit is too low."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < NEED_FDS:
        return "RLIMIT_NOFILE hard limit is %d; this test needs at least %d (ulimit -Hn)" % (hard, NEED_FDS)
    want = NEED_FDS * 2
    if hard != resource.RLIM_INFINITY:
        want = min(want, hard)
    if soft == resource.RLIM_INFINITY or soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return None


class ThousandConnections(ServerTestCase):
    def test_thousand_concurrent_keep_alive(self):
        problem = raise_fd_limit()
        if problem:
            self.fail(problem)
        port = self.start_app(SITE).port

        conns = [None] * CONNECTIONS
        errors = []
        lock = threading.Lock()
        all_open = threading.Barrier(THREADS, timeout=60)
        first_round = threading.Barrier(THREADS, timeout=60)

        def note(what):
            with lock:
                if len(errors) < 20:
                    errors.append(what)

        def ask(mine, round_no):
            # Every request goes out before any answer is read, so the
            # server holds all of them at once.
            for i in mine:
                c = conns[i]
                if c is not None and not c.send(request("GET", "/static")):
                    note("conn %d round %d: send failed" % (i, round_no))
            for i in mine:
                c = conns[i]
                if c is None:
                    continue
                try:
                    r = c.read_response()
                except NoResponse as e:
                    note("conn %d round %d: %s" % (i, round_no, e))
                    continue
                if r.status != 200 or r.body != HELLO or r.header("Content-Length") != "13":
                    note("conn %d round %d: %r" % (i, round_no, r))

        def worker(t):
            mine = range(t, CONNECTIONS, THREADS)
            try:
                for i in mine:
                    try:
                        conns[i] = Conn(port, timeout=20.0)
                    except OSError as e:
                        note("conn %d: connect: %s" % (i, e))
                # All 1,000 are open before anyone sends.
                all_open.wait()
                ask(mine, 1)
                first_round.wait()
                ask(mine, 2)
            except threading.BrokenBarrierError:
                note("thread %d: barrier broken" % t)
            except Exception as e:  # reported, not lost in the thread
                note("thread %d: %r" % (t, e))
                all_open.abort()
                first_round.abort()

        start = time.monotonic()
        threads = [threading.Thread(target=worker, args=(t,)) for t in range(THREADS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        elapsed = time.monotonic() - start
        alive = [th for th in threads if th.is_alive()]
        opened = sum(1 for c in conns if c is not None)
        # Every connection is still open after its two answers.
        # (A socket with nothing to read after a short pause: neither data
        # nor EOF arrived.)
        still_open = 0
        if not alive:
            time.sleep(0.2)
            poller = select.poll()
            for c in conns:
                if c is not None and not c.buf:
                    poller.register(c.sock, select.POLLIN)
            readable = {fd for fd, _ in poller.poll(0)}
            still_open = sum(
                1 for c in conns if c is not None and not c.buf and c.sock.fileno() not in readable
            )
        for c in conns:
            if c is not None:
                c.close()
        self.assertFalse(alive, "client threads still running after 120 s")
        self.assertEqual(errors, [], "first errors (of the %d connections opened)" % opened)
        self.assertEqual(opened, CONNECTIONS)
        self.assertEqual(still_open, CONNECTIONS)
        print("\n  %d connections, 2 requests each, in %.2f s" % (CONNECTIONS, elapsed))


if __name__ == "__main__":
    unittest.main()
