package main

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/session"
	"github.com/socketfx/socketfx/pkg/socketservice"
	. "github.com/socketfx/socketfx/pkg/testing/sockettest"
)

// The same service, one event at a time, without a network.
var _ = Describe("the chat service's handlers", func() {
	It("joins the room it is asked to, and keeps it in the session", func() {
		ev := NewEventContext("/chat", "join")
		Expect(ev.Serve(NewChat(), JoinRequest{Room: "go"})).To(Equal("go"))
		Expect(ev.Rooms()).To(ContainElement("go"))
		Expect(session.Load[Profile](ev.Socket().Session())).To(Equal(Profile{Rooms: []string{"go"}}))
	})

	It("says a message to the rest of the room, from the sender's name", func() {
		ev := NewEventContext("/chat", "say")
		ev.Socket().SetIdentity(socketservice.Identity{Subject: "ann", Name: "Ann"})
		out, err := ev.Serve(NewChat(), map[string]any{"room": "go", "text": "hi"})
		Expect(err).NotTo(HaveOccurred())
		msg := Message{Room: "go", From: "Ann", Text: "hi"}
		Expect(out).To(Equal(msg))
		Expect(ev.Emits()).To(ConsistOf(Emit{Rooms: []string{"go"}, Except: []string{ev.Socket().ID()}, Event: "said", Args: []any{msg}}))
	})
})
