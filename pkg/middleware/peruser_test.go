package middleware_test

import (
	"context"
	"errors"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/internal/nodeclient"
	"github.com/socketfx/socketfx/pkg/middleware"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/clustertest"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
)

// desk lets each user (auth {name}) hold two sockets.
type desk struct{ local bool }

func (d desk) Register(r *socketservice.Router) {
	r.Namespace("/desk")
	r.UseConnect(socketservice.ConnectGuard(func(ctx context.Context, s *socketservice.Socket) error {
		if name, _ := s.Handshake().Auth["name"].(string); name != "" {
			s.SetIdentity(socketservice.Identity{Subject: name})
		}
		return nil
	}), middleware.SocketsPerUser(middleware.SocketsPerUserConfig{Max: 2, Local: d.local}))
	r.Handle("ping", socketservice.Typed0(func(context.Context) (string, error) { return "pong", nil }))
}

var _ = Describe("SocketsPerUser", func() {
	as := func(name string) sockettest.Option { return sockettest.WithAuth(map[string]any{"name": name}) }

	It("refuses a user's third socket with RATE_LIMITED, with the official Node client, and takes one again after a disconnect", func() {
		leakCheck()
		srv := sockettest.NewServer(GinkgoT(), socketservice.AsService(func() desk { return desk{} }))
		d, err := nodeclient.Start()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(d.Close)
		connect := func(id, name string) {
			d.Send(map[string]any{"op": "connect", "id": id, "url": srv.URL + "/desk", "opts": map[string]any{"auth": map[string]any{"name": name}}})
		}
		connect("a1", "ann")
		Eventually(func() []nodeclient.Report { return d.Find("connect", "a1") }).Should(HaveLen(1))
		connect("a2", "ann")
		Eventually(func() []nodeclient.Report { return d.Find("connect", "a2") }).Should(HaveLen(1))
		connect("a3", "ann")
		Eventually(func() []nodeclient.Report { return d.Find("connect_error", "a3") }).Should(ConsistOf(SatisfyAll(
			HaveKeyWithValue("message", "too many connections for this user"),
			HaveKeyWithValue("data", map[string]any{"code": "RATE_LIMITED", "max": 2.0}))))
		connect("b1", "bob")
		Eventually(func() []nodeclient.Report { return d.Find("connect", "b1") }).Should(HaveLen(1), "another user")

		d.Send(map[string]any{"op": "disconnect", "id": "a1"})
		Eventually(func() error {
			c, err := sockettest.Connect(ctxT(), srv.URL, "/desk", as("ann"))
			if err == nil {
				c.Close()
			}
			return err
		}).Should(Succeed())
	})

	Describe("in a cluster", func() {
		for _, local := range []bool{false, true} {
			It(map[bool]string{false: "counts the sockets of every node", true: "counts this node's with Local"}[local], func() {
				c := clustertest.Start(GinkgoT(), 2, socketservice.AsService(func() desk { return desk{local: local} }))
				c.Ready("/desk", 10*time.Second)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				for i := 0; i < 2; i++ {
					cl, err := c.Connect(ctx, 0, "/desk", as("ann"))
					Expect(err).NotTo(HaveOccurred())
					DeferCleanup(cl.Close)
				}
				cl, err := c.Connect(ctx, 1, "/desk", as("ann"))
				if local {
					Expect(err).NotTo(HaveOccurred())
					cl.Close()
					return
				}
				var ce *sockettest.ConnectError
				Expect(errors.As(err, &ce)).To(BeTrue(), "%v", err)
				Expect(ce.Code()).To(Equal("RATE_LIMITED"))
			})
		}
	})
})
