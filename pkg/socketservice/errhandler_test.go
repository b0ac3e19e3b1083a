package socketservice_test

import (
	"context"
	"errors"

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
	r.UseConnect(func(ctx context.Context, s *socketservice.Socket) error {
		o.rec.add("namespace connect middleware")
		if s.Handshake().Auth["token"] != "secret" {
			return socketservice.NewError(socketservice.CodeUnauthorized, "bad token").WithData("realm", "orders")
		}
		s.Set(userKey{}, "ann")
		return nil
	})
	r.OnConnect(func(ctx context.Context, s *socketservice.Socket) error {
		who, _ := s.Get(userKey{})
		o.rec.add("OnConnect " + who.(string))
		return nil
	})
	r.OnError(func(ctx context.Context, err error) error {
		o.rec.add("service OnError")
		if errors.Is(err, errNoSuchOrder) {
			return socketservice.NewError(socketservice.CodeNotFound, "no such order").WithCause(err)
		}
		return err
	})
	get := socketservice.Typed(func(ctx context.Context, id string) (string, error) {
		if id == "crash" {
			return "", errors.New("db down")
		}
		return "", errNoSuchOrder
	})
	r.Handle("get", get, socketservice.WithErrorHandler(func(ctx context.Context, err error) error {
		o.rec.add("handler error handler")
		s, _ := socketservice.SocketFromContext(ctx)
		_ = s.Emit("error", map[string]any{"event": "get"})
		return nil // fall through
	}))
	r.Handle("plain", get)
}

type userKey struct{}

var _ = Describe("error handlers", func() {
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

	It("run the handler's first, then the service's, which translates a domain error", func() {
		Expect(ackErr(call(c, "get", "7"))).To(Equal(map[string]any{"code": "NOT_FOUND", "message": "no such order"}))
		Expect(rec.get()).To(Equal([]string{"handler error handler", "service OnError"}))
		ev, err := c.Next(ctxT())
		Expect(err).NotTo(HaveOccurred())
		Expect(ev).To(Equal(sockettest.Event{Name: "error", Args: []any{map[string]any{"event": "get"}}}))
	})

	It("fall through to the default for errors they do not know", func() {
		Expect(ackErr(call(c, "plain", "crash"))).To(Equal(map[string]any{"code": "INTERNAL_SERVER_ERROR", "message": "internal server error"}))
		Expect(rec.get()).To(Equal([]string{"service OnError"}))
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
			fx.Supply(socketservice.GlobalConnectMiddleware{func(ctx context.Context, s *socketservice.Socket) error {
				rec.add("global connect middleware")
				if s.Handshake().Query.Get("banned") == "1" {
					return socketservice.NewError(socketservice.CodeForbidden, "banned")
				}
				return nil
			}}),
		)
	})

	It("runs global, then namespace middleware, then OnConnect hooks, and may set an identity", func() {
		connect(srv, "/orders", sockettest.WithAuth(map[string]any{"token": "secret"}))
		Expect(rec.get()).To(Equal([]string{"global connect middleware", "namespace connect middleware", "OnConnect ann"}))
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
