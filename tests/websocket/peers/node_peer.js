#!/usr/bin/env node
// node_peer.js: the node `ws` side of the third-party peer tests.
//
//   node node_peer.js list
//       print the names of the server tests, one JSON array
//   node node_peer.js server-tests --plain URL --proto URL [--tests a,b,...] [--timeout S]
//       run the server tests as a `ws` client of the echo server under test:
//       --plain is a server started without --protocol, --proto one started
//       with --protocol chat --protocol superchat
//   node node_peer.js client-peer --scenario NAME [--timeout S]
//       be the server for one run of the echo client under test: print
//       "listening on PORT", take one connection, play the scenario
//
// Results are JSON lines on stdout: {"test": NAME, "ok": BOOL, "detail": TEXT,
// "ms": N} for server tests, {"check": NAME, "ok": BOOL, "detail": TEXT} for a
// client scenario, then {"done": true}.  Everything else goes to stderr.
// Needs the `ws` package (Debian node-ws: NODE_PATH=/usr/share/nodejs).
// Loopback only; every wait is bounded by --timeout (seconds, default 10).
'use strict';

const crypto = require('crypto');
const net = require('net');

let WebSocket;
try {
  WebSocket = require('ws');
} catch (err) {
  process.stderr.write(`node_peer.js: cannot load the ws package (${err.message}); ` +
    'install node-ws and set NODE_PATH=/usr/share/nodejs\n');
  process.exit(3);
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MiB = 1024 * 1024;
const SIZES = [0, 1, 125, 126, 65535, 65536, 4 * MiB];
const BIG = 16 * MiB; // the echo server's contract: messages up to 16 MiB

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function fail(message) {
  throw new Error(message);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout(promise, ms, what) {
  let timer;
  const limit = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms / 1000} s: ${what}`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------- data

function xorshift(seed) {
  let x = (seed >>> 0) || 0x9e3779b9;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

function binaryData(n, seed) {
  const next = xorshift(seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = next() & 0xff;
  return b;
}

// n octets of printable ASCII
function asciiData(n, seed) {
  const next = xorshift(seed);
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = 0x20 + (next() % 95);
  return b;
}

// exactly n octets of UTF-8 made mostly of 2-, 3- and 4-octet characters
function utf8Data(n) {
  const chars = ['é', 'ж', '✓', '日', '𝄞', '🎉', 'a', 'Ω'].map((c) => Buffer.from(c, 'utf8'));
  const parts = [];
  let left = n;
  for (let i = 0; left > 0; i++) {
    const c = chars[i % chars.length];
    if (c.length <= left) { parts.push(c); left -= c.length; } else { parts.push(Buffer.from('z')); left -= 1; }
  }
  return Buffer.concat(parts, n);
}

const UTF8_SAMPLE = 'héllo wörld ✓ 𝄞 日本語 🎉 Ωμέγα — ∑ ¿qué? ﬁ';

function toBuffer(data) {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function describeDiff(want, got) {
  if (want.length !== got.length) return `the echo has ${got.length} octets, ${want.length} were sent`;
  let i = 0;
  while (i < want.length && want[i] === got[i]) i++;
  return `the echo differs from what was sent at octet ${i} of ${want.length}`;
}

function checkEcho(ev, data, binary, what) {
  const sent = binary ? 'binary' : 'text';
  const got = ev.binary ? 'binary' : 'text';
  if (ev.binary !== binary) fail(`${what}: sent as ${sent}, echoed as ${got}`);
  if (!ev.data.equals(data)) fail(`${what}: ${describeDiff(data, ev.data)}`);
}

// ---------------------------------------------------------------- events of one connection

class Peer {
  constructor(ws) {
    this.ws = ws;
    this.events = [];
    this.wake = null;
    this.closed = null;
    this.error = null;
    this.response = null;
    ws.on('message', (data, isBinary) => this.push({ type: 'message', data: toBuffer(data), binary: isBinary }));
    ws.on('pong', (data) => this.push({ type: 'pong', data: toBuffer(data) }));
    ws.on('error', (err) => { this.error = err; });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: toBuffer(reason).toString('utf8') };
      this.push({ type: 'close', code, reason: this.closed.reason });
    });
  }

  push(ev) {
    this.events.push(ev);
    if (this.wake) { const w = this.wake; this.wake = null; w(); }
  }

  closedText() {
    const c = this.closed;
    let s = `closed with code ${c.code}`;
    if (c.reason) s += ` "${c.reason}"`;
    if (this.error) s += ` (${this.error.message})`;
    return s;
  }

  async next(ms, what) {
    const deadline = Date.now() + ms;
    while (this.events.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) fail(`nothing came within ${ms / 1000} s while waiting for ${what}`);
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => { clearTimeout(t); resolve(); };
      });
    }
    const ev = this.events.shift();
    if (ev.type === 'close') this.events.unshift(ev); // stays the last event
    return ev;
  }

  async message(ms, what) {
    const ev = await this.next(ms, what);
    if (ev.type === 'close') fail(`the connection ${this.closedText()} while waiting for ${what}`);
    if (ev.type !== 'message') fail(`a ${ev.type} came while waiting for ${what}`);
    return ev;
  }

  async pong(ms, what) {
    const ev = await this.next(ms, what);
    if (ev.type === 'close') fail(`the connection ${this.closedText()} while waiting for ${what}`);
    if (ev.type !== 'pong') fail(`a ${ev.type} came while waiting for ${what}`);
    return ev;
  }

  async closeEvent(ms, what) {
    const ev = await this.next(ms, what);
    if (ev.type !== 'close') fail(`a ${ev.type} came while waiting for ${what}`);
    return ev;
  }

  // Close politely and wait a bounded time; never fails (teardown).
  async shut(ms) {
    if (this.closed) return;
    try {
      if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000);
      const deadline = Date.now() + ms;
      while (!this.closed && Date.now() < deadline) await sleep(10);
    } catch (err) {
      // fall through to terminate
    }
    if (!this.closed) this.ws.terminate();
  }
}

// ---------------------------------------------------------------- server tests

function connect(url, protocols, T, opened, options = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { handshakeTimeout: T, ...options });
    const peer = new Peer(ws);
    opened.push(peer);
    ws.on('upgrade', (res) => { peer.response = res; });
    ws.once('open', () => resolve(peer));
    ws.once('error', (err) => { if (ws.readyState !== WebSocket.OPEN) { err.peer = peer; reject(err); } });
    ws.once('close', () => reject(new Error(`the connection closed before it opened${peer.error ? ': ' + peer.error.message : ''}`)));
  });
}

const serverTests = [];
function serverTest(name, fn) {
  serverTests.push({ name, fn });
}

async function sendAndCheck(c, peer, data, binary, what) {
  peer.ws.send(data, { binary });
  checkEcho(await peer.message(c.T, `the echo of ${what}`), data, binary, what);
}

serverTest('handshake', async (c) => {
  // ws offers permessage-deflate by default: the server must decline it.
  const p = await c.open(c.plain);
  const h = p.response.headers;
  if (h['sec-websocket-extensions'] !== undefined) fail(`the server accepted an extension: ${h['sec-websocket-extensions']}`);
  if (h['sec-websocket-protocol'] !== undefined) fail(`the server chose a subprotocol nobody offered: ${h['sec-websocket-protocol']}`);
  if (p.ws.extensions !== '') fail(`extensions negotiated: ${p.ws.extensions}`);
  await sendAndCheck(c, p, Buffer.from('handshake'), false, 'a text message');
});

for (const n of SIZES) {
  for (const binary of [false, true]) {
    serverTest(`${binary ? 'binary' : 'text'}-${n}`, async (c) => {
      const p = await c.open(c.plain);
      const data = binary ? binaryData(n, n + 1) : asciiData(n, n + 7);
      await sendAndCheck(c, p, data, binary, `a ${n}-octet ${binary ? 'binary' : 'text'} message`);
    });
  }
}

serverTest(`binary-${BIG}`, async (c) => {
  const p = await c.open(c.plain);
  await sendAndCheck(c, p, binaryData(BIG, 16), true, 'a 16 MiB binary message (the contract\'s limit)');
});

serverTest('utf8-text', async (c) => {
  const p = await c.open(c.plain);
  await sendAndCheck(c, p, Buffer.from(UTF8_SAMPLE, 'utf8'), false, 'a text message with multi-octet characters');
});

serverTest('utf8-65536', async (c) => {
  const p = await c.open(c.plain);
  await sendAndCheck(c, p, utf8Data(65536), false, 'a 65536-octet text message of multi-octet characters');
});

serverTest('any-path', async (c) => {
  const p = await c.open(c.plain + 'some/deeper/path?query=1&x=%20y');
  await sendAndCheck(c, p, Buffer.from('any path'), false, 'a text message on another path');
});

serverTest('fragmented-text', async (c) => {
  // Pieces cut inside multi-octet characters, with an empty piece.
  const whole = Buffer.from(`fragmented: ${UTF8_SAMPLE} end`, 'utf8');
  const a = whole.indexOf(0xc3) + 1;                   // inside "é"
  const b = whole.indexOf(Buffer.from('𝄞', 'utf8')) + 2; // inside U+1D11E
  const pieces = [whole.subarray(0, a), Buffer.alloc(0), whole.subarray(a, b), whole.subarray(b)];
  const p = await c.open(c.plain);
  pieces.forEach((piece, i) => p.ws.send(piece, { binary: false, fin: i === pieces.length - 1 }));
  checkEcho(await p.message(c.T, 'the echo of a text message sent in 4 frames'), whole, false,
    'a text message in 4 frames cut inside characters');
});

serverTest('fragmented-binary', async (c) => {
  const pieces = [binaryData(1000, 3), binaryData(70000, 4), Buffer.alloc(0), binaryData(125, 5)];
  const p = await c.open(c.plain);
  pieces.forEach((piece, i) => p.ws.send(piece, { binary: true, fin: i === pieces.length - 1 }));
  checkEcho(await p.message(c.T, 'the echo of a binary message sent in 4 frames'), Buffer.concat(pieces), true,
    'a binary message in 4 frames');
});

serverTest('fragmented-many', async (c) => {
  const whole = asciiData(10000, 9);
  const p = await c.open(c.plain);
  for (let i = 0; i < 1000; i++) p.ws.send(whole.subarray(i * 10, i * 10 + 10), { binary: false, fin: i === 999 });
  checkEcho(await p.message(c.T, 'the echo of a text message sent in 1000 frames'), whole, false,
    'a text message in 1000 frames of 10 octets');
});

serverTest('fragmented-ping', async (c) => {
  // A ping between the fragments of a message: its pong, and one message.
  const a = Buffer.from('before the ping, '), b = Buffer.from('after the ping');
  const p = await c.open(c.plain);
  p.ws.send(a, { binary: false, fin: false });
  p.ws.ping(Buffer.from('between fragments'));
  p.ws.send(b, { binary: false, fin: true });
  const got = [await p.next(c.T, 'a pong and an echo'), await p.next(c.T, 'a pong and an echo')];
  const pong = got.find((e) => e.type === 'pong');
  const msg = got.find((e) => e.type === 'message');
  if (!pong || !msg) fail(`expected a pong and one message, got: ${got.map((e) => e.type).join(', ')}`);
  if (!pong.data.equals(Buffer.from('between fragments'))) fail(`the pong carries "${pong.data}", not the ping's payload`);
  checkEcho(msg, Buffer.concat([a, b]), false, 'a text message with a ping between its frames');
});

for (const [name, payload] of [['ping', Buffer.from('ping payload ✓', 'utf8')],
  ['ping-empty', Buffer.alloc(0)], ['ping-125', binaryData(125, 125)]]) {
  serverTest(name, async (c) => {
    const p = await c.open(c.plain);
    p.ws.ping(payload);
    const ev = await p.pong(c.T, `the pong to a ${payload.length}-octet ping`);
    if (!ev.data.equals(payload)) fail(`the pong's payload (${ev.data.length} octets) is not the ping's (${payload.length})`);
    await sendAndCheck(c, p, Buffer.from('after the ping'), false, 'a text message after a ping');
  });
}

serverTest('pong-unsolicited', async (c) => {
  const p = await c.open(c.plain);
  p.ws.pong(Buffer.from('unsolicited'));
  await sendAndCheck(c, p, Buffer.from('after an unsolicited pong'), false, 'a text message after a pong');
});

for (const [name, code, reason] of [['close-4000', 4000, 'done: ✓ closing'],
  ['close-1000', 1000, ''],
  ['close-reason-123', 4999, 'é'.repeat(60) + 'xyz']]) {
  serverTest(name, async (c) => {
    const p = await c.open(c.plain);
    await sendAndCheck(c, p, Buffer.from('before the close'), false, 'a text message');
    p.ws.close(code, reason);
    const ev = await p.closeEvent(c.T, 'the server\'s close frame and the end of the TCP connection');
    if (ev.code === 1006) fail(`no close frame came back${p.error ? ' (' + p.error.message + ')' : ''}`);
    if (ev.code !== code || ev.reason !== reason) {
      fail(`sent close ${code} "${reason}", got close ${ev.code} "${ev.reason}"`);
    }
  });
}

serverTest('close-empty', async (c) => {
  // ws.close() without a code sends a close frame with no payload.
  const p = await c.open(c.plain);
  p.ws.close();
  const ev = await p.closeEvent(c.T, 'the server\'s close frame');
  if (ev.code !== 1005 && ev.code !== 1000) fail(`sent an empty close, got close ${ev.code} "${ev.reason}"`);
});

const protocolCases = [
  // name, offered, expected (null: none selected; the handshake may also be refused)
  ['protocol-server-preference', ['superchat', 'chat'], 'chat'],
  ['protocol-single', ['superchat'], 'superchat'],
  ['protocol-skip-unknown', ['unknown', 'superchat'], 'superchat'],
  ['protocol-none-offered', [], null],
  ['protocol-unknown-only', ['unknown'], null],
  ['protocol-not-configured', ['chat'], null],
];

for (const [name, offered, expected] of protocolCases) {
  serverTest(name, async (c) => {
    const url = name === 'protocol-not-configured' ? c.plain : c.proto;
    let p;
    try {
      p = await c.open(url, offered);
    } catch (err) {
      // ws fails a handshake that selects no protocol when it offered some
      // ("Server sent no subprotocol"): look at what the server answered.
      const res = err.peer && err.peer.response;
      if (expected !== null) {
        const chosen = res && res.headers['sec-websocket-protocol'];
        fail(`offered [${offered}] to a server with chat, superchat: expected "${expected}", ` +
          `got ${chosen === undefined ? 'none' : '"' + chosen + '"'} (${err.message})`);
      }
      if (res) {
        const chosen = res.headers['sec-websocket-protocol'];
        if (chosen !== undefined) fail(`offered [${offered}], the server selected "${chosen}"`);
        return `no protocol selected (ws then fails the connection itself: ${err.message})`;
      }
      if (/Unexpected server response: \d+/.test(err.message)) return `refused: ${err.message}`;
      throw err;
    }
    const chosen = p.response.headers['sec-websocket-protocol'];
    if (expected === null && chosen !== undefined) fail(`offered [${offered}], the server selected "${chosen}"`);
    if (expected !== null && chosen !== expected) {
      fail(`offered [${offered}] to a server with chat, superchat: expected "${expected}", got ${chosen === undefined ? 'none' : '"' + chosen + '"'}`);
    }
    await sendAndCheck(c, p, Buffer.from(`on ${chosen || 'no protocol'}`), false, 'a text message');
    return chosen ? `selected ${chosen}` : 'no protocol selected';
  });
}

serverTest('concurrent-50x20', async (c) => {
  const peers = await Promise.all(Array.from({ length: 50 }, () => c.open(c.plain)));
  await Promise.all(peers.map(async (p, k) => {
    const sent = [];
    for (let i = 0; i < 20; i++) {
      const binary = (i + k) % 2 === 1;
      const data = binary ? binaryData(100 + 37 * i, 1000 * k + i + 1) : Buffer.from(`connection ${k} message ${i} ✓`, 'utf8');
      p.ws.send(data, { binary });
      sent.push([data, binary]);
    }
    for (let i = 0; i < 20; i++) {
      checkEcho(await p.message(c.T, `echo ${i} on connection ${k}`), sent[i][0], sent[i][1], `connection ${k} message ${i}`);
    }
  }));
  return '50 connections x 20 messages echoed in order';
});

async function runServerTests(opts) {
  const T = opts.timeout * 1000;
  const wanted = opts.tests ? new Set(opts.tests.split(',').filter(Boolean)) : null;
  for (const t of [...serverTests, ...deflateTests]) {
    if (wanted && !wanted.has(t.name)) continue;
    const opened = [];
    const c = {
      T,
      plain: opts.plain,
      proto: opts.proto,
      deflate: opts.deflate,
      open: (url, protocols = [], options = {}) => withTimeout(connect(url, protocols, T, opened, options), T + 1000, `opening ${url}`)
        .catch((err) => {
          err.message = `opening ${url}: ${err.message}`;
          throw err;
        }),
    };
    const start = Date.now();
    let ok = true, detail = '';
    try {
      const note = await withTimeout(t.fn(c), 3 * T, `the whole test ${t.name}`);
      if (typeof note === 'string') detail = note;
    } catch (err) {
      ok = false;
      detail = err.message;
    }
    await Promise.all(opened.map((p) => p.shut(Math.min(T, 2000))));
    emit({ test: t.name, ok, detail, ms: Date.now() - start });
  }
  emit({ done: true });
}

// ---------------------------------------------------------------- client scenarios

function checker() {
  let failed = false;
  return {
    ok: (check, detail = '') => emit({ check, ok: true, detail }),
    bad: (check, detail) => { failed = true; emit({ check, ok: false, detail }); },
    failed: () => failed,
  };
}

// Run named steps in order; the first that throws is reported and ends the run.
async function steps(r, list) {
  for (const [name, fn] of list) {
    try {
      const note = await fn();
      r.ok(name, typeof note === 'string' ? note : '');
    } catch (err) {
      r.bad(name, err.message);
      return false;
    }
  }
  return true;
}

function offeredProtocols(req) {
  const h = req.headers['sec-websocket-protocol'];
  return h === undefined ? [] : h.split(',').map((s) => s.trim());
}

const wsScenarios = {
  echo: {
    async play(c, p, req, r) {
      const sent = (data, binary, what) => async () => {
        p.ws.send(data, { binary });
        checkEcho(await p.message(c.T, `the echo of ${what}`), data, binary, what);
      };
      const ok = await steps(r, [
        ['request', async () => {
          if (req.headers['sec-websocket-protocol'] !== undefined) fail(`offered protocols without --protocol: ${req.headers['sec-websocket-protocol']}`);
          return `GET ${req.url}`;
        }],
        ['text', sent(Buffer.from('hello'), false, 'a text message')],
        ['text-empty', sent(Buffer.alloc(0), false, 'an empty text message')],
        ['binary-empty', sent(Buffer.alloc(0), true, 'an empty binary message')],
        ['utf8', sent(Buffer.from(UTF8_SAMPLE, 'utf8'), false, 'a text message with multi-octet characters')],
        ...[1, 125, 126, 65535, 65536].map((n) => [`binary-${n}`, sent(binaryData(n, n), true, `a ${n}-octet binary message`)]),
        ['text-65536', sent(utf8Data(65536), false, 'a 65536-octet text message')],
        ['fragmented-text', async () => {
          const whole = Buffer.from(`fragmented ${UTF8_SAMPLE}`, 'utf8');
          const a = whole.indexOf(0xc3) + 1;
          const pieces = [whole.subarray(0, a), Buffer.alloc(0), whole.subarray(a)];
          pieces.forEach((piece, i) => p.ws.send(piece, { binary: false, fin: i === pieces.length - 1 }));
          checkEcho(await p.message(c.T, 'the echo of a text message in 3 frames'), whole, false, 'a text message in 3 frames');
        }],
        ['fragmented-binary', async () => {
          const pieces = [binaryData(3000, 1), binaryData(70000, 2), binaryData(10, 3)];
          pieces.forEach((piece, i) => p.ws.send(piece, { binary: true, fin: i === pieces.length - 1 }));
          checkEcho(await p.message(c.T, 'the echo of a binary message in 3 frames'), Buffer.concat(pieces), true,
            'a binary message in 3 frames');
        }],
        ['binary-4MiB', sent(binaryData(4 * MiB, 44), true, 'a 4 MiB binary message')],
        ['text-4MiB', sent(asciiData(4 * MiB, 45), false, 'a 4 MiB text message')],
        ['ping', async () => {
          const payload = Buffer.from('peer ping ✓', 'utf8');
          p.ws.ping(payload);
          const ev = await p.pong(c.T, 'the client\'s pong');
          if (!ev.data.equals(payload)) fail(`the pong carries ${ev.data.length} octets "${ev.data}", not the ping's payload`);
        }],
        ['pipelined-20', async () => {
          const list = [];
          for (let i = 0; i < 20; i++) {
            const binary = i % 2 === 1;
            const data = binary ? binaryData(200 + i, 500 + i) : Buffer.from(`pipelined ${i}`);
            p.ws.send(data, { binary });
            list.push([data, binary]);
          }
          for (let i = 0; i < 20; i++) checkEcho(await p.message(c.T, `pipelined echo ${i}`), list[i][0], list[i][1], `pipelined message ${i}`);
        }],
      ]);
      if (!ok) return;
      await steps(r, [['close', async () => {
        p.ws.close(4001, 'bye');
        const ev = await p.closeEvent(c.T, 'the client\'s answer to close 4001 "bye" and the end of the connection');
        if (ev.code === 1006) fail('the client did not answer the close frame');
        return `the client answered with close ${ev.code}${ev.reason ? ' "' + ev.reason + '"' : ''}`;
      }]]);
    },
  },

  subprotocol: {
    options: { handleProtocols: (set) => (set.has('superchat') ? 'superchat' : false) },
    async play(c, p, req, r) {
      const ok = await steps(r, [
        ['request', async () => {
          const offered = offeredProtocols(req);
          if (offered.join(',') !== 'chat,superchat') fail(`the client offered [${offered}], expected [chat,superchat] in that order`);
          return `offered ${offered}; selected superchat`;
        }],
        ['echo', async () => {
          const data = Buffer.from('on superchat');
          p.ws.send(data, { binary: false });
          checkEcho(await p.message(c.T, 'an echo'), data, false, 'a text message');
        }],
      ]);
      if (!ok) return;
      await steps(r, [['close', async () => {
        p.ws.close(1000);
        const ev = await p.closeEvent(c.T, 'the client\'s answer to close 1000');
        if (ev.code === 1006) fail('the client did not answer the close frame');
      }]]);
    },
  },

  'close-no-code': {
    async play(c, p, req, r) {
      const ok = await steps(r, [['echo', async () => {
        const data = Buffer.from('then an empty close');
        p.ws.send(data, { binary: false });
        checkEcho(await p.message(c.T, 'an echo'), data, false, 'a text message');
      }]]);
      if (!ok) return;
      await steps(r, [['close', async () => {
        p.ws.close(); // a close frame without a payload
        const ev = await p.closeEvent(c.T, 'the client\'s answer to an empty close');
        if (ev.code === 1006) fail('the client did not answer the close frame');
      }]]);
    },
  },

  abort: {
    async play(c, p, req, r) {
      const ok = await steps(r, [['echo', async () => {
        const data = Buffer.from('then the TCP connection drops');
        p.ws.send(data, { binary: false });
        checkEcho(await p.message(c.T, 'an echo'), data, false, 'a text message');
      }]]);
      if (ok) p.ws.terminate();
    },
  },
};

// The server answers with a subprotocol the client did not offer.
async function playRejected(c, p, req, r, what) {
  p.ws.send(Buffer.from('you should have failed the handshake'), { binary: false });
  try {
    const ev = await p.next(c.T, 'the client to drop the connection');
    if (ev.type === 'close') {
      r.ok('handshake failed', `the client ended the connection (${p.closedText()})`);
    } else {
      r.bad('handshake failed', `the client accepted ${what} and echoed a ${ev.type}`);
      p.ws.close(1000);
      await p.closeEvent(c.T, 'the end of the connection').catch(() => {});
    }
  } catch (err) {
    r.bad('handshake failed', `${err.message}: the client kept the connection open`);
  }
}

wsScenarios['wrong-protocol'] = {
  options: { handleProtocols: () => 'other' },
  async play(c, p, req, r) {
    r.ok('request', `offered [${offeredProtocols(req)}]; answered "other"`);
    await playRejected(c, p, req, r, 'the subprotocol "other" that it did not offer');
  },
};

wsScenarios['unrequested-protocol'] = {
  headers: ['Sec-WebSocket-Protocol: chat'],
  async play(c, p, req, r) {
    r.ok('request', `offered [${offeredProtocols(req)}]; answered "chat"`);
    await playRejected(c, p, req, r, 'a subprotocol ("chat") although it offered none');
  },
};

// ---------------------------------------------------------------- compression (permessage-deflate)
// Run only when the runner is given --deflate: the server tests against an
// echo server started with --deflate (c.deflate), "deflate-declined" against
// the plain one; the client scenarios with the echo client run with --deflate.

const PROBE = 12000; // a random block sent twice: its copy lies 12000 octets back

function jsonText(n, seed) {
  const next = xorshift(seed);
  let s = '[';
  for (let i = 0; s.length < n; i++) {
    s += `{"id":${i},"name":"item-${next() % 1000}","tags":["alpha","beta"],"value":${(next() % 10000) / 10000},"ok":${i % 3 ? 'true' : 'false'}},`;
  }
  return Buffer.from(s.slice(0, n), 'ascii');
}

function parseExtensions(value) {
  const out = [];
  for (const element of (value || '').split(',')) {
    const items = element.split(';').map((x) => x.trim());
    if (!items[0]) continue;
    const params = {};
    for (const p of items.slice(1)) {
      const k = p.indexOf('=');
      if (k < 0) params[p] = null; else params[p.slice(0, k).trim()] = p.slice(k + 1).trim().replace(/^"|"$/g, '');
    }
    out.push([items[0], params]);
  }
  return out;
}

function showParams(d) {
  return Object.keys(d).sort().map((k) => (d[k] === null ? k : `${k}=${d[k]}`)).join('; ') || 'no parameters';
}

function checkAnswer(answer, expected) {
  const exts = parseExtensions(answer);
  if (exts.length !== 1 || exts[0][0] !== 'permessage-deflate') fail(`the server answered Sec-WebSocket-Extensions: ${answer}, expected permessage-deflate`);
  const got = exts[0][1], want = { ...expected };
  if (want.client_max_window_bits === '15' && !('client_max_window_bits' in got)) delete want.client_max_window_bits;
  if (showParams(got) !== showParams(want)) fail(`the server answered "${answer}": expected ${showParams(want)}, got ${showParams(got)}`);
}

// What came compressed: wraps the extension's decompress, which ws calls
// only for the frames of messages with RSV1 set.
class Wire {
  constructor(ws) {
    this.compressed = 0; // compressed messages so far
    this.octets = 0;     // their payload octets
    const pmd = ws._extensions && ws._extensions['permessage-deflate'];
    if (pmd) {
      const original = pmd.decompress.bind(pmd);
      pmd.decompress = (data, fin, cb) => { this.octets += data.length; if (fin) this.compressed++; original(data, fin, cb); };
    }
  }
}

async function deflateSequence(c, p, wire, big = []) {
  const js = jsonText(1024, 1), probe = binaryData(PROBE, 77);
  const seq = [
    [Buffer.alloc(0), false, 'an empty text message'],
    [Buffer.alloc(0), true, 'an empty binary message'],
    [Buffer.from('hi'), false, 'a 2-octet text message'],
    [Buffer.from([0, 1, 2, 3, 4]), true, 'a 5-octet binary message'],
    [js, false, 'a 1 KiB JSON-like text message'],
    [js, false, 'the same 1 KiB JSON-like text message again (context takeover)'],
    [js, true, 'the 1 KiB JSON-like text as a binary message'],
    [probe, true, `a random ${PROBE}-octet block`],
    [probe, true, 'the same random block again (window probe)'],
    [Buffer.from(UTF8_SAMPLE.repeat(20), 'utf8'), false, 'text of multi-octet characters'],
    [jsonText(65536, 2), false, 'a 64 KiB JSON-like text message'],
    [binaryData(65536, 3), true, 'a 64 KiB random binary message'],
    ...big,
  ];
  const jsonEcho = [];
  for (let i = 0; i < seq.length; i++) {
    const before = [wire.compressed, wire.octets];
    await sendAndCheck(c, p, seq[i][0], seq[i][1], seq[i][2]);
    if (i === 4 || i === 5) jsonEcho.push([wire.compressed > before[0], wire.octets - before[1]]);
  }
  const sent = [];
  for (let i = 0; i < 30; i++) {
    const binary = i % 2 === 1;
    const data = binary ? jsonText(300 + i, 200 + i) : jsonText(200 + 50 * i, 100 + i);
    p.ws.send(data, { binary });
    sent.push([data, binary]);
  }
  for (let i = 0; i < 30; i++) checkEcho(await p.message(c.T, `echo ${i} of 30 in a row`), sent[i][0], sent[i][1], `message ${i} of 30 in a row`);
  if (!jsonEcho[0][0]) fail('the echo of a 1 KiB JSON-like text message came uncompressed (RSV1 clear)');
  return `${wire.compressed} echoes compressed; the 1 KiB JSON echo took ${jsonEcho[0][1]} octets, its repeat ${jsonEcho[1][0] ? jsonEcho[1][1] : 'uncompressed'}`;
}

// offer name, ws perMessageDeflate options, the answer this server must give
const deflateOffers = [
  ['defaults', true, {}],
  ['client-no-context', { clientNoContextTakeover: true }, { client_no_context_takeover: null }],
  ['server-no-context', { serverNoContextTakeover: true }, { server_no_context_takeover: null }],
  ['client-window-9', { clientMaxWindowBits: 9 }, { client_max_window_bits: '9' }],
  ['client-window-12', { clientMaxWindowBits: 12 }, { client_max_window_bits: '12' }],
  ['client-window-15', { clientMaxWindowBits: 15 }, { client_max_window_bits: '15' }],
  ['server-window-9', { serverMaxWindowBits: 9 }, { server_max_window_bits: '9' }],
  ['server-window-10', { serverMaxWindowBits: 10 }, { server_max_window_bits: '10' }],
  ['server-window-12', { serverMaxWindowBits: 12 }, { server_max_window_bits: '12' }],
  ['server-window-15', { serverMaxWindowBits: 15 }, { server_max_window_bits: '15' }],
  ['all', { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9, clientMaxWindowBits: 9 },
    { server_no_context_takeover: null, client_no_context_takeover: null, server_max_window_bits: '9', client_max_window_bits: '9' }],
];

const deflateTests = [];

for (const [name, pmd, expected] of deflateOffers) {
  deflateTests.push({ name: `deflate-${name}`, fn: async (c) => {
    const p = await c.open(c.deflate, [], { perMessageDeflate: pmd });
    const answer = p.response.headers['sec-websocket-extensions'];
    checkAnswer(answer, expected);
    const agreed = p.ws._extensions['permessage-deflate'];
    if (!agreed) fail(`ws did not enable permessage-deflate for the answer ${answer}`);
    const note = await deflateSequence(c, p, new Wire(p.ws));
    return `answered "${answer}"; ws.extensions "${p.ws.extensions}", params ${JSON.stringify(agreed.params)}; ${note}`;
  } });
}

for (const n of [0, 5, 1024, 65536, MiB, 16 * MiB - 1024]) {
  for (const binary of [false, true]) {
    deflateTests.push({ name: `deflate-${binary ? 'binary' : 'text'}-${n}`, fn: async (c) => {
      const p = await c.open(c.deflate, [], { perMessageDeflate: { threshold: 0 } });
      checkAnswer(p.response.headers['sec-websocket-extensions'], {});
      const wire = new Wire(p.ws);
      const data = binary ? binaryData(n, n + 3) : jsonText(n, n + 5);
      await sendAndCheck(c, p, data, binary, `a ${n}-octet ${binary ? 'binary' : 'JSON-like text'} message`);
      if (!binary && n >= 1024 && wire.compressed === 0) fail(`the echo of a ${n}-octet JSON-like text message came uncompressed (RSV1 clear)`);
      return `echo ${wire.compressed ? 'compressed' : 'uncompressed'}, ${wire.compressed ? wire.octets : n} octets on the wire`;
    } });
  }
}

deflateTests.push({ name: 'deflate-declined', fn: async (c) => {
  const p = await c.open(c.plain, [], { perMessageDeflate: { serverNoContextTakeover: true, serverMaxWindowBits: 10 } });
  const answer = p.response.headers['sec-websocket-extensions'];
  if (answer !== undefined || p.ws.extensions !== '') fail(`the server without --deflate accepted an extension: ${answer}`);
  await sendAndCheck(c, p, jsonText(1024, 1), false, 'a 1 KiB JSON-like text message');
  await sendAndCheck(c, p, jsonText(65536, 2), false, 'a 64 KiB JSON-like text message');
  return 'declined; echoes uncompressed';
} });

// Client scenarios: name -> the ws server's perMessageDeflate options
// (threshold 0: every message is compressed).
const deflateScenarios = {
  'deflate-echo': { threshold: 0 },
  'deflate-server-no-context': { threshold: 0, serverNoContextTakeover: true },
  'deflate-server-window-10': { threshold: 0, serverMaxWindowBits: 10 },
  'deflate-client-no-context': { threshold: 0, clientNoContextTakeover: true },
  'deflate-client-window-9': { threshold: 0, clientMaxWindowBits: 9 },
  'deflate-client-window-11': { threshold: 0, clientMaxWindowBits: 11 },
  'deflate-client-window-13': { threshold: 0, clientMaxWindowBits: 13 },
  'deflate-client-window-15': { threshold: 0, clientMaxWindowBits: 15 },
};

for (const [name, pmd] of Object.entries(deflateScenarios)) {
  let answer = null;
  wsScenarios[name] = {
    deflate: true,
    options: { perMessageDeflate: pmd },
    onHeaders: (headers) => { answer = headers.find((h) => /^sec-websocket-extensions:/i.test(h)) || 'no Sec-WebSocket-Extensions'; },
    async play(c, p, req, r) {
      const wire = new Wire(p.ws);
      const todo = [
        ['request', async () => {
          const offered = req.headers['sec-websocket-extensions'];
          if (!parseExtensions(offered).some((e) => e[0] === 'permessage-deflate')) fail(`the client offered no permessage-deflate (${offered})`);
          const agreed = p.ws._extensions['permessage-deflate'];
          if (!agreed) fail('no compression agreed');
          return `offered "${offered}"; answered "${answer}"; params ${JSON.stringify(agreed.params)}`;
        }],
        ['sequence', () => deflateSequence(c, p, wire, [[jsonText(MiB, 9), false, 'a 1 MiB JSON-like text message'],
          [binaryData(MiB, 10), true, 'a 1 MiB random binary message']])],
        ['fragmented', async () => {
          const pieces = [jsonText(3000, 11), jsonText(70000, 12), Buffer.alloc(0), jsonText(10, 13)];
          pieces.forEach((piece, i) => p.ws.send(piece, { binary: false, fin: i === pieces.length - 1 }));
          checkEcho(await p.message(c.T, 'the echo of a compressed text message in 4 frames'), Buffer.concat(pieces), false, 'a compressed text message in 4 frames');
        }],
        ['ping', async () => {
          p.ws.ping(Buffer.from('ping while compressing'));
          await p.pong(c.T, 'the client\'s pong');
        }],
      ];
      if (name === 'deflate-echo') todo.push(['text-16MiB', () => sendAndCheck(c, p, jsonText(16 * MiB - 1024, 14), false, 'a 16 MiB - 1 KiB JSON-like text message')]);
      if (!await steps(r, todo)) return;
      await steps(r, [['close', async () => {
        p.ws.close(4001, 'bye');
        const ev = await p.closeEvent(c.T, 'the client\'s answer to close 4001 "bye"');
        if (ev.code === 1006) fail('the client did not answer the close frame');
      }]]);
    },
  };
}

async function playWs(name, opts) {
  const c = { T: opts.timeout * 1000 };
  const sc = wsScenarios[name];
  const r = checker();
  const wss = new WebSocket.Server({ host: '127.0.0.1', port: 0, maxPayload: 64 * MiB, ...(sc.options || {}) });
  if (sc.headers) wss.on('headers', (headers) => headers.push(...sc.headers));
  if (sc.onHeaders) wss.on('headers', sc.onHeaders);
  let first = null, wakeFirst = null;
  wss.on('connection', (ws, req) => {
    if (first) { ws.terminate(); return; }
    first = { peer: new Peer(ws), req };
    if (wakeFirst) wakeFirst();
  });
  let refused = '';
  wss.on('wsClientError', (err, socket) => {
    // ws refuses a malformed request: keep its reason for the report
    refused = err.message;
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });
  await new Promise((resolve, reject) => { wss.once('listening', resolve); wss.once('error', reject); });
  process.stdout.write(`listening on ${wss.address().port}\n`);
  try {
    if (!first) {
      await withTimeout(new Promise((resolve) => { wakeFirst = resolve; }), c.T, 'the client to connect')
        .catch((err) => fail(refused ? `ws refused the client's handshake request: ${refused}` : err.message));
    }
    await sc.play(c, first.peer, first.req, r);
  } catch (err) {
    r.bad('connect', err.message);
  }
  if (first) await first.peer.shut(Math.min(c.T, 2000));
  for (const ws of wss.clients) ws.terminate();
  wss.close();
  emit({ done: true });
}

// ---------------------------------------------------------------- raw TCP scenarios (bad handshakes)

function frame(opcode, payload) {
  // an unmasked server frame, payload at most 125 octets
  return Buffer.concat([Buffer.from([0x80 | opcode, payload.length]), payload]);
}

function acceptFor(key) {
  return crypto.createHash('sha1').update(key + GUID).digest('base64');
}

// Opcodes of the complete frames in buf (the client's frames are masked).
function clientOpcodes(buf) {
  const ops = [];
  let i = 0;
  while (i + 2 <= buf.length) {
    const op = buf[i] & 0x0f, masked = (buf[i + 1] & 0x80) !== 0;
    let len = buf[i + 1] & 0x7f, at = i + 2;
    if (len === 126) { if (at + 2 > buf.length) break; len = buf.readUInt16BE(at); at += 2; }
    else if (len === 127) { if (at + 8 > buf.length) break; len = Number(buf.readBigUInt64BE(at)); at += 8; }
    if (masked) at += 4;
    if (at + len > buf.length) { ops.push(op); break; }
    ops.push(op);
    i = at + len;
  }
  return ops;
}

function checkRequest(head, port) {
  const lines = head.split('\r\n');
  const problems = [];
  const m = /^GET (\S+) HTTP\/1\.1$/.exec(lines[0]);
  if (!m) problems.push(`request line "${lines[0]}"`);
  const h = {};
  for (const line of lines.slice(1)) {
    const k = line.indexOf(':');
    if (k > 0) h[line.slice(0, k).trim().toLowerCase()] = line.slice(k + 1).trim();
  }
  if (!h.host) problems.push('no Host');
  else if (h.host !== `127.0.0.1:${port}`) problems.push(`Host "${h.host}", expected 127.0.0.1:${port}`);
  if ((h.upgrade || '').toLowerCase() !== 'websocket') problems.push(`Upgrade "${h.upgrade}"`);
  if (!(h.connection || '').toLowerCase().split(',').map((s) => s.trim()).includes('upgrade')) problems.push(`Connection "${h.connection}"`);
  if (h['sec-websocket-version'] !== '13') problems.push(`Sec-WebSocket-Version "${h['sec-websocket-version']}"`);
  const key = h['sec-websocket-key'];
  if (!key || !/^[A-Za-z0-9+/]{22}==$/.test(key) || Buffer.from(key, 'base64').length !== 16) problems.push(`Sec-WebSocket-Key "${key}"`);
  return { problems, key: key || '', path: m ? m[1] : '?' };
}

const rawScenarios = {
  'bad-accept': (key) => Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${acceptFor(key + 'x')}\r\n\r\n`),
  'no-upgrade': (key) => Buffer.from('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`),
  'status-200': () => Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n'),
};

async function playRaw(name, opts) {
  const T = opts.timeout * 1000;
  const r = checker();
  const server = net.createServer();
  let sock = null, wake = null;
  server.on('connection', (s) => {
    if (sock) { s.destroy(); return; }
    sock = s;
    if (wake) wake();
  });
  await new Promise((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
  const port = server.address().port;
  process.stdout.write(`listening on ${port}\n`);
  try {
    if (!sock) await withTimeout(new Promise((resolve) => { wake = resolve; }), T, 'the client to connect');
    let buf = Buffer.alloc(0), ended = false, onData = null;
    sock.on('data', (d) => { buf = Buffer.concat([buf, d]); if (onData) onData(); });
    sock.on('end', () => { ended = true; if (onData) onData(); });
    sock.on('close', () => { ended = true; if (onData) onData(); });
    sock.on('error', () => {});
    const until = async (cond, what) => {
      const deadline = Date.now() + T;
      while (!cond()) {
        const left = deadline - Date.now();
        if (left <= 0) fail(`timed out after ${T / 1000} s waiting for ${what}`);
        await new Promise((resolve) => { const t = setTimeout(resolve, left); onData = () => { clearTimeout(t); resolve(); }; });
      }
      onData = null;
    };
    await until(() => buf.indexOf('\r\n\r\n') >= 0 || ended || buf.length > 16384, 'the opening handshake request');
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) fail('the client sent no complete handshake request');
    const req = checkRequest(buf.subarray(0, end).toString('latin1'), port);
    if (req.problems.length) r.bad('request', req.problems.join('; '));
    else r.ok('request', `GET ${req.path}`);
    buf = buf.subarray(end + 4);
    sock.write(rawScenarios[name](req.key));
    if (name !== 'status-200') {
      // What a client that skipped the check would echo, then a normal close.
      sock.write(Buffer.concat([frame(1, Buffer.from('you should have failed the handshake')),
        frame(8, Buffer.from([0x03, 0xe8]))]));
    }
    try {
      await until(() => ended, 'the client to drop the connection');
      const ops = clientOpcodes(buf);
      if (ops.includes(1) || ops.includes(2)) r.bad('handshake failed', 'the client accepted the handshake and echoed a message');
      else r.ok('handshake failed', ops.length ? `the client sent opcodes [${ops}] and closed` : 'the client closed the connection');
    } catch (err) {
      const ops = clientOpcodes(buf);
      if (ops.includes(1) || ops.includes(2)) r.bad('handshake failed', 'the client accepted the handshake and echoed a message');
      else r.bad('handshake failed', `${err.message}: the client kept the connection open`);
    }
  } catch (err) {
    r.bad('connect', err.message);
  }
  if (sock) sock.destroy();
  server.close();
  emit({ done: true });
}

// ---------------------------------------------------------------- main

function usage(msg) {
  process.stderr.write(`node_peer.js: ${msg}\nusage: node_peer.js list | server-tests --plain URL --proto URL [--tests a,b] [--timeout S]` +
    ' | client-peer --scenario NAME [--timeout S]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const out = { mode: argv[0], timeout: 10 };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const value = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
    if (a === '--plain') out.plain = value();
    else if (a === '--proto') out.proto = value();
    else if (a === '--deflate') out.deflate = value();
    else if (a === '--tests') out.tests = value();
    else if (a === '--scenario') out.scenario = value();
    else if (a === '--timeout') out.timeout = Number(value());
    else usage(`unknown argument ${a}`);
  }
  if (!(out.timeout > 0)) usage('--timeout must be a positive number of seconds');
  return out;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.mode === 'list') {
    emit({ server: serverTests.map((t) => t.name),
      client: [...Object.keys(wsScenarios).filter((s) => !wsScenarios[s].deflate), ...Object.keys(rawScenarios)],
      deflate_server: deflateTests.map((t) => t.name), deflate_client: Object.keys(deflateScenarios) });
  } else if (opts.mode === 'server-tests') {
    if (!opts.plain || !opts.proto) usage('server-tests needs --plain and --proto');
    for (const u of [opts.plain, opts.proto]) if (!u.startsWith('ws://127.0.0.1:')) usage(`not a loopback ws:// URL: ${u}`);
    await runServerTests(opts);
  } else if (opts.mode === 'client-peer') {
    if (wsScenarios[opts.scenario]) await playWs(opts.scenario, opts);
    else if (rawScenarios[opts.scenario]) await playRaw(opts.scenario, opts);
    else usage(`unknown scenario ${opts.scenario}`);
  } else {
    usage('no mode');
  }
}

main().then(() => process.exit(0), (err) => {
  process.stderr.write(`node_peer.js: ${err.stack || err}\n`);
  process.exit(1);
});
