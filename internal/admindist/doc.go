// Package admindist embeds the official Socket.IO Admin UI (the ui/dist of
// the npm package @socket.io/admin-ui, copied by `make client`) and serves
// it, with its icon font, from the binary: no CDN and no CORS setup.
package admindist
