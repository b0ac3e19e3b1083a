// Package testing is an example Ginkgo suite: it tests the demo's chat
// service with the socketfx test kit (pkg/testing/sockettest). Run it with
// `go test ./examples/testing/`. docs/testing.md quotes chat_test.go.
package testing
