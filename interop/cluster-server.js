// A Node socket.io server joined to a Redis cluster with the official
// @socket.io/redis-adapter, plus an @socket.io/redis-emitter, driven like
// driver.js: one JSON command per stdin line, one JSON report per stdout
// line. The Go specs use it to prove that socketfx nodes and Node servers
// share one cluster.
//
// usage: node cluster-server.js <redis-url> <namespace> [admin-server-id]
// With an admin server id, the server calls @socket.io/admin-ui's
// instrument() (no auth, development mode) under that serverId.
// commands:
//   {"op":"emit","rooms":[…],"except":[…],"event":"e","args":[…]}   io.of(nsp).to(rooms).except(except).emit
//   {"op":"emitter","rooms":[…],"event":"e","args":[…]}              the same through @socket.io/redis-emitter
//   {"op":"emitterJoin","rooms":[…],"join":"room"}                     emitter.in(rooms).socketsJoin(join)
//   {"op":"serverSideEmit","event":"e","args":[…]}
//   {"op":"fetch","rooms":[…],"seq":1}                                 fetchSockets across the cluster
//   {"op":"exit"}
// reports:
//   {"type":"listening","port":1234}
//   {"type":"connection","sid":"…"}
//   {"type":"serverEvent","event":"e","args":[…]}
//   {"type":"fetched","seq":1,"sockets":[{"id":…,"rooms":[…]}]} or {"type":"fetched","seq":1,"error":"…"}
"use strict";
const http = require("http");
const readline = require("readline");
const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-adapter");
const { Emitter } = require("@socket.io/redis-emitter");
const { createClient } = require("redis");

const [url, nspName, adminServerId] = process.argv.slice(2);

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

async function main() {
  const pub = createClient({ url });
  const sub = pub.duplicate();
  const emitterClient = pub.duplicate();
  for (const c of [pub, sub, emitterClient]) c.on("error", (err) => process.stderr.write(String(err) + "\n"));
  await Promise.all([pub.connect(), sub.connect(), emitterClient.connect()]);

  const httpServer = http.createServer();
  const io = new Server(httpServer, { adapter: createAdapter(pub, sub) });
  if (adminServerId) require("@socket.io/admin-ui").instrument(io, { auth: false, mode: "development", serverId: adminServerId });
  const nsp = io.of(nspName);
  const emitter = new Emitter(emitterClient).of(nspName);

  nsp.on("connection", (socket) => {
    out({ type: "connection", sid: socket.id });
    socket.on("join", (room, ack) => {
      socket.join(room);
      if (typeof ack === "function") ack(room);
    });
  });
  nsp.on("note", (...args) => out({ type: "serverEvent", event: "note", args }));

  const rl = readline.createInterface({ input: process.stdin });
  rl.on("line", async (line) => {
    const cmd = JSON.parse(line);
    switch (cmd.op) {
      case "emit": {
        let op = nsp.to(cmd.rooms || []);
        if (cmd.except && cmd.except.length) op = op.except(cmd.except);
        op.emit(cmd.event, ...(cmd.args || []));
        break;
      }
      case "emitter": {
        let op = emitter;
        if (cmd.rooms && cmd.rooms.length) op = op.to(cmd.rooms);
        op.emit(cmd.event, ...(cmd.args || []));
        break;
      }
      case "emitterJoin":
        emitter.in(cmd.rooms || []).socketsJoin(cmd.join);
        break;
      case "serverSideEmit":
        nsp.serverSideEmit(cmd.event, ...(cmd.args || []));
        break;
      case "fetch":
        try {
          const socks = await nsp.in(cmd.rooms || []).fetchSockets();
          out({ type: "fetched", seq: cmd.seq, sockets: socks.map((s) => ({ id: s.id, rooms: [...s.rooms] })) });
        } catch (err) {
          out({ type: "fetched", seq: cmd.seq, error: String(err) });
        }
        break;
      case "exit":
        io.close();
        await Promise.allSettled([pub.quit(), sub.quit(), emitterClient.quit()]);
        process.exit(0);
    }
  });
  rl.on("close", () => process.exit(0));

  httpServer.listen(0, "127.0.0.1", () => out({ type: "listening", port: httpServer.address().port }));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack || err) + "\n");
  process.exit(1);
});
