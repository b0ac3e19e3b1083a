package socketservice_test

import (
	"context"
	"errors"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
)

// rooms serves /room-<n>, at most two at once, removed 200 ms after their
// last socket left; inits counts the children made.
type roomsSvc struct{ inits chan string }

func (rs roomsSvc) Register(r *socketservice.Router) {
	r.NamespacePattern(`/room-\d+`)
	r.LimitChildren(socketservice.ChildLimits{Max: 2, Idle: 200 * time.Millisecond})
	r.OnInit(func(ctx context.Context, ns socketservice.Namespace) { rs.inits <- ns.Name() })
	r.Handle("ping", socketservice.Typed0(func(context.Context) (string, error) { return "pong", nil }))
}

var _ = Describe("child namespace limits", func() {
	It("refuses a child past Max as an unknown namespace, and removes idle children after Idle", func() {
		leakCheck()
		inits := make(chan string, 16)
		srv := sockettest.NewServer(GinkgoT(), socketservice.AsService(func() roomsSvc { return roomsSvc{inits} }))
		connect := func(ns string) (*sockettest.Client, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			return sockettest.Connect(ctx, srv.URL, ns)
		}
		a, err := connect("/room-1")
		Expect(err).NotTo(HaveOccurred())
		b, err := connect("/room-2")
		Expect(err).NotTo(HaveOccurred())
		defer b.Close()
		_, err = connect("/room-3")
		var ce *sockettest.ConnectError
		Expect(errors.As(err, &ce)).To(BeTrue(), "%v", err)
		Expect(ce.Message).To(Equal("Invalid namespace"))
		Expect(ce.Code()).To(Equal("INVALID_NAMESPACE"))
		again, err := connect("/room-1")
		Expect(err).NotTo(HaveOccurred(), "an existing child takes more sockets")
		again.Close()

		a.Disconnect()
		Eventually(func() error {
			c, err := connect("/room-3")
			if err == nil {
				c.Close()
			}
			return err
		}).Should(Succeed(), "room-1 was removed once idle")
		Expect(inits).To(Receive(Equal("/room-1")))
		Expect(inits).To(Receive(Equal("/room-2")))
		Expect(inits).To(Receive(Equal("/room-3")))

		By("keeping a child that gets a socket back within Idle")
		c, err := connect("/room-2")
		Expect(err).NotTo(HaveOccurred())
		c.Close()
		Consistently(inits, "300ms").ShouldNot(Receive(Equal("/room-2")))
	})

	It("refuses LimitChildren on a fixed namespace", func() {
		srv, err := socketservice.New(socketservice.Config{}, socketservice.WithServices(fixedWithLimits{}))
		Expect(err).NotTo(HaveOccurred())
		Expect(srv.Start(context.Background())).To(MatchError(ContainSubstring("LimitChildren: the namespace is fixed")))
	})
})

type fixedWithLimits struct{}

func (fixedWithLimits) Register(r *socketservice.Router) {
	r.Namespace("/fixed")
	r.LimitChildren(socketservice.ChildLimits{Max: 1})
}
