package adapter_test

import (
	"bytes"
	"context"
	"log/slog"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/adapter"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"go.uber.org/fx"
)

var _ = Describe("adapter.Module misconfigured", func() {
	It("fails the start without a Config, saying what to supply", func() {
		app := fx.New(
			socketservice.Module, adapter.Module,
			fx.Supply(socketservice.Config{Addr: "127.0.0.1:0"}),
			socketservice.AsService(newRoom),
			fx.NopLogger,
		)
		err := app.Err()
		if err == nil {
			err = app.Start(context.Background())
			_ = app.Stop(context.Background())
		}
		Expect(err).To(MatchError(ContainSubstring(`fx.Supply(adapter.Config{URL: "redis://127.0.0.1:6379"})`)))
	})
})

var _ = Describe("RedisLogger", func() {
	It("writes go-redis's lines to slog at Warn", func() {
		var buf bytes.Buffer
		l := adapter.NewRedisLogger(slog.New(slog.NewTextHandler(&buf, nil)))
		l.Printf(context.Background(), "redis: discarding bad PubSub connection: %s", "EOF")
		Expect(buf.String()).To(And(ContainSubstring("level=WARN"), ContainSubstring("component=go-redis"),
			ContainSubstring(`msg="redis: discarding bad PubSub connection: EOF"`)))
	})
})
