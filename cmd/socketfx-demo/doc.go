// Command socketfx-demo runs the socketfx demo: a chat on /chat, dynamic
// /tenant-<digits> namespaces, POST /api/notify, GET /healthz and a chat
// page at /. It listens on :3000, or on -addr, or on :$PORT. With
// -redis redis://host:6379 it joins a cluster of nodes on that Redis (give
// every node the same SOCKETFX_DEMO_SECRET so that tokens work on all).
package main
