package middleware_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/middleware"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
)

var secret = []byte("test-secret")

type announce struct {
	Text  string `json:"text" validate:"required,max=20"`
	Level int    `json:"level" validate:"min=1,max=3"`
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

const orderSchema = `{
  "type": "object",
  "required": ["item", "qty"],
  "properties": {
    "item": {"type": "string", "minLength": 1},
    "qty": {"type": "integer", "minimum": 1}
  },
  "additionalProperties": false
}`

// stock uses every stock middleware.
type stock struct{ logs *syncBuffer }

func (st stock) Register(r *socketservice.Router) {
	r.Namespace("/stock")
	r.UseConnect(middleware.JWTAuth(middleware.JWTConfig{Secret: secret}))
	r.Use(middleware.Logging(slog.New(slog.NewTextHandler(st.logs, nil))))
	r.Handle("slow", socketservice.Typed0(func(ctx context.Context) (string, error) {
		<-ctx.Done()
		return "too late", nil
	}), socketservice.WithMiddleware(middleware.Timeout(150*time.Millisecond)))
	r.Handle("fast", socketservice.Typed0(func(ctx context.Context) (string, error) { return "quick", nil }),
		socketservice.WithMiddleware(middleware.Timeout(time.Second)))
	r.Handle("slowlog", socketservice.Typed0(func(ctx context.Context) (string, error) {
		<-ctx.Done()
		socketservice.LoggerFromContext(ctx).Info("late handler logs")
		return "late", nil
	}), socketservice.WithMiddleware(middleware.Logging(nil), middleware.Timeout(20*time.Millisecond)))
	r.Handle("limited", socketservice.Typed0(func(ctx context.Context) (string, error) { return "ok", nil }),
		socketservice.WithMiddleware(middleware.RateLimit(middleware.RateLimitConfig{Rate: 0.001, Burst: 3, DisconnectAfter: 4})))
	r.Handle("announce", socketservice.Typed(func(ctx context.Context, a announce) (string, error) { return a.Text, nil }),
		socketservice.WithMiddleware(middleware.RequireRole("admin")))
	schema, err := middleware.JSONSchema(orderSchema)
	if err != nil {
		panic(err) // a test fixture; services return errors from constructors
	}
	r.HandleFunc("order", func(ctx context.Context, m *socketservice.Message) (any, error) { return m.Args[0], nil },
		socketservice.WithMiddleware(schema))
	r.Handle("boom", socketservice.Typed0(func(ctx context.Context) (string, error) { return "", nil }),
		socketservice.WithMiddleware(middleware.Recover(nil), func(next socketservice.HandlerFunc) socketservice.HandlerFunc {
			return func(ctx context.Context, m *socketservice.Message) (any, error) { panic("middleware bug") }
		}))
	panics := socketservice.Typed0(func(ctx context.Context) (string, error) { panic("handler bug") })
	r.Handle("chosen", panics, socketservice.WithMiddleware(middleware.Recover(func(ctx context.Context, recovered any) error {
		return socketservice.Errorf("BROKEN", "recovered: %v", recovered)
	})))
	r.Handle("timedpanic", panics, socketservice.WithMiddleware(middleware.Recover(func(ctx context.Context, recovered any) error {
		return socketservice.Errorf("BROKEN", "through the timeout: %v", recovered)
	}), middleware.Timeout(time.Second)))
	r.Handle("silent", socketservice.Typed0(func(ctx context.Context) (string, error) { return "", socketservice.ErrNoAck }))
	r.Handle("whoami", socketservice.Typed0(func(ctx context.Context) (map[string]any, error) {
		id, _ := socketservice.IdentityFromContext(ctx)
		return map[string]any{"sub": id.Subject, "name": id.Name, "roles": id.Roles}, nil
	}))
}

func token(sub string, roles []string, ttl time.Duration) string {
	t, err := middleware.IssueToken(secret, socketservice.Identity{Subject: sub, Name: sub + " doe", Roles: roles}, ttl)
	Expect(err).NotTo(HaveOccurred())
	return t
}

func ack(c *sockettest.Client, event string, args ...any) error {
	a, err := c.EmitWithAck(ctxT(), event, args...)
	Expect(err).NotTo(HaveOccurred())
	return sockettest.DecodeAck(a, nil)
}

var _ = Describe("stock middleware", func() {
	var (
		srv  *sockettest.Server
		logs *syncBuffer
	)
	BeforeEach(func() {
		leakCheck()
		logs = &syncBuffer{}
		srv = sockettest.NewServer(GinkgoT(),
			socketservice.AsService(func() stock { return stock{logs: logs} }),
			fx.Supply(slog.New(slog.NewTextHandler(logs, nil))),
		)
	})
	dial := func(sub string, roles ...string) *sockettest.Client {
		c, err := srv.Connect(ctxT(), "/stock", sockettest.WithAuth(map[string]any{"token": token(sub, roles, time.Minute)}))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(c.Close)
		return c
	}

	Describe("JWTAuth", func() {
		It("sets the identity from a valid token, in auth or in the Authorization header", func() {
			c := dial("ann", "admin")
			var who map[string]any
			Expect(c.Call(ctxT(), "whoami", nil, &who)).To(Succeed())
			Expect(who).To(Equal(map[string]any{"sub": "ann", "name": "ann doe", "roles": []any{"admin"}}))

			h, err := srv.Connect(ctxT(), "/stock", sockettest.WithHeader(http.Header{"Authorization": {"Bearer " + token("bob", nil, time.Minute)}}))
			Expect(err).NotTo(HaveOccurred())
			defer h.Close()
			Expect(h.Call(ctxT(), "whoami", nil, &who)).To(Succeed())
			Expect(who).To(HaveKeyWithValue("sub", "bob"))
		})

		It("refuses missing, expired and forged tokens with UNAUTHORIZED", func() {
			refused := func(opts ...sockettest.Option) error {
				_, err := srv.Connect(ctxT(), "/stock", opts...)
				return err
			}
			Expect(refused()).To(MatchError(&sockettest.ConnectError{Message: "missing token", Data: map[string]any{"code": "UNAUTHORIZED"}}))
			Expect(refused(sockettest.WithAuth(map[string]any{"token": token("ann", nil, -time.Minute)}))).
				To(MatchError(&sockettest.ConnectError{Message: "token expired", Data: map[string]any{"code": "UNAUTHORIZED"}}))
			forged, err := middleware.IssueToken([]byte("other"), socketservice.Identity{Subject: "eve", Roles: []string{"admin"}}, time.Minute)
			Expect(err).NotTo(HaveOccurred())
			Expect(refused(sockettest.WithAuth(map[string]any{"token": forged}))).
				To(MatchError(&sockettest.ConnectError{Message: "invalid token", Data: map[string]any{"code": "UNAUTHORIZED"}}))
			Expect(srv.Socket.Of("/stock").Count()).To(BeZero())
		})
	})

	Describe("RequireRole", func() {
		It("lets admins through and answers others FORBIDDEN", func() {
			Expect(ack(dial("ann", "admin"), "announce", map[string]any{"text": "hi", "level": 1})).To(Succeed())
			Expect(ack(dial("bob", "user"), "announce", map[string]any{"text": "hi", "level": 1})).
				To(MatchError(&sockettest.AckError{Code: "FORBIDDEN", Message: "bob may not send announce"}))
		})
	})

	Describe("StructValidator", func() {
		It("lists every invalid field by its JSON name, never as an internal error", func() {
			err := ack(dial("ann", "admin"), "announce", map[string]any{"text": "", "level": 9})
			Expect(err).To(MatchError(&sockettest.AckError{
				Code: "VALIDATION_PAYLOAD_ERROR", Message: "2 fields are invalid",
				Details: []map[string]any{
					{"field": "text", "rule": "required", "message": "text is required"},
					{"field": "level", "rule": "max", "message": "level must be at most 3"},
				},
			}))
			err = ack(dial("ann", "admin"), "announce", map[string]any{"text": "hi", "level": "high"})
			Expect(asAckError(err).Code).To(Equal("VALIDATION_PAYLOAD_ERROR"))
		})
	})

	Describe("JSONSchema", func() {
		It("accepts a matching payload and details every mismatch", func() {
			c := dial("ann")
			a, err := c.EmitWithAck(ctxT(), "order", map[string]any{"item": "tea", "qty": 2})
			Expect(err).NotTo(HaveOccurred())
			Expect(a).To(Equal([]any{map[string]any{"status": "ok", "data": map[string]any{"item": "tea", "qty": 2.0}}}))

			err = ack(c, "order", map[string]any{"item": "", "qty": 0, "extra": true})
			ae := asAckError(err)
			Expect(ae.Code).To(Equal("VALIDATION_PAYLOAD_ERROR"))
			Expect(ae.Details).To(ContainElements(
				HaveKeyWithValue("rule", "additionalProperties"),
				And(HaveKeyWithValue("field", "item"), HaveKeyWithValue("rule", "minLength")),
				And(HaveKeyWithValue("field", "qty"), HaveKeyWithValue("rule", "minimum")),
			))
			Expect(ack(c, "order")).To(MatchError(ContainSubstring("VALIDATION_PAYLOAD_ERROR")))
		})

		It("rejects a schema that does not compile when it is built", func() {
			_, err := middleware.JSONSchema(`{"type": 12}`)
			Expect(err).To(MatchError(ContainSubstring("middleware: JSON schema")))
		})
	})

	Describe("Recover", func() {
		It("turns a panic in middleware into INTERNAL_SERVER_ERROR, and the socket keeps working", func() {
			c := dial("ann")
			Expect(ack(c, "boom")).To(MatchError(&sockettest.AckError{Code: "INTERNAL_SERVER_ERROR", Message: "internal server error"}))
			Expect(ack(c, "fast")).To(Succeed())
		})

		It("chooses the error for a handler panic, also across Timeout's goroutine", func() {
			c := dial("ann")
			Expect(ack(c, "chosen")).To(MatchError(&sockettest.AckError{Code: "BROKEN", Message: "recovered: handler bug"}))
			Expect(ack(c, "timedpanic")).To(MatchError(&sockettest.AckError{Code: "BROKEN", Message: "through the timeout: handler bug"}))
			Expect(ack(c, "fast")).To(Succeed())
			Eventually(logs.String).Should(ContainSubstring("middleware: recovered panic"))
		})
	})

	Describe("Timeout", func() {
		It("answers TIMEOUT at the deadline while other sockets keep being served", func() {
			slow := dial("ann")
			other := dial("bob")
			start := time.Now()
			done := make(chan error, 1)
			go func() {
				a, err := slow.EmitWithAck(ctxT(), "slow")
				if err == nil {
					err = sockettest.DecodeAck(a, nil)
				}
				done <- err
			}()
			Expect(ack(other, "fast")).To(Succeed(), "no gap for the other client")
			Eventually(done).Should(Receive(MatchError(&sockettest.AckError{Code: "TIMEOUT", Message: "the handler did not finish within 150ms"})))
			Expect(time.Since(start)).To(BeNumerically("<", time.Second))
			Expect(ack(slow, "fast")).To(Succeed(), "the slow socket keeps working")
		})
	})

	Describe("RateLimit", func() {
		It("answers RATE_LIMITED beyond the burst, per socket, and disconnects the abusive", func() {
			a := dial("ann")
			b := dial("bob")
			var codes []string
			for i := 0; i < 5; i++ {
				if err := ack(a, "limited"); err != nil {
					codes = append(codes, asAckError(err).Code)
				} else {
					codes = append(codes, "ok")
				}
			}
			Expect(codes).To(Equal([]string{"ok", "ok", "ok", "RATE_LIMITED", "RATE_LIMITED"}))
			Expect(ack(b, "limited")).To(Succeed(), "other sockets have their own bucket")
			raw, err := a.EmitWithAck(ctxT(), "limited")
			Expect(err).NotTo(HaveOccurred())
			Expect(raw).To(HaveExactElements(HaveKeyWithValue("error", SatisfyAll(
				HaveKeyWithValue("code", "RATE_LIMITED"), HaveKeyWithValue("message", "too many events, slow down"),
				HaveKeyWithValue("retryAfterMs", BeNumerically(">", 0))))), "when to retry")
			_, err = a.EmitWithAck(ctxT(), "limited")
			Expect(err).To(MatchError(sockettest.ErrClosed), "the 4th rejection in a row disconnects")
			Eventually(a.Done()).Should(BeClosed())
			Expect(b.Connected()).To(BeTrue())
		})
	})

	Describe("Logging", func() {
		It("shares the event's logger with a handler that Timeout left running (race detector)", func() {
			c := dial("ann", "user")
			a, err := c.EmitWithAck(ctxT(), "slowlog")
			Expect(err).NotTo(HaveOccurred())
			Expect(sockettest.DecodeAck(a, nil)).To(MatchError(ContainSubstring("TIMEOUT")))
			Eventually(logs.String).Should(ContainSubstring("late handler logs"))
		})

		It("logs namespace, socket, event, duration and outcome", func() {
			c := dial("ann", "user")
			Expect(ack(c, "fast")).To(Succeed())
			Expect(ack(c, "announce", map[string]any{"text": "x", "level": 1})).To(HaveOccurred())
			Expect(c.Emit("silent")).To(Succeed())
			Eventually(logs.String).Should(And(
				MatchRegexp(`level=INFO msg="socket event" namespace=/stock socket=\S+ event=fast duration=\S+ outcome=ok`),
				MatchRegexp(`event=announce duration=\S+ outcome=FORBIDDEN`),
				MatchRegexp(`level=INFO msg="socket event" namespace=/stock socket=\S+ event=silent duration=\S+ outcome=no_ack`),
			))
		})
	})
})

// asAckError is the error acked by the server, or fails the spec.
func asAckError(err error) *sockettest.AckError {
	var ae *sockettest.AckError
	ExpectWithOffset(1, errors.As(err, &ae)).To(BeTrue(), "not an ack error: %v", err)
	return ae
}
