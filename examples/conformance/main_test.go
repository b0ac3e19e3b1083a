package main

import (
	"context"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/internal/nodeclient"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"
)

func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(5 * time.Second)
	RunSpecs(t, "conformance example")
}

var _ = Describe("the conformance app", func() {
	var base string
	ctx := func() context.Context {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		time.AfterFunc(6*time.Second, cancel)
		return c
	}
	BeforeEach(func() {
		before := []goleak.Option{goleak.IgnoreCurrent()}
		DeferCleanup(func() { Eventually(func() error { return goleak.Find(before...) }).Should(Succeed()) })
		var srv *socketservice.Server
		app := fxtest.New(GinkgoT(), Module("127.0.0.1:0"), fx.Populate(&srv), fx.NopLogger)
		app.RequireStart()
		DeferCleanup(app.RequireStop)
		base = "http://" + srv.Addr()
		Expect(srv.Config().PingInterval).To(Equal(300 * time.Millisecond))
	})

	for _, nsp := range []string{"/", "/custom"} {
		It("sends auth, echoes messages and acks on "+nsp, func() {
			c, err := sockettest.Connect(ctx(), base, nsp, sockettest.WithAuth(map[string]any{"token": "abc"}))
			Expect(err).NotTo(HaveOccurred())
			defer c.Close()
			ev, err := c.Next(ctx())
			Expect(err).NotTo(HaveOccurred())
			Expect(ev).To(Equal(sockettest.Event{Name: "auth", Args: []any{map[string]any{"token": "abc"}}}))

			Expect(c.Emit("message", 1, "2", map[string]any{"3": 4.0}, []byte{5, 6})).To(Succeed())
			ev, err = c.Next(ctx())
			Expect(err).NotTo(HaveOccurred())
			Expect(ev).To(Equal(sockettest.Event{Name: "message-back", Args: []any{1.0, "2", map[string]any{"3": 4.0}, []byte{5, 6}}}))

			a, err := c.EmitWithAck(ctx(), "message-with-ack", 1, "2", []byte{3})
			Expect(err).NotTo(HaveOccurred())
			Expect(a).To(Equal([]any{1.0, "2", []byte{3}}))
		})
	}

	It("sends {} as auth when the client sent none, and knows no other namespace", func() {
		c, err := sockettest.Connect(ctx(), base, "/")
		Expect(err).NotTo(HaveOccurred())
		defer c.Close()
		ev, err := c.Next(ctx())
		Expect(err).NotTo(HaveOccurred())
		Expect(ev).To(Equal(sockettest.Event{Name: "auth", Args: []any{map[string]any{}}}))
		_, err = sockettest.Connect(ctx(), base, "/random")
		Expect(err).To(MatchError(&sockettest.ConnectError{Message: "Invalid namespace"}))
	})

	It("works with the official Node client, binary included", func() {
		d, err := nodeclient.Start()
		Expect(err).NotTo(HaveOccurred())
		defer d.Close()
		d.Send(map[string]any{"op": "connect", "id": "a", "url": base + "/custom", "opts": map[string]any{"auth": map[string]any{"x": 1}}})
		Eventually(func() []nodeclient.Report { return d.Events("a") }).Should(ContainElement(And(
			HaveKeyWithValue("event", "auth"), HaveKeyWithValue("args", []any{map[string]any{"x": 1.0}}))))
		d.Send(map[string]any{"op": "emit", "id": "a", "event": "message", "args": []any{"hi", map[string]any{"$binary": "AQI="}}})
		Eventually(func() []nodeclient.Report { return d.Events("a") }).Should(ContainElement(And(
			HaveKeyWithValue("event", "message-back"), HaveKeyWithValue("args", []any{"hi", map[string]any{"$binary": "AQI="}}))))
		d.Send(map[string]any{"op": "emit", "id": "a", "event": "message-with-ack", "args": []any{"x", 2}, "ack": true, "seq": 1})
		Eventually(func() []nodeclient.Report { return d.Find("ack", "a") }).Should(ConsistOf(HaveKeyWithValue("args", []any{"x", 2.0})))
	})
})
