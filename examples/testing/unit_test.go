package testing_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/internal/demo"
	"github.com/socketfx/socketfx/pkg/socketservice"
	. "github.com/socketfx/socketfx/pkg/testing/sockettest"
)

// The same service, one event at a time, without a network.
var _ = Describe("the chat service's handlers", func() {
	var chat *demo.Chat
	BeforeEach(func() {
		keys, err := demo.NewKeys()
		Expect(err).NotTo(HaveOccurred())
		chat = demo.NewChat(keys)
	})

	It("joins the room it is asked to", func() {
		ev := NewEventContext("/chat", "chat:join")
		Expect(ev.Serve(chat, demo.JoinRequest{Room: "go"})).To(Equal(demo.JoinReply{Room: "go"}))
		Expect(ev.Rooms()).To(ContainElement("go"))
	})

	It("sends a message to the rest of the room, from the sender's name", func() {
		ev := NewEventContext("/chat", "chat:message")
		ev.Socket().SetIdentity(socketservice.Identity{Subject: "ann", Name: "Ann"})
		out, err := ev.Serve(chat, map[string]any{"room": "go", "text": "hi"})
		Expect(err).NotTo(HaveOccurred())
		msg := out.(demo.Message)
		Expect(msg.From).To(Equal("Ann"))
		Expect(ev.Emits()).To(ConsistOf(Emit{Rooms: []string{"go"}, Except: []string{ev.Socket().ID()}, Event: "chat:message", Args: []any{msg}}))
	})
})
