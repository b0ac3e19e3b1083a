package socketservice_test

import (
	"context"
	"fmt"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
)

// recorder records the order in which middleware and handlers run.
type recorder struct {
	mu    sync.Mutex
	steps []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.steps = append(r.steps, s)
	r.mu.Unlock()
}

func (r *recorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.steps...)
}

func (r *recorder) reset() {
	r.mu.Lock()
	r.steps = nil
	r.mu.Unlock()
}

// mw records "<name> before" and "<name> after <code> sent=<bool>"; with
// stop it rejects the event before the handler.
func (r *recorder) mw(name string, stop bool) socketservice.Middleware {
	return func(next socketservice.HandlerFunc) socketservice.HandlerFunc {
		return func(ctx context.Context, m *socketservice.Message) (any, error) {
			r.add(name + " before")
			if stop {
				return nil, socketservice.NewError(socketservice.CodeForbidden, name+" says no")
			}
			out, err := next(ctx, m)
			r.add(fmt.Sprintf("%s after %s sent=%t", name, socketservice.CodeOf(err), socketservice.ResponseSent(ctx)))
			return out, err
		}
	}
}

type orderService struct{ rec *recorder }

func (o orderService) Register(r *socketservice.Router) {
	r.Namespace("/order")
	r.Use(o.rec.mw("service", false))
	handler := func(outcome string) socketservice.HandlerFunc {
		return socketservice.Typed0(func(ctx context.Context) (string, error) {
			o.rec.add("handler")
			switch outcome {
			case "error":
				return "", socketservice.NewError(socketservice.CodeNotFound, "nothing here")
			case "panic":
				panic("boom")
			}
			return "done", nil
		})
	}
	r.Handle("ok", handler("ok"), socketservice.WithMiddleware(o.rec.mw("handler-mw", false)))
	r.Handle("rejected", handler("ok"), socketservice.WithMiddleware(o.rec.mw("handler-mw", true)))
	r.Handle("fails", handler("error"), socketservice.WithMiddleware(o.rec.mw("handler-mw", false)))
	r.Handle("panics", handler("panic"), socketservice.WithMiddleware(o.rec.mw("handler-mw", false)))
}

var _ = Describe("middleware chain", func() {
	var (
		rec *recorder
		c   *sockettest.Client
	)
	BeforeEach(func() {
		leakCheck()
		rec = &recorder{}
		srv := sockettest.NewServer(GinkgoT(),
			socketservice.AsService(func() orderService { return orderService{rec: rec} }),
			fx.Supply(socketservice.GlobalMiddleware{rec.mw("global", false), rec.mw("global-2", false)}),
		)
		c = connect(srv, "/order")
	})

	It("runs global → service → handler middleware → handler, answers, then unwinds", func() {
		Expect(okData(call(c, "ok"))).To(Equal("done"))
		Eventually(rec.get).Should(Equal([]string{
			"global before", "global-2 before", "service before", "handler-mw before",
			"handler",
			"handler-mw after  sent=true", "service after  sent=true", "global-2 after  sent=true", "global after  sent=true",
		}))
	})

	It("stops at a rejecting before-middleware, whose error is the ack", func() {
		Expect(ackErr(call(c, "rejected"))).To(Equal(map[string]any{"code": "FORBIDDEN", "message": "handler-mw says no"}))
		Eventually(rec.get).Should(Equal([]string{
			"global before", "global-2 before", "service before", "handler-mw before",
			"service after FORBIDDEN sent=false", "global-2 after FORBIDDEN sent=false", "global after FORBIDDEN sent=false",
		}))
	})

	It("answers a handler error before the after-middleware sees it", func() {
		Expect(ackErr(call(c, "fails"))).To(HaveKeyWithValue("code", "NOT_FOUND"))
		Eventually(rec.get).Should(Equal([]string{
			"global before", "global-2 before", "service before", "handler-mw before",
			"handler",
			"handler-mw after NOT_FOUND sent=true", "service after NOT_FOUND sent=true", "global-2 after NOT_FOUND sent=true", "global after NOT_FOUND sent=true",
		}))
	})

	It("turns a handler panic into an internal error the after-middleware sees", func() {
		Expect(ackErr(call(c, "panics"))).To(Equal(map[string]any{"code": "INTERNAL_SERVER_ERROR", "message": "internal server error"}))
		Eventually(rec.get).Should(Equal([]string{
			"global before", "global-2 before", "service before", "handler-mw before",
			"handler",
			"handler-mw after INTERNAL_SERVER_ERROR sent=true", "service after INTERNAL_SERVER_ERROR sent=true",
			"global-2 after INTERNAL_SERVER_ERROR sent=true", "global after INTERNAL_SERVER_ERROR sent=true",
		}))
		Expect(okData(call(c, "ok"))).To(Equal("done"), "the socket keeps working")
	})
})

type user struct{ ID, Name string }

type traceKey struct{}

// converter turns the raw id a client sends into a user before the handler
// (Ts.ED's converter), and puts a trace id in the context.
type converter struct{}

func (converter) Register(r *socketservice.Router) {
	r.Namespace("/convert")
	r.Use(func(next socketservice.HandlerFunc) socketservice.HandlerFunc {
		return func(ctx context.Context, m *socketservice.Message) (any, error) {
			if len(m.Args) == 1 {
				if id, ok := m.Args[0].(string); ok {
					m.Args[0] = user{ID: id, Name: "user-" + id}
				}
			}
			return next(context.WithValue(ctx, traceKey{}, "t-1"), m)
		}
	})
	r.Handle("whois", socketservice.Typed(func(ctx context.Context, u user) (string, error) {
		return u.Name + "@" + ctx.Value(traceKey{}).(string), nil
	}))
}

var _ = Describe("before-middleware", func() {
	It("may replace the arguments with a typed value and add context values", func() {
		leakCheck()
		srv := sockettest.NewServer(GinkgoT(), socketservice.AsService(func() converter { return converter{} }))
		c := connect(srv, "/convert")
		Expect(okData(call(c, "whois", "42"))).To(Equal("user-42@t-1"))
	})
})
