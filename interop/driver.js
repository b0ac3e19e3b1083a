// A line-protocol driver for the official socket.io-client, used by the Go
// interop specs. Each stdin line is a JSON command; each stdout line is a
// JSON report. Binary values travel as {"$binary": "<base64>"}.
//
// commands:
//   {"op":"connect","id":"a","url":"http://…/chat","opts":{…socket.io-client options…}}
//   {"op":"emit","id":"a","event":"e","args":[…],"ack":true,"timeout":2000,"seq":1}
//   {"op":"ackreply","id":"a","event":"e","args":[…]}   answer the server's acks for event e
//   {"op":"disconnect","id":"a"}       clean disconnect
//   {"op":"drop","id":"a"}             drop the transport (socket.io.engine.close())
//   {"op":"connectagain","id":"a"}     socket.connect() after a disconnect
//                                      ("url": "http://other-node" reconnects there)
//   {"op":"pump","id":"a","event":"e","every":20}  emit-with-ack e({client, seq}) again and again,
//                                      the next one after the ack (and every ms); with the client's
//                                      retries option an unanswered one is sent again after a reconnect
//   {"op":"stoppump","id":"a"}         stop pumping; reports {"type":"stopped","id":"a","sent":n}
//   {"op":"exit"}
// reports:
//   {"type":"connect","id":"a","sid":"…","recovered":false,"transport":"websocket"}
//   {"type":"connect_error","id":"a","message":"…","data":…}
//   {"type":"event","id":"a","event":"e","args":[…]}
//   {"type":"ack","id":"a","seq":1,"args":[…]} or {"type":"ack","id":"a","seq":1,"error":"…"}
//   {"type":"disconnect","id":"a","reason":"…"}
//   {"type":"upgrade","id":"a","transport":"websocket"}
//   {"type":"pumped","id":"a","seq":1,"us":830,"args":[…]} or {…,"error":"…"} (us: the ack's round trip)
"use strict";
const { io } = require("socket.io-client");
const readline = require("readline");

const sockets = new Map();
const ackReplies = new Map();
const pumps = new Map(); // id → {on, seq, waiting}

function out(obj) {
  process.stdout.write(JSON.stringify(obj, (k, v) => v) + "\n");
}

function encode(v) {
  if (v && typeof v === "object") {
    if (Buffer.isBuffer(v) || v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
      return { $binary: Buffer.from(v.buffer ? v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength) : v).toString("base64") };
    }
    if (Array.isArray(v)) return v.map(encode);
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = encode(x);
    return o;
  }
  return v;
}

function decode(v) {
  if (v && typeof v === "object") {
    if (typeof v.$binary === "string" && Object.keys(v).length === 1) return Buffer.from(v.$binary, "base64");
    if (Array.isArray(v)) return v.map(decode);
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = decode(x);
    return o;
  }
  return v;
}

function handle(cmd) {
  const s = sockets.get(cmd.id);
  switch (cmd.op) {
    case "connect": {
      const socket = io(cmd.url, Object.assign({ reconnection: false, forceNew: true }, cmd.opts || {}));
      sockets.set(cmd.id, socket);
      socket.io.on("open", () => {
        socket.io.engine.on("upgrade", (t) => out({ type: "upgrade", id: cmd.id, transport: t.name }));
      });
      socket.on("connect", () => {
        out({ type: "connect", id: cmd.id, sid: socket.id, recovered: socket.recovered, transport: socket.io.engine.transport.name });
      });
      socket.on("connect_error", (err) => out({ type: "connect_error", id: cmd.id, message: err.message, data: encode(err.data === undefined ? null : err.data) }));
      socket.on("disconnect", (reason) => out({ type: "disconnect", id: cmd.id, reason }));
      socket.onAny((event, ...args) => {
        let ack = null;
        if (args.length && typeof args[args.length - 1] === "function") ack = args.pop();
        out({ type: "event", id: cmd.id, event, args: encode(args) });
        if (ack) {
          const reply = ackReplies.get(cmd.id + "\u0000" + event);
          if (reply) ack(...decode(reply));
        }
      });
      break;
    }
    case "emit": {
      const args = decode(cmd.args || []);
      if (cmd.ack) {
        s.timeout(cmd.timeout || 5000).emit(cmd.event, ...args, (err, ...res) => {
          if (err) out({ type: "ack", id: cmd.id, seq: cmd.seq, error: err.message });
          else out({ type: "ack", id: cmd.id, seq: cmd.seq, args: encode(res) });
        });
      } else {
        s.emit(cmd.event, ...args);
      }
      break;
    }
    case "ackreply":
      ackReplies.set(cmd.id + "\u0000" + cmd.event, cmd.args || []);
      break;
    case "disconnect":
      s.disconnect();
      break;
    case "drop":
      s.io.engine.close();
      break;
    case "connectagain":
      if (cmd.url) s.io.uri = cmd.url; // another node of a cluster
      s.connect();
      break;
    case "pump": {
      const p = { on: true, seq: 0, waiting: false };
      pumps.set(cmd.id, p);
      const next = () => {
        if (!p.on) return;
        const seq = ++p.seq;
        p.waiting = true;
        const t0 = process.hrtime.bigint();
        s.timeout(cmd.timeout || 10000).emit(cmd.event, { client: cmd.id, seq }, (err, res) => {
          p.waiting = false;
          const us = Number((process.hrtime.bigint() - t0) / 1000n); // the round trip, in µs
          out(err ? { type: "pumped", id: cmd.id, seq, us, error: err.message } : { type: "pumped", id: cmd.id, seq, us, args: encode([res]) });
          if (p.on) setTimeout(next, cmd.every || 0);
          else out({ type: "stopped", id: cmd.id, sent: p.seq });
        });
      };
      next();
      break;
    }
    case "stoppump": {
      const p = pumps.get(cmd.id);
      p.on = false;
      if (!p.waiting) out({ type: "stopped", id: cmd.id, sent: p.seq });
      break;
    }
    case "exit":
      for (const x of sockets.values()) x.disconnect();
      process.exit(0);
  }
}

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  if (!line.trim()) return;
  try {
    handle(JSON.parse(line));
  } catch (e) {
    out({ type: "driver_error", message: String(e && e.stack || e) });
  }
});
process.stdin.on("end", () => process.exit(0));
