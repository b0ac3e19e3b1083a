// Command socketfx-load drives Socket.IO servers with emit-with-ack round
// trips from many clients and reports throughput and latency percentiles.
//
//	socketfx-load                          compare socketfx and the bare engine, in-process, in one run
//	socketfx-load -url http://host:3000    load one server (its namespace must ack "echo")
//
// Requests loop for -duration and stop by themselves; only loopback and
// addresses you name are contacted.
package main
