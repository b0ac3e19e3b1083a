package health_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/health"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
	"go.uber.org/goleak"
)

// slow serves an event whose handler holds the stop's drain until released.
type slow struct{ started, release chan struct{} }

func (s slow) Register(r *socketservice.Router) {
	r.Namespace("/slow")
	r.Handle("wait", socketservice.Typed0(func(ctx context.Context) (string, error) {
		close(s.started)
		<-s.release
		return "done", nil
	}))
}

func get(h http.Handler, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

var _ = Describe("readiness", func() {
	BeforeEach(func() {
		opts := []goleak.Option{goleak.IgnoreCurrent()}
		DeferCleanup(func() { Eventually(func() error { return goleak.Find(opts...) }).Should(Succeed()) })
	})

	It("is 503 before start, 200 while running, 503 as soon as the stop drains, and livez stays 200", func(ctx SpecContext) {
		s := slow{started: make(chan struct{}), release: make(chan struct{})}
		srv, err := socketservice.New(socketservice.Config{Addr: "127.0.0.1:0"}, socketservice.WithServices(s))
		Expect(err).NotTo(HaveOccurred())
		readyz := health.Readyz(health.ServerCheck(srv))
		rec := get(readyz, "/readyz?verbose")
		Expect(rec.Code).To(Equal(http.StatusServiceUnavailable))
		Expect(rec.Body.String()).To(MatchJSON(`{"status":"unavailable","checks":[{"name":"socket-server","status":"failed","error":"socketservice: server is not running"}]}`))

		Expect(srv.Start(ctx)).To(Succeed())
		Expect(get(readyz, "/readyz")).To(HaveHTTPStatus(http.StatusOK))
		Expect(get(readyz, "/readyz").Body.String()).To(MatchJSON(`{"status":"ok"}`))

		c, err := sockettest.Connect(ctx, "http://"+srv.Addr(), "/slow")
		Expect(err).NotTo(HaveOccurred())
		defer c.Close()
		Expect(c.Emit("wait")).To(Succeed())
		Eventually(s.started).Should(BeClosed())
		stopped := make(chan error, 1)
		go func() { stopped <- srv.Stop(context.Background()) }()
		Eventually(func() int { return get(readyz, "/readyz").Code }).Should(Equal(http.StatusServiceUnavailable))
		Expect(stopped).NotTo(Receive(), "the stop should still be draining the handler")
		Expect(get(health.Livez(), "/livez")).To(HaveHTTPStatus(http.StatusOK))
		close(s.release)
		Eventually(stopped).Should(Receive(BeNil()))
	}, NodeTimeout(10*time.Second))

	It("reports degraded with 200 when only a degrading check fails, and unavailable otherwise", func() {
		down := errors.New("connection refused")
		h := health.Readyz(
			health.Check{Name: "redis", Degrades: true, Check: func(context.Context) error { return down }},
			health.Check{Name: "db", Check: func(context.Context) error { return nil }},
		)
		rec := get(h, "/readyz?verbose")
		Expect(rec.Code).To(Equal(http.StatusOK))
		Expect(rec.Body.String()).To(MatchJSON(`{"status":"degraded","checks":[{"name":"db","status":"ok"},{"name":"redis","status":"degraded","error":"connection refused"}]}`))

		h = health.Readyz(health.Check{Name: "db", Check: func(context.Context) error { return down }})
		Expect(get(h, "/readyz")).To(HaveHTTPStatus(http.StatusServiceUnavailable))
	})

	It("serves /livez and /readyz on the socket server's listener with Module, checks from the group included", func() {
		srv := sockettest.NewServer(GinkgoT(), health.Module,
			health.AsCheck(func() health.Check {
				return health.Check{Name: "cache", Degrades: true, Check: func(context.Context) error { return errors.New("cold") }}
			}),
		)
		Expect(srv.Request(context.Background(), "GET", "/livez", nil)).To(HaveHTTPBody(MatchJSON(`{"status":"ok"}`)))
		Expect(srv.Request(context.Background(), "GET", "/readyz?verbose", nil)).To(And(HaveHTTPStatus(http.StatusOK),
			HaveHTTPBody(MatchJSON(`{"status":"degraded","checks":[{"name":"cache","status":"degraded","error":"cold"},{"name":"socket-server","status":"ok"}]}`))))
	})

	It("is available under fx too", func() {
		Expect(fx.ValidateApp(socketservice.Module, health.Module, fx.NopLogger)).To(Succeed())
	})
})
