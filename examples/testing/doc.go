// Command testing is a small chat service and its specs, which show the
// socketfx test kit (pkg/testing/sockettest); docs/testing.md quotes them.
// Clients connect to /chat with auth {name}, join rooms and say things to
// them; the session keeps each client's name and rooms. See README.md.
package main
