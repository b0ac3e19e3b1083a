// Package middleware holds socketfx's stock middleware, one file each, all
// of the shapes pkg/socketservice defines:
//
//   - event middleware (socketservice.Middleware): Timeout, RateLimit,
//     Guard and RequireRole, Logging, Recover, JSONSchema;
//   - connection middleware (socketservice.ConnectMiddleware): JWTAuth.
//
// Struct-tag validation needs no middleware: typed handlers validate their
// input by default (socketservice.StructValidator).
//
// Middleware with settings is a factory: middleware.Timeout(2*time.Second).
// Use it globally (socketservice.GlobalMiddleware), per service
// (Router.Use), per group (Router.Group, Router.Route), or per handler (socketservice.WithMiddleware).
package middleware
