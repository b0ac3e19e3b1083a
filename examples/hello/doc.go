// Command hello is the README's example: one socket service, run with fx.
package main
