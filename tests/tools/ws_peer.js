#!/usr/bin/env node
// ws_peer.js: a WebSocket server on node's `ws` package for the tests of
// `nnghttp ws` (test_cli.py).  It prints "listening on PORT" and serves
// ws://127.0.0.1:PORT/ until killed.  Every message is echoed with its
// type, except the text commands below, which make the server act:
//
//   "close CODE [REASON]"  close the connection with CODE and REASON
//   "drop"                 end the TCP connection without a close frame
//   "send-binary HEX"      send a binary message of those bytes
//   "send-text JSON"       send the text JSON.parse(JSON) (a JSON string)
//   "push N"               send the text messages "push 1" to "push N"
//   "quiet"                echo nothing from now on
//
// Each connection is reported on stdout: "open TAG PROTOCOL" when it opens
// and "closed TAG CODE REASON" when it ends (the client's close code; 1006
// when there was no close frame).  TAG is the value of the request's X-Tag
// header ("-" without one), PROTOCOL the subprotocol chosen ("-": none).
//
// Options: --delay MS (echo each message after MS milliseconds), --protocol
// NAME (repeatable: the subprotocols spoken, by preference), --tls CERT KEY
// (serve wss:// instead).  Needs NODE_PATH to reach `ws` (Debian's node-ws:
// /usr/share/nodejs).
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const WebSocket = require('ws');

const args = process.argv.slice(2);
let delay = 0;
const protocols = [];
let tls = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--delay') {
    delay = Number(args[++i]);
  } else if (args[i] === '--protocol') {
    protocols.push(args[++i]);
  } else if (args[i] === '--tls') {
    tls = { cert: fs.readFileSync(args[++i]), key: fs.readFileSync(args[++i]) };
  } else {
    process.stderr.write(`ws_peer.js: unknown argument ${args[i]}\n`);
    process.exit(2);
  }
}

const web = tls ? https.createServer(tls) : http.createServer();
const wss = new WebSocket.Server({
  server: web,
  handleProtocols: (offered) => protocols.find((p) => offered.has(p)) || false,
});

wss.on('connection', (ws, req) => {
  let quiet = false;
  const tag = req.headers['x-tag'] || '-';
  process.stdout.write(`open ${tag} ${ws.protocol || '-'}\n`);
  ws.on('close', (code, reason) => {
    process.stdout.write(`closed ${tag} ${code} ${reason.toString()}\n`);
  });
  ws.on('message', (data, isBinary) => {
    const words = isBinary ? [] : data.toString().split(' ');
    switch (words[0]) {
      case 'close':
        ws.close(Number(words[1]), words.slice(2).join(' '));
        return;
      case 'drop':
        ws.terminate();
        return;
      case 'send-binary':
        ws.send(Buffer.from(words[1] || '', 'hex'), { binary: true });
        return;
      case 'send-text':
        ws.send(JSON.parse(words.slice(1).join(' ')), { binary: false });
        return;
      case 'push':
        for (let k = 1; k <= Number(words[1]); k++) ws.send(`push ${k}`);
        return;
      case 'quiet':
        quiet = true;
        return;
      default:
        break;
    }
    if (quiet) return;
    const echo = () => ws.send(data, { binary: isBinary });
    if (delay > 0) setTimeout(echo, delay);
    else echo();
  });
});

web.listen(0, '127.0.0.1', () => {
  process.stdout.write(`listening on ${web.address().port}\n`);
});
