// Package session will hold per-socket sessions that survive a dropped
// connection (Socket.IO connection-state recovery), with an in-memory and a
// Redis store. It is empty for now: recovery itself can already be turned on
// with socketservice.Config.Recovery.
package session
