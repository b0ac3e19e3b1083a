// A client of the demo typed by its generated contract (socketfx.d.ts):
// it compiles with tsc --strict, and the spec runs it against the demo.
import { io, Socket } from "socket.io-client";
import type { Chat, Message } from "./socketfx.js";

// Node's process, declared here rather than with @types/node.
declare const process: { argv: string[]; exit(code: number): never };

type ChatSocket = Socket<Chat.ServerToClientEvents, Chat.ClientToServerEvents>;

function connect(name: string): ChatSocket {
  const auth: Chat.Handshake["auth"] = { name };
  return io(process.argv[2] + "/chat", { auth, transports: ["websocket"] });
}

async function main(): Promise<void> {
  const ann = connect("ann");
  const bob = connect("bob");
  const received = new Promise<Message>((resolve) => bob.on("chat:message", resolve));
  for (const s of [ann, bob]) {
    const joined = await s.emitWithAck("chat:join", { room: "lobby" });
    if (joined.status !== "ok") throw new Error(joined.error.code);
  }
  const sent = await ann.emitWithAck("chat:message", { room: "lobby", text: "hello" });
  if (sent.status !== "ok") throw new Error(sent.error.code);
  const got = await received;
  const me = await ann.emitWithAck("chat:whoami");
  const refused = await ann.emitWithAck("chat:join", { room: "" });
  const code = refused.status === "error" ? refused.error.code : "none";
  console.log(JSON.stringify({
    same: got.id === sent.data.id, got: got.text, from: got.from,
    rooms: me.status === "ok" ? me.data.rooms : null, code,
  }));
  ann.close();
  bob.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
