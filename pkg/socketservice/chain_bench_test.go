package socketservice

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkChain measures an event through 0, 3 and 10 no-op middleware
// around a bare handler, without network: the cost of the chain itself.
func BenchmarkChain(b *testing.B) {
	noop := func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, m *Message) (any, error) { return next(ctx, m) }
	}
	handler := HandlerFunc(func(ctx context.Context, m *Message) (any, error) { return m.Args[0], nil })
	for _, n := range []int{0, 3, 10} {
		b.Run(fmt.Sprintf("middleware=%d", n), func(b *testing.B) {
			mw := make([]Middleware, n)
			for i := range mw {
				mw[i] = noop
			}
			rt := &route{event: "e", handler: handler, router: &Router{}}
			rt.build(mw, nil, binding{})
			ctx := context.Background()
			msg := &Message{Event: "e", Args: []any{"x"}}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := rt.chain(ctx, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
