import { io, Socket } from "socket.io-client";
import type { Shop, Order, Tenant } from "./socketfx.js";

const shop: Socket<Shop.ServerToClientEvents, Shop.ClientToServerEvents> = io("http://localhost/shop", { auth: { token: "t" } satisfies Shop.Handshake["auth"] });
shop.on("order:placed", (p) => { const c: string = p.order.customer; console.log(c, p.at); });
shop.on("file:ready", (b) => { console.log(b.byteLength); });
async function run() {
  const o: Order = { id: "x", created: "", customer: "ann", priority: "low", quantity: 1, price: 1, labels: null, ship: null, billing: { street: "s" }, lines: [], count: "1" };
  const res = await shop.emitWithAck("order:place", o);
  if (res.status === "ok") { console.log(res.data.order.id); } else if (res.error.code === "ORDER_CLOSED") { console.log(res.error.message); }
  const page = await shop.emitWithAck("order:list", 1, null);
  if (page.status === "ok") console.log(page.data.items?.length);
  shop.emit("ping", (r) => console.log(r.status));
  shop.emit("upload", new Uint8Array([1]), (r) => console.log(r));
  shop.emit("legacy", 1, 2, 3);
}
const t: Socket<Tenant.ServerToClientEvents, Tenant.ClientToServerEvents> = io("http://localhost/tenant/1/room/a");
t.emit("info", (r) => { if (r.status === "ok") console.log(r.data.tenant); });
run();
