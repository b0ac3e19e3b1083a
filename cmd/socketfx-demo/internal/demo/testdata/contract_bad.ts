// Mistakes the demo's generated contract must refuse at compile time.
import { io, Socket } from "socket.io-client";
import type { Chat } from "./socketfx.js";

const chat: Socket<Chat.ServerToClientEvents, Chat.ClientToServerEvents> = io("/chat");

async function main(): Promise<void> {
  // chat:join takes {room}, not {name}.
  await chat.emitWithAck("chat:join", { name: "lobby" });
  // The text of a chat message is a string.
  await chat.emitWithAck("chat:message", { room: "lobby", text: 42 });
  // The ack is an envelope: data only after checking status.
  const me = await chat.emitWithAck("chat:whoami");
  console.log(me.data.name);
  // chat:message carries a Message, which has no "body".
  chat.on("chat:message", (m) => console.log(m.body));
}

main();
