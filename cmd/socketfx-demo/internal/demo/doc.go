// Package demo is the socketfx demo application run by cmd/socketfx-demo: a
// chat on /chat (auth.name at the handshake, rooms, messages), dynamic
// tenant namespaces /tenant-<digits>, an HTTP endpoint that pushes to a chat
// room, a health check and a browser page. It lives in a package so that
// its specs can start it in-process; it is the demo's own code, internal to
// the command (examples/testing shows how to test a service of your own).
package demo
