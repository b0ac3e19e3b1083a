// Package middleware will hold socketfx's stock middleware (recover,
// logging, timeout, validation, rate limit, auth helpers), one file each,
// all of the one shape socketservice.Middleware. It is empty for now: the
// chain itself and the error contract live in pkg/socketservice.
package middleware
