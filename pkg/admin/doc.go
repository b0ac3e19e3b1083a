// Package admin gives operators two ways to see and steer the live sockets
// of a socketfx cluster, both cluster-wide through the adapter:
//
//   - API, a JSON REST API (an http.Handler to mount under a prefix of
//     your choice): server and cluster info, paged socket lists, health,
//     broadcasts, sends to a room or a socket, joins, leaves and
//     disconnects. It refuses to be built without an authorization hook.
//   - UI, the server side of the official Socket.IO Admin UI's protocol
//     (@socket.io/admin-ui 0.5), so the real UI, served from your binary
//     or the hosted one, shows and steers a socketfx server as it does a
//     Node one, including the Node servers of a mixed cluster that call
//     instrument().
//
// Neither may be exposed without authentication: both can read every
// socket's handshake (headers, cookies, tokens) and disconnect anyone.
// Both have a read-only mode. See docs/admin.md.
package admin
