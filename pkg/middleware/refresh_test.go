package middleware_test

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/internal/nodeclient"
	"github.com/socketfx/socketfx/pkg/middleware"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/clustertest"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
)

var vaultJWT = middleware.JWTConfig{Secret: secret}

// vault authenticates with JWTs and keeps them fresh.
type vault struct{}

func (vault) Register(r *socketservice.Router) {
	r.Namespace("/vault")
	r.UseConnect(middleware.JWTAuth(vaultJWT))
	middleware.TokenRefresh(r, middleware.TokenRefreshConfig{
		Verify: middleware.TokenVerifier(vaultJWT), Lead: time.Second, Grace: 700 * time.Millisecond,
	})
	r.Handle("whoami", socketservice.Typed0(func(ctx context.Context) (string, error) {
		id, _ := socketservice.IdentityFromContext(ctx)
		return id.Subject, nil
	}))
}

func jwtFor(subject string, ttl time.Duration) string {
	GinkgoHelper()
	t, err := middleware.IssueToken(secret, socketservice.Identity{Subject: subject}, ttl)
	Expect(err).NotTo(HaveOccurred())
	return t
}

var _ = Describe("TokenRefresh, with the official Node client", func() {
	var (
		d   *nodeclient.Driver
		url string
	)
	BeforeEach(func() { d, url = withNodeClient(func() vault { return vault{} }, "/vault") })
	connect := func(id, tok string) {
		d.Send(map[string]any{"op": "connect", "id": id, "url": url, "opts": map[string]any{"auth": map[string]any{"token": tok}}})
		Eventually(func() []nodeclient.Report { return d.Find("connect", id) }).Should(HaveLen(1), d.Stderr())
	}
	whoami := func(id string, seq int) map[string]any {
		GinkgoHelper()
		d.Send(map[string]any{"op": "emit", "id": id, "event": "whoami", "ack": true, "seq": seq})
		Eventually(func() []nodeclient.Report { return d.Find("ack", id) }).Should(HaveLen(seq))
		return d.Find("ack", id)[seq-1]["args"].([]any)[0].(map[string]any)
	}

	It("asks for a new token before expiry and keeps a socket that answers with one", func() {
		connect("a", jwtFor("ann", 2*time.Second))
		d.Send(map[string]any{"op": "ackreply", "id": "a", "event": "auth:refresh", "args": []any{jwtFor("ann", time.Hour)}})
		Eventually(func() []nodeclient.Report { return d.Events("a") }, "4s").Should(ContainElement(SatisfyAll(
			HaveKeyWithValue("event", "auth:refresh"), HaveKeyWithValue("args", ConsistOf(HaveKey("expiresAt"))))))
		Consistently(func() []nodeclient.Report { return d.Find("disconnect", "a") }, "3500ms").Should(BeEmpty(), "past the first token's expiry and grace")
		Expect(whoami("a", 1)).To(Equal(map[string]any{"status": "ok", "data": "ann"}))
	})

	It("refuses events past the expiry, then sends TOKEN_EXPIRED and disconnects a socket that does not refresh", func() {
		connect("b", jwtFor("bob", 2*time.Second))
		Eventually(func() []nodeclient.Report { return d.Events("b") }, "4s").Should(ContainElement(HaveKeyWithValue("event", "auth:refresh")))
		Eventually(func() any { return whoami("b", len(d.Find("ack", "b"))+1)["error"] }, "3s", "100ms").Should(
			HaveKeyWithValue("code", "TOKEN_EXPIRED"), "refused within the grace")
		Eventually(func() []nodeclient.Report { return d.Find("disconnect", "b") }, "3s").Should(ConsistOf(HaveKeyWithValue("reason", "io server disconnect")))
		Expect(d.Events("b")).To(ContainElement(SatisfyAll(HaveKeyWithValue("event", "auth:expired"),
			HaveKeyWithValue("args", []any{map[string]any{"code": "TOKEN_EXPIRED", "message": "token expired"}}))))
	})

	It("does not extend a socket with another subject's token", func() {
		connect("c", jwtFor("cy", 2*time.Second))
		d.Send(map[string]any{"op": "ackreply", "id": "c", "event": "auth:refresh", "args": []any{map[string]any{"token": jwtFor("eve", time.Hour)}}})
		Eventually(func() []nodeclient.Report { return d.Find("disconnect", "c") }, "5s").Should(HaveLen(1))
		Expect(d.Events("c")).To(ContainElement(HaveKeyWithValue("args", []any{map[string]any{"code": "TOKEN_EXPIRED", "message": "token expired"}})))
	})
})

var _ = Describe("RevokeUser", func() {
	It("ends a user's sockets on every node with TOKEN_REVOKED, and no one else's", func() {
		c := clustertest.Start(GinkgoT(), 2, socketservice.AsService(func() vault { return vault{} }))
		c.Ready("/vault", 10*time.Second)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ann, err := c.Connect(ctx, 1, "/vault", sockettest.WithAuth(map[string]any{"token": jwtFor("ann", time.Hour)}))
		Expect(err).NotTo(HaveOccurred())
		defer ann.Close()
		bob, err := c.Connect(ctx, 1, "/vault", sockettest.WithAuth(map[string]any{"token": jwtFor("bob", time.Hour)}))
		Expect(err).NotTo(HaveOccurred())
		defer bob.Close()

		Expect(middleware.RevokeUser(c.Node(0).Socket.Of("/vault"), "ann", "")).To(Succeed())
		ev, err := ann.WaitFor(ctx, "auth:expired")
		Expect(err).NotTo(HaveOccurred())
		Expect(ev.Args).To(Equal([]any{map[string]any{"code": "TOKEN_REVOKED", "message": "token revoked"}}))
		Eventually(ann.Done()).Should(BeClosed())
		Consistently(bob.Connected, "300ms").Should(BeTrue())
	})
})
