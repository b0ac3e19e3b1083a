// A line-protocol script (like driver.js) for the Go wsclose specs: it
// measures how long the official socket.io-client's websocket takes to
// close after socket.close(), i.e. until the underlying ws emits "close",
// which the ws library only does once the server has closed its side (or
// after ws's 30 s close timeout if the server never does).
//
// commands:
//   {"op":"close","url":"http://…/echo","seq":1}            one connect + close, measured
//   {"op":"cycles","url":"http://…/echo","n":500,"conc":10,"seq":2}  n connect + close cycles
//   {"op":"exit"}
// reports:
//   {"type":"closed","seq":1,"ms":3,"code":1005} or {"type":"closed","seq":1,"error":"…"}
//   {"type":"cycles","seq":2,"done":500,"failed":0,"maxMs":12,"ms":900,"errors":[…]}
"use strict";
const { io } = require("socket.io-client");
const readline = require("readline");

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

// once connects over websocket only, calls socket.close() and resolves with
// the milliseconds until the raw ws "close" event.
function once(url, limitMs) {
  return new Promise((resolve, reject) => {
    const socket = io(url, { transports: ["websocket"], reconnection: false, forceNew: true, timeout: limitMs });
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error("no ws close within " + limitMs + " ms"));
    }, limitMs);
    socket.on("connect_error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on("connect", () => {
      const ws = socket.io.engine.transport.ws;
      const t0 = Date.now();
      ws.on("close", (code) => {
        clearTimeout(timer);
        resolve({ ms: Date.now() - t0, code });
      });
      socket.close();
    });
  });
}

async function cycles(cmd) {
  const t0 = Date.now();
  let next = 0, done = 0, failed = 0, maxMs = 0;
  const errors = [];
  const worker = async () => {
    while (next < cmd.n) {
      next++;
      try {
        const r = await once(cmd.url, 10000);
        done++;
        if (r.ms > maxMs) maxMs = r.ms;
      } catch (err) {
        failed++;
        if (errors.length < 5) errors.push(String(err && err.message));
      }
    }
  };
  await Promise.all(Array.from({ length: cmd.conc || 1 }, worker));
  out({ type: "cycles", seq: cmd.seq, done, failed, maxMs, ms: Date.now() - t0, errors });
}

readline.createInterface({ input: process.stdin }).on("line", (line) => {
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (err) {
    return;
  }
  switch (cmd.op) {
    case "close":
      once(cmd.url, 35000).then(
        (r) => out({ type: "closed", seq: cmd.seq, ms: r.ms, code: r.code }),
        (err) => out({ type: "closed", seq: cmd.seq, error: String(err && err.message) }),
      );
      break;
    case "cycles":
      cycles(cmd);
      break;
    case "exit":
      process.exit(0);
  }
});
