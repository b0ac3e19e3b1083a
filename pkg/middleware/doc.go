// Package middleware holds socketfx's stock middleware, one file each, all
// of the shapes pkg/socketservice defines:
//
//   - event middleware (socketservice.Middleware): Timeout, RateLimit,
//     Guard and RequireRole, Logging, Recover, JSONSchema;
//   - connection middleware (socketservice.ConnectHook): JWTAuth;
//   - an input validator (socketservice.InputValidator): StructValidator,
//     for go-playground/validator struct tags.
//
// Middleware with settings is a factory: middleware.Timeout(2*time.Second).
// Use it globally (socketservice.GlobalMiddleware), per service
// (Router.Use), per group, or per handler (socketservice.WithMiddleware).
package middleware
