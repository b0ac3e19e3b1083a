package socketservice_test

import (
	"context"
	"errors"
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

// mw records "<name> before" and "<name> after <code>"; with stop it
// rejects the event before the handler.
func (r *recorder) mw(name string, stop bool) socketservice.Middleware {
	return func(next socketservice.HandlerFunc) socketservice.HandlerFunc {
		return func(ctx context.Context, m *socketservice.Message) (any, error) {
			r.add(name + " before")
			if stop {
				return nil, socketservice.NewError(socketservice.CodeForbidden, name+" says no")
			}
			out, err := next(ctx, m)
			r.add(fmt.Sprintf("%s after %s", name, socketservice.CodeOf(err)))
			return out, err
		}
	}
}

// hook records "<name> hook <code> <out>" after the response.
func (r *recorder) hook(name string) socketservice.AfterHook {
	return func(ctx context.Context, m *socketservice.Message, out any, err error) {
		r.add(fmt.Sprintf("%s hook %s %v", name, socketservice.CodeOf(err), out))
	}
}

type orderService struct {
	rec     *recorder
	ackSeen chan struct{} // closed by the spec once its client has the ack of "audited"
}

func (o orderService) Register(r *socketservice.Router) {
	r.Namespace("/order")
	r.Use(o.rec.mw("service", false))
	r.After(o.rec.hook("service"))
	handler := func(outcome string) socketservice.Handler {
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
	mw := func(stop bool) socketservice.HandlerOption {
		return socketservice.WithMiddleware(o.rec.mw("handler-mw", stop))
	}
	own := socketservice.WithAfter(o.rec.hook("handler"))
	r.Handle("ok", handler("ok"), mw(false), own)
	r.Handle("rejected", handler("ok"), mw(true), own)
	r.Handle("fails", handler("error"), mw(false), own)
	r.Handle("panics", handler("panic"), mw(false), own)
	// A middleware sees and replaces what is inside it: the result of one
	// handler, the error of another.
	replace := socketservice.WithMiddleware(func(next socketservice.HandlerFunc) socketservice.HandlerFunc {
		return func(ctx context.Context, m *socketservice.Message) (any, error) {
			out, err := next(ctx, m)
			if se := (*socketservice.Error)(nil); errors.As(err, &se) && se.Code() == socketservice.CodeNotFound {
				return nil, socketservice.NewError("GONE", "translated: "+se.Message())
			}
			if err == nil {
				return fmt.Sprintf("wrapped(%v)", out), nil
			}
			return out, err
		}
	})
	r.Handle("replaced", handler("ok"), replace)
	r.Handle("translated", handler("error"), replace)
	r.Handle("audited", handler("ok"), socketservice.WithAfter(func(ctx context.Context, m *socketservice.Message, out any, err error) {
		select {
		case <-o.ackSeen:
			o.rec.add("audit hook after the client had its ack")
		case <-ctx.Done():
		}
	}))
}

var _ = Describe("middleware chain", func() {
	var (
		rec     *recorder
		c       *sockettest.Client
		ackSeen chan struct{}
	)
	BeforeEach(func() {
		leakCheck()
		rec = &recorder{}
		ackSeen = make(chan struct{})
		srv := sockettest.NewServer(GinkgoT(),
			socketservice.AsService(func() orderService { return orderService{rec: rec, ackSeen: ackSeen} }),
			fx.Supply(socketservice.GlobalMiddleware{rec.mw("global", false), rec.mw("global-2", false)}),
			fx.Supply(socketservice.GlobalAfterHooks{rec.hook("global")}),
		)
		c = connect(srv, "/order")
	})
	before := []string{"global before", "global-2 before", "service before", "handler-mw before"}
	unwind := func(code string) []string {
		return []string{"handler-mw after " + code, "service after " + code, "global-2 after " + code, "global after " + code}
	}
	hooks := func(code, out string) []string {
		return []string{"handler hook " + code + " " + out, "service hook " + code + " " + out, "global hook " + code + " " + out}
	}
	seq := func(parts ...[]string) []string {
		var all []string
		for _, p := range parts {
			all = append(all, p...)
		}
		return all
	}

	It("runs global → service → handler middleware → handler, unwinds, answers, then runs the after hooks", func() {
		Expect(okData(call(c, "ok"))).To(Equal("done"))
		Eventually(rec.get).Should(Equal(seq(before, []string{"handler"}, unwind(""), hooks("", "done"))))
	})

	It("stops at a rejecting before-middleware, whose error the outer middleware and the hooks see", func() {
		Expect(ackErr(call(c, "rejected"))).To(Equal(map[string]any{"code": "FORBIDDEN", "message": "handler-mw says no"}))
		Eventually(rec.get).Should(Equal(seq(before, unwind("FORBIDDEN")[1:], hooks("FORBIDDEN", "<nil>"))))
	})

	It("hands a handler error out through every middleware before it is answered", func() {
		Expect(ackErr(call(c, "fails"))).To(HaveKeyWithValue("code", "NOT_FOUND"))
		Eventually(rec.get).Should(Equal(seq(before, []string{"handler"}, unwind("NOT_FOUND"), hooks("NOT_FOUND", "<nil>"))))
	})

	It("recovers a handler panic once, outermost: no middleware returns, the hooks see an internal error", func() {
		Expect(ackErr(call(c, "panics"))).To(Equal(map[string]any{"code": "INTERNAL_SERVER_ERROR", "message": "internal server error"}))
		Eventually(rec.get).Should(Equal(seq(before, []string{"handler"}, hooks("INTERNAL_SERVER_ERROR", "<nil>"))))
		Expect(okData(call(c, "ok"))).To(Equal("done"), "the socket keeps working")
	})

	It("answers with what the outermost middleware returns: a replaced result or a translated error", func() {
		Expect(okData(call(c, "replaced"))).To(Equal("wrapped(done)"))
		Expect(ackErr(call(c, "translated"))).To(Equal(map[string]any{"code": "GONE", "message": "translated: nothing here"}))
		Eventually(rec.get).Should(ContainElements("service hook  wrapped(done)", "service hook GONE <nil>"))
	})

	It("runs after hooks once the client has its ack", func() {
		Expect(okData(call(c, "audited"))).To(Equal("done"))
		close(ackSeen)
		Eventually(rec.get).Should(ContainElement("audit hook after the client had its ack"))
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
