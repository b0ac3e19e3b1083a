package admin_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/internal/nodeclient"
	"github.com/socketfx/socketfx/pkg/admin"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/clustertest"
)

var _ = Describe("one Admin UI connection to a mixed cluster (a Node server with instrument() and a socketfx node on Redis)", func() {
	It("lists both servers and the sockets of both", func() {
		c := clustertest.Start(GinkgoT(), 1,
			socketservice.AsService(func() chat { return chat{} }),
			admin.UIModule(admin.WithBasicAuth("admin", passwordHash), admin.WithStatsInterval(200*time.Millisecond), admin.WithServerID("go-node")))
		js, err := nodeclient.StartScript("cluster-server.js", c.Redis.URL(), "/chat", "js-node")
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(js.Close)
		Eventually(func() []nodeclient.Report { return js.Find("listening", "") }).Should(HaveLen(1), func() string {
			return fmt.Sprintf("reports: %v\nstderr: %s", js.Reports(), js.Stderr())
		})
		jsURL := fmt.Sprintf("http://127.0.0.1:%d", int(js.Find("listening", "")[0]["port"].(float64)))
		c.Ready("/chat", 10*time.Second)

		d, err := nodeclient.Start()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(d.Close)
		onJS := connect(d, "on-js", jsURL+"/chat", nil)["sid"].(string)
		onGo := connect(d, "on-go", c.Node(0).URL+"/chat", nil)["sid"].(string)
		login(d, "ui", c.Node(0).URL)

		// instrument() sends its stats every 2 s
		for _, id := range []string{"go-node", "js-node"} {
			Eventually(func() []string {
				var ids []string
				for _, a := range events(d, "ui", "server_stats") {
					ids = append(ids, fmt.Sprint(a[0].(map[string]any)["serverId"]))
				}
				return ids
			}, "10s").Should(ContainElement(id))
		}
		// The first UI's all_sockets was taken at its login, maybe before
		// the socketfx node's adapter counted the Node server (then its
		// fetch does not wait for it): a UI that logs in once both servers
		// report gets the sockets of both.
		login(d, "ui2", c.Node(0).URL)
		all := eventually(d, "ui2", "all_sockets", any1)[0].([]any)
		byID := map[string]map[string]any{}
		for _, s := range all {
			m := s.(map[string]any)
			byID[m["id"].(string)] = m
		}
		Expect(byID).To(HaveKey(onGo))
		Expect(byID).To(HaveKey(onJS), "the Node server's socket, fetched through the adapter")
		Expect(byID[onJS]).To(HaveKeyWithValue("clientId", HaveLen(12)))
		Expect(byID[onJS]).To(HaveKeyWithValue("data", BeEmpty()), "instrument()'s _admin is left out")
		d.Send(map[string]any{"op": "emit", "id": "ui2", "event": "_disconnect", "args": []any{"/chat", false, onJS}})
		Eventually(func() []nodeclient.Report { return d.Find("disconnect", "on-js") }).Should(ConsistOf(HaveKeyWithValue("reason", "io server disconnect")))
	})
})
