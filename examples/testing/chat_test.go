package main

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/socketservice"
	. "github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
)

var _ = Describe("the chat service", func() {
	It("relays what is said to the rest of the room", func(ctx SpecContext) {
		srv := NewServer(GinkgoT(), socketservice.AsService(NewChat))
		ann, err := srv.Connect(ctx, "/chat", WithAuth(map[string]any{"name": "ann"}))
		Expect(err).NotTo(HaveOccurred())
		bob, err := srv.Connect(ctx, "/chat", WithAuth(map[string]any{"name": "bob"}))
		Expect(err).NotTo(HaveOccurred())
		Expect(bob.EmitWithAck(ctx, "join", JoinRequest{Room: "go"})).To(HaveAckOK("go"))
		Expect(ann.EmitWithAck(ctx, "say", SayRequest{Room: "go", Text: "hi"})).To(HaveAckOK(HaveKeyWithValue("from", "ann")))
		Eventually(bob).Should(ReceiveEvent("said", HaveKeyWithValue("text", "hi")))
	}, NodeTimeout(10*time.Second))

	It("refuses strangers and empty messages", func(ctx SpecContext) {
		srv := NewServer(GinkgoT(), socketservice.AsService(NewChat))
		_, err := srv.Connect(ctx, "/chat")
		Expect(err).To(MatchError(&ConnectError{Message: "unauthorized", Data: map[string]any{"code": "UNAUTHORIZED"}}))
		ann, err := srv.Connect(ctx, "/chat", WithAuth(map[string]any{"name": "ann"}))
		Expect(err).NotTo(HaveOccurred())
		Expect(ann.EmitWithAck(ctx, "say", SayRequest{Room: "go"})).
			To(HaveAckError("VALIDATION_PAYLOAD_ERROR", "text is required"))
		Expect(ann.EmitWithAck(ctx, "join", JoinRequest{})).
			To(HaveAckError("VALIDATION_PAYLOAD_ERROR", "room is required"))
	}, NodeTimeout(10*time.Second))

	It("keeps the name and rooms in the session across a dropped connection", func(ctx SpecContext) {
		srv := NewServer(GinkgoT(), socketservice.AsService(NewChat),
			fx.Decorate(func(c socketservice.Config) socketservice.Config {
				c.Recovery = &socketservice.RecoveryConfig{MaxDisconnectionDuration: time.Minute}
				return c
			}))
		ann, err := srv.Connect(ctx, "/chat", WithAuth(map[string]any{"name": "ann"}))
		Expect(err).NotTo(HaveOccurred())
		Expect(ann.EmitWithAck(ctx, "join", JoinRequest{Room: "go"})).To(HaveAckOK())
		// A dropped connection, not a clean disconnect; the server sees it go.
		ann.Close()
		Eventually(srv.Socket.Of("/chat").Count).Should(BeZero())
		back, err := ann.Reconnect(ctx)
		Expect(err).NotTo(HaveOccurred())
		Expect(back).To(BeRecovered())
		var me Profile
		Expect(back.Call(ctx, "whoami", nil, &me)).To(Succeed())
		Expect(me).To(Equal(Profile{Name: "ann", Rooms: []string{"go"}}))
	}, NodeTimeout(10*time.Second))
})
