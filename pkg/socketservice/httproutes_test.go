package socketservice_test

import (
	"context"
	"encoding/json"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
)

// announce is an HTTP handler that pushes its body to an /echo room.
func announce(srv *socketservice.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Room, Text string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, "bad JSON", http.StatusBadRequest)
			return
		}
		if err := srv.Of("/echo").To(in.Room).Emit("news", in.Text); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
}

var _ = Describe("HTTP on the server's own listener", func() {
	BeforeEach(func() { leakCheck() })
	echoSvc := socketservice.AsService(func() *echo { return newEcho() })

	joined := func(srv *sockettest.Server) *sockettest.Client {
		c := connect(srv, "/echo")
		Expect(okData(call(c, "join", "go"))).To(BeNil())
		return c
	}

	It("serves the app's routes beside Socket.IO (AsHTTPRoute)", func() {
		srv := sockettest.NewServer(GinkgoT(), echoSvc,
			socketservice.AsHTTPRoute(func(srv *socketservice.Server) socketservice.HTTPRoute {
				return socketservice.NewHTTPRoute("POST /announce", announce(srv))
			}),
			socketservice.AsHTTPRoute(func() socketservice.HTTPRoute {
				return socketservice.NewHTTPRoute("GET /hello/{name}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, _ = w.Write([]byte("hello " + r.PathValue("name")))
				}))
			}),
		)
		c := joined(srv)
		Expect(srv.Request(ctxT(), "POST", "/announce", map[string]string{"room": "go", "text": "hi"})).To(HaveHTTPStatus(http.StatusAccepted))
		Eventually(c).Should(sockettest.ReceiveEvent("news", "hi"))
		Expect(srv.Request(ctxT(), "GET", "/hello/ann", nil)).To(HaveHTTPBody("hello ann"))
		Expect(srv.Request(ctxT(), "POST", "/announce", "{")).To(HaveHTTPStatus(http.StatusBadRequest))
		Expect(srv.Request(ctxT(), "GET", "/nowhere", nil)).To(HaveHTTPStatus(http.StatusNotFound))
	})

	It("serves the app's own router in place of its mux (AsHTTPHandler)", func() {
		srv := sockettest.NewServer(GinkgoT(), echoSvc,
			socketservice.AsHTTPHandler(func(srv *socketservice.Server) *http.ServeMux {
				mux := http.NewServeMux()
				mux.Handle("/socket.io/", srv.Handler())
				mux.Handle("POST /announce", announce(srv))
				return mux
			}),
		)
		c := joined(srv)
		Expect(srv.Request(ctxT(), "POST", "/announce", map[string]string{"room": "go", "text": "routed"})).To(HaveHTTPStatus(http.StatusAccepted))
		Eventually(c).Should(sockettest.ReceiveEvent("news", "routed"))
	})

	It("fails the start on routes it cannot serve, saying why", func() {
		start := func(opts ...fx.Option) error {
			app := fx.New(append([]fx.Option{socketservice.Module, echoSvc, fx.NopLogger}, opts...)...)
			if err := app.Err(); err != nil {
				return err
			}
			err := app.Start(context.Background())
			_ = app.Stop(context.Background())
			return err
		}
		route := func(pattern string) fx.Option {
			return socketservice.AsHTTPRoute(func() socketservice.HTTPRoute {
				return socketservice.NewHTTPRoute(pattern, http.NotFoundHandler())
			})
		}
		addr := fx.Supply(socketservice.Config{Addr: "127.0.0.1:0"})
		Expect(start(route("/a"))).To(MatchError(ContainSubstring("Config.Addr is empty")))
		Expect(start(addr, route("/a"), route("/a"))).To(MatchError(And(ContainSubstring(`HTTP route "/a"`), ContainSubstring("conflicts"))))
		Expect(start(addr, route("/socket.io/"))).To(MatchError(ContainSubstring(`HTTP route "/socket.io/"`)))
		Expect(start(addr, route("/a"), socketservice.AsHTTPHandler(func() http.Handler { return http.NotFoundHandler() }))).
			To(MatchError(ContainSubstring("both AsHTTPHandler and AsHTTPRoute")))
		Expect(start(socketservice.AsHTTPHandler(func() int { return 1 }))).To(MatchError(ContainSubstring("AsHTTPHandler wants a constructor of an http.Handler")))
	})
})

var _ = Describe("server-wide counts and live namespaces", func() {
	It("counts every namespace's sockets and lists a pattern's live children", func() {
		leakCheck()
		srv := sockettest.NewServer(GinkgoT(),
			socketservice.AsService(func() *echo { return newEcho() }),
			socketservice.AsService(func() *teams { return &teams{} }),
		)
		connect(srv, "/echo")
		a := connect(srv, "/org/acme/team/1")
		connect(srv, "/org/beta/team/2")
		Expect(srv.Socket.Count()).To(Equal(3))
		Expect(srv.Socket.Children("/org/{org}/team/{team:[0-9]+}")).To(Equal([]string{"/org/acme/team/1", "/org/beta/team/2"}))
		Expect(srv.Socket.Namespaces()).To(ContainElements(
			socketservice.NamespaceStats{Name: "/echo", Sockets: 1},
			socketservice.NamespaceStats{Name: "/org/acme/team/1", Pattern: "/org/{org}/team/{team:[0-9]+}", Sockets: 1},
		))
		Expect(srv.Socket.Of("/echo").ClusterCount(ctxT())).To(Equal(1))

		a.Close()
		Eventually(func() []string { return srv.Socket.Children("/org/{org}/team/{team:[0-9]+}") }).Should(Equal([]string{"/org/beta/team/2"}))
		Expect(srv.Socket.Count()).To(Equal(2))
	})
})
