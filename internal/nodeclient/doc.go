// Package nodeclient drives the official JavaScript socket.io-client (Node,
// from interop/node_modules) from Go specs, through interop/driver.js: one
// JSON command per line in, one JSON report per line out.
package nodeclient
