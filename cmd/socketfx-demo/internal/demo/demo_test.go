package demo_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/cmd/socketfx-demo/internal/demo"
	"github.com/socketfx/socketfx/internal/nodeclient"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"
)

func ctxT() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	time.AfterFunc(6*time.Second, cancel)
	return ctx
}

var _ = Describe("the demo's command line", func() {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

	It("reads -drain-delay, or SOCKETFX_DEMO_DRAIN_DELAY, and gives the stop room for it", func() {
		cfg, err := demo.ConfigFromArgs(nil, env(nil))
		Expect(err).NotTo(HaveOccurred())
		Expect(cfg).To(Equal(demo.Config{Addr: ":3000"}))
		Expect(demo.StopTimeout(cfg)).To(Equal(15 * time.Second))

		cfg, err = demo.ConfigFromArgs(nil, env(map[string]string{"SOCKETFX_DEMO_DRAIN_DELAY": "5s", "PORT": "8080"}))
		Expect(err).NotTo(HaveOccurred())
		Expect(cfg.DrainDelay).To(Equal(5 * time.Second))
		Expect(cfg.Addr).To(Equal(":8080"))
		Expect(demo.StopTimeout(cfg)).To(Equal(20 * time.Second))

		cfg, err = demo.ConfigFromArgs([]string{"-drain-delay", "3s", "-addr", "127.0.0.1:0"}, env(map[string]string{"SOCKETFX_DEMO_DRAIN_DELAY": "5s"}))
		Expect(err).NotTo(HaveOccurred())
		Expect(cfg.DrainDelay).To(Equal(3*time.Second), "the flag wins over the environment")

		_, err = demo.ConfigFromArgs(nil, env(map[string]string{"SOCKETFX_DEMO_DRAIN_DELAY": "soon"}))
		Expect(err).To(MatchError(ContainSubstring("SOCKETFX_DEMO_DRAIN_DELAY")))
	})

	It("keeps serving with /readyz at 503 for the drain delay once it stops", func(ctx SpecContext) {
		var h *socketservice.Server
		app := fx.New(demo.Module, fx.NopLogger,
			fx.Supply(demo.Config{Addr: "127.0.0.1:0", DrainDelay: 300 * time.Millisecond}, slog.New(slog.NewTextHandler(GinkgoWriter, nil))),
			fx.Populate(&h))
		Expect(app.Start(ctx)).To(Succeed())
		base := demo.URL(h)
		stopped := make(chan error, 1)
		go func() { stopped <- app.Stop(context.Background()) }()
		Eventually(func() int {
			res, err := http.Get(base + "/readyz")
			if err != nil {
				return 0
			}
			res.Body.Close()
			return res.StatusCode
		}).Should(Equal(http.StatusServiceUnavailable))
		c, err := sockettest.Connect(ctx, base, "/")
		Expect(err).NotTo(HaveOccurred(), "still serving, new connections included, during the delay")
		c.Close()
		Eventually(stopped, 5*time.Second).Should(Receive(BeNil()))
	})
})

var _ = Describe("the demo app", func() {
	var base string
	BeforeEach(func() {
		before := []goleak.Option{goleak.IgnoreCurrent()}
		DeferCleanup(func() { Eventually(func() error { return goleak.Find(before...) }).Should(Succeed()) })
		var h *socketservice.Server
		app := fxtest.New(GinkgoT(),
			demo.Module,
			fx.Supply(demo.Config{Addr: "127.0.0.1:0"}, slog.New(slog.NewTextHandler(GinkgoWriter, nil))),
			fx.Populate(&h),
			fx.NopLogger,
		)
		app.RequireStart()
		DeferCleanup(app.RequireStop)
		base = demo.URL(h)
	})

	get := func(path string) (int, string, string) {
		res, err := http.Get(base + path)
		Expect(err).NotTo(HaveOccurred())
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		Expect(err).NotTo(HaveOccurred())
		return res.StatusCode, res.Header.Get("Content-Type"), string(b)
	}
	post := func(path, body string) int {
		res, err := http.Post(base+path, "application/json", strings.NewReader(body))
		Expect(err).NotTo(HaveOccurred())
		res.Body.Close()
		return res.StatusCode
	}

	It("serves /healthz, /livez, /readyz, the chat page, and the embedded browser client", func() {
		code, _, _ := get("/healthz")
		Expect(code).To(Equal(http.StatusOK))
		code, _, body := get("/readyz?verbose")
		Expect(code).To(Equal(http.StatusOK))
		Expect(body).To(MatchJSON(`{"status":"ok","checks":[{"name":"socket-server","status":"ok"}]}`))
		code, _, _ = get("/livez")
		Expect(code).To(Equal(http.StatusOK))
		code, ctype, body := get("/metrics")
		Expect(code).To(Equal(http.StatusOK))
		Expect(ctype).To(HavePrefix("text/plain"))
		Expect(body).To(ContainSubstring(`socketfx_connections{transport="websocket"} 0`))
		Expect(body).To(ContainSubstring(`socketfx_build_info{`))
		code, ctype, body = get("/")
		Expect(code).To(Equal(http.StatusOK))
		Expect(ctype).To(HavePrefix("text/html"))
		Expect(body).To(ContainSubstring(`<script src="/socket.io/socket.io.js">`))
		code, ctype, body = get("/socket.io/socket.io.js")
		Expect(code).To(Equal(http.StatusOK), "run `make client` to embed the browser client: %s", body)
		Expect(ctype).To(HavePrefix("application/javascript"))
		Expect(body).To(ContainSubstring("Socket.IO"))
		code, _, _ = get("/socket.io/socket.io.min.js")
		Expect(code).To(Equal(http.StatusOK))
		code, ctype, _ = get("/socket.io/socket.io.min.js.map")
		Expect(code).To(Equal(http.StatusOK))
		Expect(ctype).To(HavePrefix("application/json"))
	})

	It("issues tokens of the lifetime asked for, from 1 s to a day", func() {
		Expect(post("/api/login", `{"name":"ann","role":"user","ttl":5}`)).To(Equal(http.StatusOK))
		Expect(post("/api/login", `{"name":"ann","role":"user","ttl":-1}`)).To(Equal(http.StatusBadRequest))
		Expect(post("/api/login", `{"name":"ann","role":"user","ttl":86401}`)).To(Equal(http.StatusBadRequest))
	})

	Describe("with the Go test client", func() {
		It("refuses /chat without a name", func() {
			_, err := sockettest.Connect(ctxT(), base, "/chat")
			Expect(err).To(MatchError(&sockettest.ConnectError{Message: "unauthorized", Data: map[string]any{"code": "UNAUTHORIZED"}}))
		})

		It("joins rooms, acks messages and relays them to the rest of the room", func() {
			ann, err := sockettest.Connect(ctxT(), base, "/chat", sockettest.WithAuth(map[string]any{"name": "ann"}))
			Expect(err).NotTo(HaveOccurred())
			defer ann.Close()
			bob, err := sockettest.Connect(ctxT(), base, "/chat", sockettest.WithAuth(map[string]any{"name": "bob"}))
			Expect(err).NotTo(HaveOccurred())
			defer bob.Close()
			eve, err := sockettest.Connect(ctxT(), base, "/chat", sockettest.WithAuth(map[string]any{"name": "eve"}))
			Expect(err).NotTo(HaveOccurred())
			defer eve.Close()

			var joined demo.JoinReply
			Expect(ann.Call(ctxT(), "chat:join", demo.JoinRequest{Room: "go"}, &joined)).To(Succeed())
			Expect(joined).To(Equal(demo.JoinReply{Room: "go"}))
			Expect(bob.Call(ctxT(), "chat:join", demo.JoinRequest{Room: "go"}, nil)).To(Succeed())

			var sent demo.Message
			Expect(ann.Call(ctxT(), "chat:message", demo.MessageRequest{Room: "go", Text: "hello"}, &sent)).To(Succeed())
			Expect(sent.ID).NotTo(BeEmpty())
			Expect(sent).To(Equal(demo.Message{ID: sent.ID, Room: "go", From: "ann", Text: "hello"}))

			ev, err := bob.Next(ctxT())
			Expect(err).NotTo(HaveOccurred())
			Expect(ev).To(Equal(sockettest.Event{Name: "chat:message", Args: []any{map[string]any{"id": sent.ID, "room": "go", "from": "ann", "text": "hello"}}}))
			Consistently(ann.Events, "100ms").Should(BeEmpty())
			Expect(eve.Events()).To(BeEmpty())
		})

		It("answers an empty message with VALIDATION_PAYLOAD_ERROR", func() {
			ann, err := sockettest.Connect(ctxT(), base, "/chat", sockettest.WithAuth(map[string]any{"name": "ann"}))
			Expect(err).NotTo(HaveOccurred())
			defer ann.Close()
			err = ann.Call(ctxT(), "chat:message", demo.MessageRequest{Room: "go", Text: ""}, nil)
			Expect(err).To(MatchError(&sockettest.AckError{Code: "VALIDATION_PAYLOAD_ERROR", Message: "text must not be empty"}))
			err = ann.Call(ctxT(), "chat:join", map[string]any{"room": 7}, nil)
			var ae *sockettest.AckError
			Expect(errors.As(err, &ae)).To(BeTrue(), "%v", err)
			Expect(ae.Code).To(Equal("VALIDATION_PAYLOAD_ERROR"))
		})

		login := func(name, role string) string {
			res, err := http.Post(base+"/api/login", "application/json", strings.NewReader(fmt.Sprintf(`{"name":%q,"role":%q}`, name, role)))
			Expect(err).NotTo(HaveOccurred())
			defer res.Body.Close()
			Expect(res.StatusCode).To(Equal(http.StatusOK))
			var body struct{ Token string }
			Expect(json.NewDecoder(res.Body).Decode(&body)).To(Succeed())
			return body.Token
		}

		It("logs in with a token; admins announce to everyone, users get FORBIDDEN", func() {
			admin, err := sockettest.Connect(ctxT(), base, "/chat", sockettest.WithAuth(map[string]any{"token": login("root", "admin")}))
			Expect(err).NotTo(HaveOccurred())
			defer admin.Close()
			user, err := sockettest.Connect(ctxT(), base, "/chat", sockettest.WithAuth(map[string]any{"token": login("ann", "user")}))
			Expect(err).NotTo(HaveOccurred())
			defer user.Close()
			guest, err := sockettest.Connect(ctxT(), base, "/chat", sockettest.WithAuth(map[string]any{"name": "gus"}))
			Expect(err).NotTo(HaveOccurred())
			defer guest.Close()

			var a demo.Announcement
			Expect(admin.Call(ctxT(), "admin:announce", demo.AnnounceRequest{Text: "maintenance at 5"}, &a)).To(Succeed())
			Expect(a).To(Equal(demo.Announcement{From: "root", Text: "maintenance at 5"}))
			for _, c := range []*sockettest.Client{admin, user, guest} {
				ev, err := c.Next(ctxT())
				Expect(err).NotTo(HaveOccurred())
				Expect(ev).To(Equal(sockettest.Event{Name: "admin:announce", Args: []any{map[string]any{"from": "root", "text": "maintenance at 5"}}}))
			}
			for _, c := range []*sockettest.Client{user, guest} {
				err := c.Call(ctxT(), "admin:announce", demo.AnnounceRequest{Text: "me too"}, nil)
				var ae *sockettest.AckError
				Expect(errors.As(err, &ae)).To(BeTrue(), "%v", err)
				Expect(ae.Code).To(Equal("FORBIDDEN"))
			}
			err = admin.Call(ctxT(), "admin:announce", demo.AnnounceRequest{Text: ""}, nil)
			Expect(err).To(MatchError(&sockettest.AckError{
				Code: "VALIDATION_PAYLOAD_ERROR", Message: "text is required",
				Details: []map[string]any{{"field": "text", "rule": "required", "message": "text is required"}},
			}))
		})

		It("refuses forged tokens and bad logins", func() {
			_, err := sockettest.Connect(ctxT(), base, "/chat", sockettest.WithAuth(map[string]any{"token": "not-a-jwt"}))
			Expect(err).To(MatchError(&sockettest.ConnectError{Message: "invalid token", Data: map[string]any{"code": "UNAUTHORIZED"}}))
			Expect(post("/api/login", `{"name":"x","role":"root"}`)).To(Equal(http.StatusBadRequest))
			Expect(post("/api/login", `{"name":`)).To(Equal(http.StatusBadRequest))
		})

		It("lets a normal burst of messages through the rate limit", func() {
			ann, err := sockettest.Connect(ctxT(), base, "/chat", sockettest.WithAuth(map[string]any{"name": "ann"}))
			Expect(err).NotTo(HaveOccurred())
			defer ann.Close()
			for i := 0; i < 100; i++ {
				Expect(ann.Call(ctxT(), "chat:message", demo.MessageRequest{Room: "r", Text: fmt.Sprint(i)}, nil)).To(Succeed())
			}
		})

		It("serves dynamic tenant namespaces", func() {
			t, err := sockettest.Connect(ctxT(), base, "/tenant-42")
			Expect(err).NotTo(HaveOccurred())
			defer t.Close()
			var out map[string]string
			Expect(t.Call(ctxT(), "whoami", nil, &out)).To(Succeed())
			Expect(out).To(Equal(map[string]string{"namespace": "/tenant-42"}))
		})

		It("pushes POST /api/notify to a room, and rejects bad JSON", func() {
			ann, err := sockettest.Connect(ctxT(), base, "/chat", sockettest.WithAuth(map[string]any{"name": "ann"}))
			Expect(err).NotTo(HaveOccurred())
			defer ann.Close()
			Expect(ann.Call(ctxT(), "chat:join", demo.JoinRequest{Room: "ops"}, nil)).To(Succeed())
			Expect(post("/api/notify", `{"room":"ops","event":"deploy","data":{"version":"1.2"}}`)).To(Equal(http.StatusAccepted))
			ev, err := ann.Next(ctxT())
			Expect(err).NotTo(HaveOccurred())
			Expect(ev).To(Equal(sockettest.Event{Name: "deploy", Args: []any{map[string]any{"version": "1.2"}}}))
			Expect(post("/api/notify", `{"room":`)).To(Equal(http.StatusBadRequest))
			Expect(post("/api/notify", `{"event":"x"}`)).To(Equal(http.StatusBadRequest))
		})
	})

	Describe("with the official Node client", func() {
		var d *nodeclient.Driver
		BeforeEach(func() {
			var err error
			d, err = nodeclient.Start()
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(d.Close)
		})
		waitFor := func(typ, id string, n int) []nodeclient.Report {
			EventuallyWithOffset(1, func() []nodeclient.Report { return d.Find(typ, id) }).Should(HaveLen(n), func() string {
				return fmt.Sprintf("reports: %v\nstderr: %s", d.Reports(), d.Stderr())
			})
			return d.Find(typ, id)
		}

		It("runs the whole chat flow", func() {
			d.Send(map[string]any{"op": "connect", "id": "anon", "url": base + "/chat"})
			rej := waitFor("connect_error", "anon", 1)[0]
			Expect(rej).To(HaveKeyWithValue("message", "unauthorized"))
			Expect(rej).To(HaveKeyWithValue("data", map[string]any{"code": "UNAUTHORIZED"}))

			for _, who := range []string{"ann", "bob"} {
				d.Send(map[string]any{"op": "connect", "id": who, "url": base + "/chat", "opts": map[string]any{"auth": map[string]any{"name": who}}})
				waitFor("connect", who, 1)
			}
			d.Send(map[string]any{"op": "emit", "id": "ann", "event": "chat:join", "args": []any{map[string]any{"room": "js"}}, "ack": true, "seq": 1})
			d.Send(map[string]any{"op": "emit", "id": "bob", "event": "chat:join", "args": []any{map[string]any{"room": "js"}}, "ack": true, "seq": 2})
			Expect(waitFor("ack", "ann", 1)[0]["args"]).To(Equal([]any{map[string]any{"status": "ok", "data": map[string]any{"room": "js"}}}))
			waitFor("ack", "bob", 1)

			d.Send(map[string]any{"op": "emit", "id": "ann", "event": "chat:message", "args": []any{map[string]any{"room": "js", "text": "hi from node"}}, "ack": true, "seq": 3})
			acks := waitFor("ack", "ann", 2)
			env := acks[1]["args"].([]any)[0].(map[string]any)
			Expect(env).To(HaveKeyWithValue("status", "ok"))
			data := env["data"].(map[string]any)
			Expect(data).To(And(HaveKeyWithValue("room", "js"), HaveKeyWithValue("from", "ann"), HaveKeyWithValue("text", "hi from node"), HaveKey("id")))
			// With connection-state recovery on, the official client also gets
			// the packet's offset as a last argument (as with Node's server).
			Expect(waitFor("event", "bob", 1)[0]).To(And(HaveKeyWithValue("event", "chat:message"),
				HaveKeyWithValue("args", HaveExactElements(data, MatchRegexp(`^[0-9a-f]{8}-[0-9]+$`)))))
			Expect(d.Events("ann")).To(BeEmpty())

			d.Send(map[string]any{"op": "emit", "id": "ann", "event": "chat:message", "args": []any{map[string]any{"room": "js", "text": ""}}, "ack": true, "seq": 4})
			acks = waitFor("ack", "ann", 3)
			Expect(acks[2]["args"].([]any)[0]).To(HaveKeyWithValue("error", HaveKeyWithValue("code", "VALIDATION_PAYLOAD_ERROR")))

			By("keeping user:<name> rooms to <name> (the room policy)")
			d.Send(map[string]any{"op": "emit", "id": "bob", "event": "chat:join", "args": []any{map[string]any{"room": "user:ann"}}, "ack": true, "seq": 40})
			Expect(waitFor("ack", "bob", 2)[1]["args"]).To(Equal([]any{map[string]any{
				"status": "error",
				"error":  map[string]any{"code": "FORBIDDEN", "message": "user:ann is ann's own room"},
			}}))
			d.Send(map[string]any{"op": "emit", "id": "ann", "event": "chat:join", "args": []any{map[string]any{"room": "user:ann"}}, "ack": true, "seq": 41})
			Expect(waitFor("ack", "ann", 4)[3]["args"]).To(Equal([]any{map[string]any{"status": "ok", "data": map[string]any{"room": "user:ann"}}}))

			d.Send(map[string]any{"op": "connect", "id": "t", "url": base + "/tenant-7"})
			waitFor("connect", "t", 1)
			d.Send(map[string]any{"op": "emit", "id": "t", "event": "whoami", "ack": true, "seq": 5})
			Expect(waitFor("ack", "t", 1)[0]["args"]).To(Equal([]any{map[string]any{"status": "ok", "data": map[string]any{"namespace": "/tenant-7"}}}))

			d.Send(map[string]any{"op": "connect", "id": "r", "url": base + "/tenant/acme"})
			waitFor("connect", "r", 1)
			d.Send(map[string]any{"op": "emit", "id": "r", "event": "whoami", "ack": true, "seq": 6})
			Expect(waitFor("ack", "r", 1)[0]["args"]).To(Equal([]any{map[string]any{"status": "ok", "data": map[string]any{"namespace": "/tenant/acme", "id": "acme"}}}))

			Expect(post("/api/notify", `{"room":"js","event":"news","data":[1,2]}`)).To(Equal(http.StatusAccepted))
			Eventually(func() []nodeclient.Report { return d.Events("ann") }).Should(ContainElement(HaveKeyWithValue("args", HaveExactElements([]any{1.0, 2.0}, BeAssignableToTypeOf("offset")))))
			b, _ := json.Marshal(d.Events("ann"))
			Expect(string(b)).To(ContainSubstring(`"news"`))
		})
	})
})
