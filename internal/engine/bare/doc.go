// Package bare runs echo servers for measurements: one on the bare
// zishang520 engine, one on socketfx, answering "echo" with an ack of its
// arguments (socketfx: a typed handler and the ok envelope). The benchmark
// in pkg/socketservice and cmd/socketfx-load compare them in one run.
package bare
