// Package redistest runs a real redis-server for tests: on 127.0.0.1, on a
// free port, with no persistence, in a temporary directory, stopped when
// the test ends. Stop and Restart simulate an outage (the same address
// comes back). redis-server must be on PATH; without it Start fails the
// test saying what to install — it never skips.
//
//	r := redistest.Start(GinkgoT())
//	client := redis.NewClient(&redis.Options{Addr: r.Addr()})
package redistest
