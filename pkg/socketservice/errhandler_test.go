package socketservice_test

import (
	"context"
	"errors"
	"fmt"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
)

var errNoSuchOrder = errors.New("repo: no such order") // a domain error

type orders struct{ rec *recorder }

func (o orders) Register(r *socketservice.Router) {
	r.Namespace("/orders")
	r.UseConnect(func(next socketservice.ConnectHook) socketservice.ConnectHook {
		return func(ctx context.Context, s *socketservice.Socket) error {
			o.rec.add("namespace connect middleware")
			if s.Handshake().Auth["token"] != "secret" {
				return socketservice.NewError(socketservice.CodeUnauthorized, "bad token").WithData("realm", "orders")
			}
			s.Set(userKey{}, "ann")
			err := next(ctx, s)
			o.rec.add(fmt.Sprintf("namespace connect middleware after %q", socketservice.CodeOf(err)))
			return err
		}
	})
	r.OnConnect(func(ctx context.Context, s *socketservice.Socket) error {
		who, _ := s.Get(userKey{})
		o.rec.add("OnConnect " + who.(string))
		if s.Handshake().Query.Get("full") == "1" {
			return socketservice.NewError("FULL", "no seats left")
		}
		return nil
	})
	// Error translation is ordinary middleware.
	r.Use(func(next socketservice.HandlerFunc) socketservice.HandlerFunc {
		return func(ctx context.Context, m *socketservice.Message) (any, error) {
			out, err := next(ctx, m)
			if errors.Is(err, errNoSuchOrder) {
				o.rec.add("service translates")
				return nil, socketservice.NewError(socketservice.CodeNotFound, "no such order").WithCause(err)
			}
			return out, err
		}
	})
	get := socketservice.TypedSocket(func(ctx context.Context, s *socketservice.Socket, id string) (string, error) {
		if id == "crash" {
			return "", errors.New("db down")
		}
		_ = s.Emit("error", map[string]any{"event": "get"})
		return "", errNoSuchOrder
	})
	r.Handle("get", get)
}

type userKey struct{}

var _ = Describe("error translation middleware", func() {
	var (
		rec *recorder
		c   *sockettest.Client
	)
	BeforeEach(func() {
		leakCheck()
		rec = &recorder{}
		srv := sockettest.NewServer(GinkgoT(), socketservice.AsService(func() orders { return orders{rec: rec} }))
		c = connect(srv, "/orders", sockettest.WithAuth(map[string]any{"token": "secret"}))
		rec.reset()
	})

	It("turns a domain error into a client error, after the handler emitted", func() {
		Expect(ackErr(call(c, "get", "7"))).To(Equal(map[string]any{"code": "NOT_FOUND", "message": "no such order"}))
		Expect(rec.get()).To(Equal([]string{"service translates"}))
		ev, err := c.Next(ctxT())
		Expect(err).NotTo(HaveOccurred())
		Expect(ev).To(Equal(sockettest.Event{Name: "error", Args: []any{map[string]any{"event": "get"}}}))
	})

	It("lets errors it does not know through to the default", func() {
		Expect(ackErr(call(c, "get", "crash"))).To(Equal(map[string]any{"code": "INTERNAL_SERVER_ERROR", "message": "internal server error"}))
		Expect(rec.get()).To(BeEmpty())
	})
})

var _ = Describe("connection middleware", func() {
	var (
		rec *recorder
		srv *sockettest.Server
	)
	BeforeEach(func() {
		leakCheck()
		rec = &recorder{}
		srv = sockettest.NewServer(GinkgoT(),
			socketservice.AsService(func() orders { return orders{rec: rec} }),
			fx.Supply(socketservice.GlobalConnectMiddleware{socketservice.ConnectGuard(func(ctx context.Context, s *socketservice.Socket) error {
				rec.add("global connect middleware")
				if s.Handshake().Query.Get("banned") == "1" {
					return socketservice.NewError(socketservice.CodeForbidden, "banned")
				}
				return nil
			})}),
		)
	})

	It("runs global, then namespace middleware around the OnConnect hooks, and may set an identity", func() {
		connect(srv, "/orders", sockettest.WithAuth(map[string]any{"token": "secret"}))
		Expect(rec.get()).To(Equal([]string{"global connect middleware", "namespace connect middleware", "OnConnect ann", `namespace connect middleware after ""`}))
	})

	It("lets the middleware see an OnConnect refusal on its way out", func() {
		_, err := srv.Connect(ctxT(), "/orders", sockettest.WithAuth(map[string]any{"token": "secret"}), sockettest.WithQuery(map[string][]string{"full": {"1"}}))
		Expect(err).To(MatchError(&sockettest.ConnectError{Message: "no seats left", Data: map[string]any{"code": "FULL"}}))
		Expect(rec.get()).To(Equal([]string{"global connect middleware", "namespace connect middleware", "OnConnect ann", `namespace connect middleware after "FULL"`}))
	})

	It("refuses with connect_error data, and the socket never appears", func() {
		_, err := srv.Connect(ctxT(), "/orders", sockettest.WithAuth(map[string]any{"token": "wrong"}))
		Expect(err).To(MatchError(&sockettest.ConnectError{Message: "bad token", Data: map[string]any{"code": "UNAUTHORIZED", "realm": "orders"}}))
		Expect(rec.get()).To(Equal([]string{"global connect middleware", "namespace connect middleware"}))
		Expect(srv.Socket.Of("/orders").Count()).To(BeZero())
	})

	It("stops at the global middleware", func() {
		_, err := srv.Connect(ctxT(), "/orders", sockettest.WithAuth(map[string]any{"token": "secret"}), sockettest.WithQuery(map[string][]string{"banned": {"1"}}))
		Expect(err).To(MatchError(&sockettest.ConnectError{Message: "banned", Data: map[string]any{"code": "FORBIDDEN"}}))
		Expect(rec.get()).To(Equal([]string{"global connect middleware"}))
	})
})
