package demo_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"

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

var _ = Describe("the demo's admin tools", func() {
	var base string
	BeforeEach(func() {
		before := []goleak.Option{goleak.IgnoreCurrent()}
		DeferCleanup(func() { Eventually(func() error { return goleak.Find(before...) }).Should(Succeed()) })
		var h *socketservice.Server
		cfg, err := demo.ConfigFromArgs([]string{"-addr", "127.0.0.1:0", "-admin-password", "hunter2"}, func(string) string { return "" })
		Expect(err).NotTo(HaveOccurred())
		app := fxtest.New(GinkgoT(), demo.App(cfg), fx.Supply(slog.New(slog.NewTextHandler(GinkgoWriter, nil))), fx.Populate(&h), fx.NopLogger)
		app.RequireStart()
		DeferCleanup(app.RequireStop)
		base = demo.URL(h)
	})

	token := func(role string) string {
		res, err := http.Post(base+"/api/login", "application/json", strings.NewReader(fmt.Sprintf(`{"name":"op","role":%q}`, role)))
		Expect(err).NotTo(HaveOccurred())
		defer res.Body.Close()
		var body struct{ Token string }
		Expect(json.NewDecoder(res.Body).Decode(&body)).To(Succeed())
		return body.Token
	}
	do := func(method, path, tok, body string) (int, string) {
		req, err := http.NewRequest(method, base+path, strings.NewReader(body))
		Expect(err).NotTo(HaveOccurred())
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := http.DefaultClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		Expect(err).NotTo(HaveOccurred())
		return res.StatusCode, string(b)
	}

	It("serves the REST API under /admin/api/ to admin tokens only", func() {
		c, err := sockettest.Connect(ctxT(), base, "/chat", sockettest.WithAuth(map[string]any{"name": "gus"}))
		Expect(err).NotTo(HaveOccurred())
		defer c.Close()
		code, body := do("GET", "/admin/api/info?nsp=/chat", "", "")
		Expect(code).To(Equal(http.StatusUnauthorized), body)
		code, _ = do("GET", "/admin/api/info?nsp=/chat", "not-a-token", "")
		Expect(code).To(Equal(http.StatusUnauthorized))
		code, _ = do("GET", "/admin/api/info?nsp=/chat", token("user"), "")
		Expect(code).To(Equal(http.StatusForbidden))
		adm := token("admin")
		code, body = do("GET", "/admin/api/info?nsp=/chat", adm, "")
		Expect(code).To(Equal(http.StatusOK))
		Expect(body).To(ContainSubstring(`"sockets":1`))
		code, body = do("POST", "/admin/api/client/"+c.ID()+"/send?nsp=/chat", adm, `{"event":"ops","data":"hello"}`)
		Expect(code).To(Equal(http.StatusAccepted), body)
		Eventually(c).Should(sockettest.ReceiveEvent("ops", "hello"))
		code, _ = do("POST", "/admin/api/client/"+c.ID()+"/disconnect?nsp=/chat", adm, "")
		Expect(code).To(Equal(http.StatusAccepted))
		Eventually(c.Done()).Should(BeClosed())
	})

	It("serves the Admin UI at /admin/ui/ without CDNs, and its namespace /admin takes user admin with -admin-password", func() {
		res, err := http.Get(base + "/admin/ui/")
		Expect(err).NotTo(HaveOccurred())
		page, err := io.ReadAll(res.Body)
		res.Body.Close()
		Expect(err).NotTo(HaveOccurred())
		Expect(res.StatusCode).To(Equal(http.StatusOK), "run `make client` to embed the Admin UI: %s", page)
		Expect(string(page)).To(ContainSubstring("<title>Socket.IO Admin UI</title>"))
		Expect(string(page)).NotTo(ContainSubstring("https://"), "nothing from a CDN")
		Expect(string(page)).To(ContainSubstring(`href="mdi/css/materialdesignicons.min.css"`))
		res, err = http.Get(base + "/admin/ui/mdi/css/materialdesignicons.min.css")
		Expect(err).NotTo(HaveOccurred())
		res.Body.Close()
		Expect(res.StatusCode).To(Equal(http.StatusOK))

		d, err := nodeclient.Start()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(d.Close)
		for id, pw := range map[string]string{"bad": "socketfx", "good": "hunter2"} {
			d.Send(map[string]any{"op": "connect", "id": id, "url": base + "/admin", "opts": map[string]any{"auth": map[string]any{"username": "admin", "password": pw}}})
		}
		Eventually(func() []nodeclient.Report { return d.Find("connect_error", "bad") }).Should(ConsistOf(HaveKeyWithValue("message", "invalid credentials")))
		Eventually(func() []nodeclient.Report { return d.Events("good") }).Should(ContainElement(HaveKeyWithValue("event", "config")))
	})

	It("works in the real Admin UI in headless Chromium: the server row, the sockets, and a click that disconnects a Node client", func() {
		d, err := nodeclient.Start()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(d.Close)
		d.Send(map[string]any{"op": "connect", "id": "c", "url": base + "/chat", "opts": map[string]any{"auth": map[string]any{"name": "gus"}}})
		d.Send(map[string]any{"op": "connect", "id": "login", "url": base + "/admin", "opts": map[string]any{"auth": map[string]any{"username": "admin", "password": "hunter2"}}})
		Eventually(func() []nodeclient.Report { return d.Find("connect", "c") }).Should(HaveLen(1))
		sid := d.Find("connect", "c")[0]["sid"].(string)
		var session string
		Eventually(func() bool {
			for _, e := range d.Events("login") {
				if e["event"] == "session" {
					session = e["args"].([]any)[0].(string)
					return true
				}
			}
			return false
		}).Should(BeTrue(), "the UI's session, for the browser's localStorage")
		d.Send(map[string]any{"op": "disconnect", "id": "login"})

		dir := os.Getenv("SOCKETFX_ARTIFACTS")
		if dir == "" {
			dir = filepath.Join(nodeclient.Dir(), "..", ".artifacts")
		}
		Expect(os.MkdirAll(dir, 0o750)).To(Succeed())
		shot := filepath.Join(dir, "admin-ui.png")
		host, _ := os.Hostname()
		ui, err := nodeclient.StartScript("adminui.js", base+"/admin/ui/", base, session, fmt.Sprintf("%s#%d", host, os.Getpid()), "/chat", sid, shot)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(ui.Close)
		Eventually(func() []nodeclient.Report { return ui.Reports() }, "60s").Should(ContainElement(HaveKeyWithValue("type", "closed")), ui.Stderr)
		Expect(ui.Reports()).NotTo(ContainElement(HaveKeyWithValue("type", "driver_error")), func() string { return fmt.Sprint(ui.Reports(), ui.Stderr()) })
		Expect(ui.Reports()).To(ContainElements(HaveKeyWithValue("type", "server_row"), HaveKeyWithValue("type", "socket_row"), HaveKeyWithValue("type", "clicked")))
		Expect(shot).To(BeAnExistingFile())
		// The page has two disconnect buttons: the socket's (the client
		// hears "io server disconnect") and its connection's (_disconnect
		// with close: "transport close").
		Eventually(func() []nodeclient.Report { return d.Find("disconnect", "c") }).Should(ConsistOf(
			HaveKeyWithValue("reason", BeElementOf("io server disconnect", "transport close"))))
	})
})
