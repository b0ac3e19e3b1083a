package socketservice_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/internal/nodeclient"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
)

var _ = Describe("connection limits per client address", func() {
	start := func(l socketservice.ConnLimits) *sockettest.Server {
		leakCheck()
		return sockettest.NewServer(GinkgoT(), socketservice.AsService(newEcho),
			fx.Decorate(func(c socketservice.Config) socketservice.Config { c.Limits = &l; return c }))
	}
	wsURL := func(srv *sockettest.Server) string {
		return "ws" + strings.TrimPrefix(srv.URL, "http") + "/socket.io/?EIO=4&transport=websocket"
	}
	refusal := func(res *http.Response) map[string]any {
		GinkgoHelper()
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		Expect(err).NotTo(HaveOccurred())
		var body map[string]any
		Expect(json.Unmarshal(b, &body)).To(Succeed(), string(b))
		return body
	}

	It("refuses the connection past MaxPerIP with 429, and takes one again once one closes", func(ctx SpecContext) {
		srv := start(socketservice.ConnLimits{MaxPerIP: 3})
		var conns []*websocket.Conn
		for i := 0; i < 3; i++ {
			ws, _, err := websocket.DefaultDialer.DialContext(ctx, wsURL(srv), nil)
			Expect(err).NotTo(HaveOccurred(), "connection %d", i)
			conns = append(conns, ws)
		}
		_, res, err := websocket.DefaultDialer.DialContext(ctx, wsURL(srv), nil)
		Expect(err).To(HaveOccurred())
		Expect(res.StatusCode).To(Equal(http.StatusTooManyRequests))
		Expect(refusal(res)).To(Equal(map[string]any{"code": 4.0, "message": "too many connections from this address", "data": map[string]any{"code": "RATE_LIMITED"}}))

		res, err = http.Get(srv.URL + "/socket.io/?EIO=4&transport=polling")
		Expect(err).NotTo(HaveOccurred())
		Expect(res.StatusCode).To(Equal(http.StatusTooManyRequests), "polling handshakes count too")
		res.Body.Close()

		_ = conns[0].Close()
		Eventually(func() error {
			ws, _, err := websocket.DefaultDialer.DialContext(ctx, wsURL(srv), nil)
			if err == nil {
				conns[0] = ws
			}
			return err
		}).Should(Succeed())
		for _, c := range conns {
			_ = c.Close()
		}
	})

	It("refuses new connections past RatePerIP with 429 and Retry-After, and the official client gets connect_error", func(ctx SpecContext) {
		srv := start(socketservice.ConnLimits{RatePerIP: 0.5, BurstPerIP: 2})
		for i := 0; i < 2; i++ {
			res, err := http.Get(srv.URL + "/socket.io/?EIO=4&transport=polling")
			Expect(err).NotTo(HaveOccurred())
			Expect(res.StatusCode).To(Equal(http.StatusOK), "within the burst")
			res.Body.Close()
		}
		res, err := http.Get(srv.URL + "/socket.io/?EIO=4&transport=polling")
		Expect(err).NotTo(HaveOccurred())
		Expect(res.StatusCode).To(Equal(http.StatusTooManyRequests))
		Expect(res.Header.Get("Retry-After")).To(Equal("2"))
		Expect(refusal(res)["message"]).To(Equal("too many new connections from this address"))

		d, err := nodeclient.Start()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(d.Close)
		d.Send(map[string]any{"op": "connect", "id": "n", "url": srv.URL + "/echo"})
		Eventually(func() []nodeclient.Report { return d.Find("connect_error", "n") }).Should(ConsistOf(HaveKeyWithValue("message", "xhr poll error")))
	})

	It("counts the address a trusted proxy header names", func(ctx SpecContext) {
		srv := start(socketservice.ConnLimits{MaxPerIP: 1, ClientIPHeader: "X-Forwarded-For"})
		dial := func(from string) (*websocket.Conn, *http.Response, error) {
			return websocket.DefaultDialer.DialContext(ctx, wsURL(srv), http.Header{"X-Forwarded-For": {"203.0.113.9, " + from}})
		}
		a, _, err := dial("198.51.100.1")
		Expect(err).NotTo(HaveOccurred())
		defer a.Close()
		b, _, err := dial("198.51.100.2")
		Expect(err).NotTo(HaveOccurred(), "another client behind the proxy")
		defer b.Close()
		_, res, err := dial("198.51.100.1")
		Expect(err).To(HaveOccurred())
		Expect(res.StatusCode).To(Equal(http.StatusTooManyRequests))
		res.Body.Close()
	})

	It("reads the client address as documented", func() {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = "[::ffff:10.0.0.1]:5000"
		Expect(socketservice.ClientIP(r, "")).To(Equal("10.0.0.1"))
		r.Header.Add("X-Forwarded-For", "1.1.1.1, 2.2.2.2")
		r.Header.Add("X-Forwarded-For", "3.3.3.3")
		Expect(socketservice.ClientIP(r, "X-Forwarded-For")).To(Equal("3.3.3.3"))
		r.Header.Set("X-Real-IP", "garbage")
		Expect(socketservice.ClientIP(r, "X-Real-IP")).To(Equal("10.0.0.1"), "an unparsable header falls back to the peer")
	})

	It("refuses negative limits", func() {
		_, err := socketservice.New(socketservice.Config{Limits: &socketservice.ConnLimits{MaxPerIP: -1}})
		Expect(err).To(MatchError(ContainSubstring("Limits")))
	})
})
