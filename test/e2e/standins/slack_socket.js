// Slack Socket Mode stand-in: HTTPS `POST /api/apps.connections.open` and a
// real WebSocket server (the npm `ws` package) on the same TLS port, plus a
// plain-HTTP control port on 127.0.0.1 that the Python tests drive.
//
//   node slack_socket.js --cert C --key K --token xapp-... [--host localhost]
//
// Prints one JSON line {"port":N,"control":M} once both listen. Everything
// listens on 127.0.0.1 only. State and commands (control port, JSON bodies):
//   GET  /state                 connections, acks, sent, opens, closes, pongs, upgrades
//                               (acks and sent carry at_us: monotonic µs, for make bench)
//   POST /config  {stall_open, fail_open, hello, reject_upgrade}; turning
//                 stall_open off answers the apps.connections.open calls it held
//   POST /send    {conn, envelope, mode, pad_to}  mode: text | fragmented |
//                  fragmented_ping | binary; pad_to pads the JSON with spaces
//                  to exactly that many bytes (picks the 7/16/64-bit form)
//   POST /disconnect {conn, reason}     a Slack "disconnect" message
//   POST /close   {conn, code, reason}  a close frame
//   POST /drop    {conn}                the TCP connection closed: no close frame
//   POST /ping    {conn, data}
// conn is a connection id, "newest" (the newest one that got hello) or "any"
// (the newest open one).
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const crypto = require('crypto');
const { WebSocketServer } = require('ws');

function arg(name, def) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? process.argv[i + 1] : def;
}

const TOKEN = arg('token', 'xapp-1-A0TEST-1-secret');
const HOST = arg('host', 'localhost');
const cfg = { stall_open: false, fail_open: false, hello: true, reject_upgrade: false };
const tickets = new Map(); // one-time tickets → issued time
const conns = new Map(); // id → {ws, hello, open, ticket}
const st = { opens: 0, open_refused: 0, acks: [], sent: [], closes: [], pongs: [], upgrades: [], messages: [] };
const usNow = () => Number(process.hrtime.bigint() / 1000n); // monotonic µs, for make bench
let nextId = 1;
let stalled = []; // apps.connections.open answers held while stall_open

const tls = https.createServer({ cert: fs.readFileSync(arg('cert')), key: fs.readFileSync(arg('key')) });
const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });

function json(res, code, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(code, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

tls.on('request', (req, res) => {
  if (req.method !== 'POST' || req.url !== '/api/apps.connections.open') return json(res, 404, { ok: false, error: 'unknown_method' });
  req.resume();
  req.on('end', () => {
    if (cfg.stall_open) { // held until stall_open is turned off again
      stalled.push(() => openAnswer(req, res));
      return;
    }
    openAnswer(req, res);
  });
});

function openAnswer(req, res) {
  {
    if (req.headers.authorization !== 'Bearer ' + TOKEN) {
      st.open_refused++;
      return json(res, 200, { ok: false, error: 'invalid_auth' });
    }
    if (cfg.fail_open) {
      st.open_refused++;
      return json(res, 200, { ok: false, error: 'internal_error' });
    }
    st.opens++;
    const t = crypto.randomBytes(12).toString('hex');
    tickets.set(t, Date.now());
    const port = tls.address().port;
    json(res, 200, { ok: true, url: `wss://${HOST}:${port}/link/?ticket=${t}&app_id=A0TEST` });
  }
}

tls.on('upgrade', (req, socket, head) => {
  const u = new URL(req.url, 'https://x');
  const t = u.searchParams.get('ticket');
  st.upgrades.push({ path: u.pathname, headers: req.headers, ticket_ok: tickets.has(t) });
  if (u.pathname !== '/link/' || !tickets.has(t) || cfg.reject_upgrade) {
    socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  tickets.delete(t); // one-time URL
  wss.handleUpgrade(req, socket, head, (ws) => accept(ws, t));
});

function accept(ws, ticket) {
  const id = nextId++;
  const c = { id, ws, hello: false, open: true, ticket };
  conns.set(id, c);
  ws.on('message', (data, isBinary) => {
    const text = data.toString('utf8');
    let msg = null;
    try { msg = JSON.parse(text); } catch (e) { /* recorded raw */ }
    st.messages.push({ conn: id, text, binary: isBinary, at: Date.now() });
    if (msg && msg.envelope_id) st.acks.push({ conn: id, envelope_id: msg.envelope_id, payload: msg.payload === undefined ? null : msg.payload, at: Date.now(), at_us: usNow() });
  });
  ws.on('pong', (d) => st.pongs.push({ conn: id, data: d.toString('utf8') }));
  ws.on('close', (code, reason) => {
    c.open = false;
    st.closes.push({ conn: id, code, reason: reason.toString('utf8'), at: Date.now() });
  });
  ws.on('error', () => { c.open = false; });
  if (cfg.hello) {
    ws.send(JSON.stringify({ type: 'hello', num_connections: [...conns.values()].filter((x) => x.open).length,
      debug_info: { host: 'applink-standin', build_number: 1, approximate_connection_time: 18060 },
      connection_info: { app_id: 'A0TEST' } }));
    c.hello = true;
  }
}

function pick(conn) {
  if (conn === undefined || conn === 'newest' || conn === 'any') {
    const open = [...conns.values()].filter((x) => x.open && (x.hello || conn === 'any'));
    return open.length ? open[open.length - 1] : null;
  }
  const c = conns.get(Number(conn));
  return c && c.open ? c : null;
}

function pad(text, to) {
  if (!to) return text;
  const n = Buffer.byteLength(text);
  if (n > to) throw new Error(`envelope is ${n} bytes, over pad_to ${to}`);
  return text + ' '.repeat(to - n);
}

function send(c, body) {
  const text = pad(JSON.stringify(body.envelope), body.pad_to);
  st.sent.push({ conn: c.id, envelope_id: body.envelope.envelope_id, at_us: usNow() });
  const mode = body.mode || 'text';
  if (mode === 'text') return c.ws.send(text);
  if (mode === 'binary') return c.ws.send(Buffer.from(text), { binary: true });
  // Fragments of odd sizes (1, 2, 3, ... bytes, then the rest), with a ping
  // between fragments in fragmented_ping (control frames may interleave).
  const buf = Buffer.from(text);
  let off = 0;
  for (let k = 1; off + k < buf.length && k <= 7; k++) {
    c.ws.send(buf.subarray(off, off + k), { fin: false, binary: false });
    if (mode === 'fragmented_ping') c.ws.ping('between');
    off += k;
  }
  c.ws.send(buf.subarray(off), { fin: true, binary: false });
}

const control = http.createServer((req, res) => {
  let raw = '';
  req.on('data', (d) => { raw += d; });
  req.on('end', () => {
    let body = {};
    try { body = raw ? JSON.parse(raw) : {}; } catch (e) { return json(res, 400, { error: 'bad json' }); }
    const state = () => ({
      connections: [...conns.values()].map((c) => ({ id: c.id, open: c.open, hello: c.hello })),
      opens: st.opens, open_refused: st.open_refused, open_stalled: stalled.length, acks: st.acks, closes: st.closes,
      pongs: st.pongs, upgrades: st.upgrades, messages: st.messages.length, sent: st.sent,
    });
    if (req.url === '/state') return json(res, 200, state());
    if (req.url === '/config') {
      Object.assign(cfg, body);
      if (!cfg.stall_open) { const held = stalled; stalled = []; held.forEach((f) => f()); }
      return json(res, 200, cfg);
    }
    const c = pick(body.conn);
    if (!c) return json(res, 409, { error: 'no such open connection', state: state() });
    try {
      if (req.url === '/send') send(c, body);
      else if (req.url === '/disconnect') c.ws.send(JSON.stringify({ type: 'disconnect', reason: body.reason || 'refresh_requested', debug_info: { host: 'applink-standin' } }));
      else if (req.url === '/close') c.ws.close(body.code || 1000, body.reason || '');
      else if (req.url === '/drop') c.ws._socket.destroy();
      else if (req.url === '/ping') c.ws.ping(body.data || 'ping');
      else return json(res, 404, { error: 'unknown control' });
    } catch (e) {
      return json(res, 500, { error: String(e) });
    }
    json(res, 200, { conn: c.id });
  });
});

tls.listen(0, '127.0.0.1', () => {
  control.listen(0, '127.0.0.1', () => {
    process.stdout.write(JSON.stringify({ port: tls.address().port, control: control.address().port }) + '\n');
  });
});
process.on('SIGTERM', () => process.exit(0));
