// Package metrics exports a socketfx server's metrics to Prometheus
// (github.com/prometheus/client_golang): connections and sockets, events
// and handler durations, acks, packets and bytes, the cluster, the session
// store, build information, and the Go runtime and process collectors.
//
// Under fx, Module registers everything on the *prometheus.Registry of the
// app (a new one if none is provided) and serves GET /metrics on the socket
// server's own listener. Without fx, build a Metrics with New, pass it to
// socketservice.New with socketservice.WithObservers, and mount
// Metrics.Handler on your mux.
//
// Labels are bounded: namespaces are named as their service declared them
// (every child of "/tenant/{id}" counts under "/tenant/{id}"), and event
// labels are the events services registered, with every event no handler
// serves counted under "(unknown)". docs/operations.md lists every metric.
package metrics
