// Package adapter will hold the Redis adapter (go-redis v9) that lets many
// socketfx nodes act as one. It is empty for now; a single node uses the
// engine's in-memory adapter.
package adapter
