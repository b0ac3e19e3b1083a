package demo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/cmd/socketfx-demo/internal/demo"
	"github.com/socketfx/socketfx/internal/nodeclient"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"
)

// A page that drives the demo with the browser client the server embeds
// (/socket.io/socket.io.js) and posts what it saw to /__result.
const browserPage = `<!doctype html><html><body><script src="/socket.io/socket.io.js"></script><script>
(async () => {
  const out = {};
  try {
    out.anon = await new Promise((res) => {
      const s = io("/chat", { reconnection: false });
      s.on("connect_error", (e) => { res({ message: e.message, data: e.data }); s.close(); });
    });
    const ann = io("/chat", { auth: { name: "ann" } });
    const bob = io("/chat", { auth: { name: "bob" } });
    await Promise.all([ann, bob].map((s) => new Promise((r) => s.on("connect", r))));
    out.join = await ann.emitWithAck("chat:join", { room: "web" });
    await bob.emitWithAck("chat:join", { room: "web" });
    const relayed = new Promise((r) => bob.on("chat:message", r));
    out.message = await ann.emitWithAck("chat:message", { room: "web", text: "from chromium" });
    out.relayed = await relayed;
    out.empty = await ann.emitWithAck("chat:message", { room: "web", text: "" });
    // The client upgrades polling→websocket by itself (before the drop below).
    if (ann.io.engine.transport.name !== "websocket") await new Promise((r) => ann.io.engine.once("upgrade", r));
    out.transport = ann.io.engine.transport.name;
    const back = new Promise((r) => ann.once("connect", r));
    ann.io.engine.close(); // a dropped connection; the client reconnects by itself
    const missed = new Promise((r) => ann.once("chat:message", r));
    await bob.emitWithAck("chat:message", { room: "web", text: "while you were away" });
    await back;
    out.recovered = ann.recovered;
    out.missed = await missed;
    out.whoami = await ann.emitWithAck("chat:whoami");
    const t = io("/tenant-99");
    out.tenant = await t.emitWithAck("whoami");
    [ann, bob, t].forEach((s) => s.close());
  } catch (e) { out.error = String(e); }
  await fetch("/__result", { method: "POST", body: JSON.stringify(out) });
})();
</script></body></html>`

var _ = Describe("the demo in headless Chromium", func() {
	It("works with the browser client the server embeds", func() {
		browser, err := exec.LookPath("chromium")
		Expect(err).NotTo(HaveOccurred(), "headless Chromium is needed: apt-get install chromium (.ci/run installs it)")

		before := []goleak.Option{goleak.IgnoreCurrent()}
		DeferCleanup(func() { Eventually(func() error { return goleak.Find(before...) }).Should(Succeed()) })

		var (
			mu     sync.Mutex
			result map[string]any
		)
		var h *socketservice.Server
		app := fxtest.New(GinkgoT(),
			demo.Module,
			fx.Supply(demo.Config{Addr: "127.0.0.1:0"}, slog.New(slog.NewTextHandler(GinkgoWriter, nil))),
			fx.Decorate(func(m *http.ServeMux) *http.ServeMux {
				m.HandleFunc("GET /__test.html", func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/html")
					_, _ = io.WriteString(w, browserPage)
				})
				m.HandleFunc("POST /__result", func(w http.ResponseWriter, r *http.Request) {
					var got map[string]any
					_ = json.NewDecoder(r.Body).Decode(&got)
					mu.Lock()
					result = got
					mu.Unlock()
				})
				return m
			}),
			fx.Populate(&h),
			fx.NopLogger,
		)
		app.RequireStart()
		DeferCleanup(app.RequireStop)

		ctx, cancel := context.WithCancel(context.Background())
		profile := GinkgoT().TempDir()
		cmd := exec.CommandContext(ctx, browser,
			"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--disable-dev-shm-usage", "--user-data-dir="+profile, "--remote-debugging-port=0",
			demo.URL(h)+"/__test.html")
		cmd.Stdout, cmd.Stderr = GinkgoWriter, GinkgoWriter
		cmd.Env = append(os.Environ(), "HOME="+profile)
		Expect(cmd.Start()).To(Succeed())
		DeferCleanup(func() { cancel(); _ = cmd.Wait() })

		get := func() map[string]any { mu.Lock(); defer mu.Unlock(); return result }
		Eventually(get, "30s").ShouldNot(BeNil())
		r := get()
		Expect(r).NotTo(HaveKey("error"), fmt.Sprint(r["error"]))
		Expect(r["anon"]).To(Equal(map[string]any{"message": "unauthorized", "data": map[string]any{"code": "UNAUTHORIZED"}}))
		Expect(r["join"]).To(Equal(map[string]any{"status": "ok", "data": map[string]any{"room": "web"}}))
		msg := r["message"].(map[string]any)
		Expect(msg["status"]).To(Equal("ok"))
		Expect(msg["data"]).To(And(HaveKeyWithValue("from", "ann"), HaveKeyWithValue("text", "from chromium"), HaveKey("id")))
		Expect(r["relayed"]).To(Equal(msg["data"]))
		Expect(r["empty"]).To(HaveKeyWithValue("error", HaveKeyWithValue("code", "VALIDATION_PAYLOAD_ERROR")))
		Expect(r["tenant"]).To(Equal(map[string]any{"status": "ok", "data": map[string]any{"namespace": "/tenant-99"}}))
		Expect(r["transport"]).To(Equal("websocket"), "the browser upgraded from polling")
		Expect(r["recovered"]).To(BeTrue(), "the dropped connection was recovered")
		Expect(r["missed"]).To(HaveKeyWithValue("text", "while you were away"))
		Expect(r["whoami"]).To(Equal(map[string]any{"status": "ok", "data": map[string]any{"name": "ann", "rooms": []any{"web"}, "recovered": true}}))
	})
})

var _ = Describe("the demo page's token refresh, in headless Chromium", func() {
	It("keeps a page with a 5 s token connected for 15 s by refreshing it, and ends one that does not refresh with TOKEN_EXPIRED", func() {
		_, err := exec.LookPath("chromium")
		Expect(err).NotTo(HaveOccurred(), "headless Chromium is needed: apt-get install chromium (.ci/run installs it)")
		var h *socketservice.Server
		app := fxtest.New(GinkgoT(), demo.Module,
			fx.Supply(demo.Config{Addr: "127.0.0.1:0"}, slog.New(slog.NewTextHandler(GinkgoWriter, nil))),
			fx.Populate(&h), fx.NopLogger)
		app.RequireStart()
		DeferCleanup(app.RequireStop)

		pages, err := nodeclient.StartScript("demopage.js", demo.URL(h), "5", "15")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(pages.Close)
		Eventually(pages.Reports, "60s").Should(ContainElement(HaveKeyWithValue("type", "closed")), pages.Stderr)
		Expect(pages.Reports()).NotTo(ContainElement(HaveKeyWithValue("type", "driver_error")), func() string { return fmt.Sprint(pages.Reports(), pages.Stderr()) })
		var kept, ended nodeclient.Report
		for _, r := range pages.Find("page", "") {
			if r["refresh"] == true {
				kept = r
			} else {
				ended = r
			}
		}
		Expect(kept).NotTo(BeNil(), fmt.Sprint(pages.Reports()))
		Expect(kept["status"]).To(HavePrefix("connected as ann"), "still connected after 15 s: %v", kept["log"])
		refreshed := 0
		for _, l := range kept["log"].([]any) {
			if strings.HasPrefix(l.(string), "token refreshed") {
				refreshed++
			}
		}
		Expect(refreshed).To(BeNumerically(">=", 3), "a 5 s token, refreshed at half its life: %v", kept["log"])
		Expect(ended).NotTo(BeNil())
		Expect(ended["status"]).To(Equal("disconnected: io server disconnect"))
		Expect(ended["log"]).To(ContainElement("token ended: TOKEN_EXPIRED"))
	})
})
