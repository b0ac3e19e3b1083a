package demo_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/cmd/socketfx-demo/internal/demo"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/redistest"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"
)

var _ = Describe("the demo as a cluster (--redis)", func() {
	It("relays chat between nodes, accepts a token from another node, and reports Redis in /healthz", func() {
		before := []goleak.Option{goleak.IgnoreCurrent()}
		DeferCleanup(func() { Eventually(func() error { return goleak.Find(before...) }).Should(Succeed()) })
		r := redistest.Start(GinkgoT())
		var bases []string
		for i := 0; i < 2; i++ {
			var h *socketservice.Server
			app := fxtest.New(GinkgoT(),
				demo.App(demo.Config{Addr: "127.0.0.1:0", Redis: r.URL(), Secret: "shared-by-the-cluster"}),
				fx.Supply(slog.New(slog.NewTextHandler(GinkgoWriter, nil))),
				fx.Populate(&h),
				fx.NopLogger,
			)
			app.RequireStart()
			DeferCleanup(app.RequireStop)
			bases = append(bases, demo.URL(h))
		}
		health := func(base string) map[string]string {
			res, err := http.Get(base + "/healthz")
			Expect(err).NotTo(HaveOccurred())
			defer res.Body.Close()
			Expect(res.StatusCode).To(Equal(http.StatusOK))
			var body map[string]string
			Expect(json.NewDecoder(res.Body).Decode(&body)).To(Succeed())
			return body
		}
		Expect(health(bases[1])).To(Equal(map[string]string{"status": "ok", "cluster": "ok"}))

		res, err := http.Post(bases[0]+"/api/login", "application/json", bytes.NewBufferString(`{"name":"ann","role":"user"}`))
		Expect(err).NotTo(HaveOccurred())
		var login struct{ Token string }
		Expect(json.NewDecoder(res.Body).Decode(&login)).To(Succeed())
		res.Body.Close()

		ann, err := sockettest.Connect(ctxT(), bases[1], "/chat", sockettest.WithAuth(map[string]any{"token": login.Token}))
		Expect(err).NotTo(HaveOccurred(), "a token from node 0 works on node 1")
		defer ann.Close()
		bob, err := sockettest.Connect(ctxT(), bases[0], "/chat", sockettest.WithAuth(map[string]any{"name": "bob"}))
		Expect(err).NotTo(HaveOccurred())
		defer bob.Close()
		Expect(bob.Call(ctxT(), "chat:join", demo.JoinRequest{Room: "go"}, nil)).To(Succeed())
		Expect(ann.Call(ctxT(), "chat:join", demo.JoinRequest{Room: "go"}, nil)).To(Succeed())
		Expect(ann.Call(ctxT(), "chat:message", demo.MessageRequest{Room: "go", Text: "across"}, nil)).To(Succeed())
		Eventually(bob).Should(sockettest.ReceiveEvent("chat:message", HaveKeyWithValue("text", "across")))

		r.Stop()
		Eventually(func() string { return health(bases[0])["status"] }).Should(Equal("degraded"))
		res, err = http.Get(bases[0] + "/readyz")
		Expect(err).NotTo(HaveOccurred())
		Expect(res).To(And(HaveHTTPStatus(http.StatusOK), HaveHTTPBody(MatchJSON(`{"status":"degraded"}`))))
		Expect(r.Restart()).To(Succeed())
		Eventually(func() string { return health(bases[0])["status"] }).Should(Equal("ok"))
	})
})
