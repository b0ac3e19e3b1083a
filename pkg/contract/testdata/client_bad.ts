import { io, Socket } from "socket.io-client";
import type { Shop } from "./socketfx.js";

const shop: Socket<Shop.ServerToClientEvents, Shop.ClientToServerEvents> = io("http://localhost/shop");
async function run() {
  // A misspelt field: the contract says customer.
  const res = await shop.emitWithAck("order:place", { custmer: "ann" });
  // data without checking status first.
  console.log(res.data);
  // An event the server does not handle.
  shop.emit("order:cancel", 1);
  // The wrong payload type for a server event.
  shop.on("order:placed", (p: number) => console.log(p));
}
run();
