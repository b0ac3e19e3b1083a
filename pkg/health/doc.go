// Package health serves Kubernetes-style health endpoints for a socketfx
// app: /livez (the process answers; it checks no dependency, so a Redis
// blip never restarts a pod) and /readyz (the node takes new connections:
// 503 before the socket server started and once it began to stop; 200 with
// status "degraded" while a dependency such as the cluster's Redis is away,
// since local clients are still served). ?verbose lists every check.
//
// Under fx, Module serves both on the socket server's own listener
// (socketservice.AsHTTPRoute) and reads its checks from the fx group
// CheckGroup; adapter.Module adds the Redis check there. Without fx, mount
// Livez and Readyz on your mux.
package health
