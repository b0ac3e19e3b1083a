package sioclient_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/socketfx/socketfx/internal/engine/bare"
	"github.com/socketfx/socketfx/internal/sioclient"
	"go.uber.org/goleak"
)

// A round trip to a socketfx echo server over each transport; Close stops
// the client's goroutine and leaves no connection behind. (The specs of
// pkg/testing/sockettest cover the rest of the protocol through this
// client.)
func TestCall(t *testing.T) {
	srv, err := bare.StartSocketfx()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
		// the engine's timers for connections it already closed
		goleak.IgnoreTopFunction("github.com/zishang520/socket.io/v3/pkg/utils.SetTimeout.func1"))
	for _, tr := range []sioclient.Transport{sioclient.WebSocket, sioclient.Polling} {
		t.Run(string(tr), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := sioclient.Connect(ctx, srv.URL, "/", sioclient.WithTransport(tr))
			if err != nil {
				t.Fatal(err)
			}
			var out bare.Payload
			if err := c.Call(ctx, "echo", bare.Payload{Text: "hi", N: 2}, &out); err != nil {
				t.Fatal(err)
			}
			if out != (bare.Payload{Text: "hi", N: 2}) {
				t.Fatalf("echo: %+v", out)
			}
			c.Close()
			select {
			case <-c.Done():
			default:
				t.Fatal("Close returned before the client's goroutine ended")
			}
			if c.Connected() || c.DisconnectReason() != "transport close" {
				t.Fatalf("after Close: connected %v, reason %q", c.Connected(), c.DisconnectReason())
			}
			if _, err := c.EmitWithAck(ctx, "echo"); !errors.Is(err, sioclient.ErrClosed) {
				t.Fatalf("EmitWithAck after Close: %v", err)
			}
		})
	}
}

func TestDecodeAck(t *testing.T) {
	err := sioclient.DecodeAck([]any{map[string]any{"status": "error", "error": map[string]any{"code": "validation", "message": "no"}}}, nil)
	var ae *sioclient.AckError
	if !errors.As(err, &ae) || ae.Code != "validation" || ae.Message != "no" {
		t.Fatalf("error envelope: %v", err)
	}
	var n int
	if err := sioclient.DecodeAck([]any{map[string]any{"status": "ok", "data": 3.0}}, &n); err != nil || n != 3 {
		t.Fatalf("ok envelope: %d, %v", n, err)
	}
	if err := sioclient.DecodeAck([]any{"x", "y"}, nil); err == nil {
		t.Fatal("two arguments decoded")
	}
}
