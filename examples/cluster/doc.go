// Command cluster is one node of a socketfx cluster: run two or more
// against one Redis and they act as one server (see README.md).
package main
