package testing_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/internal/demo"
	"github.com/socketfx/socketfx/pkg/socketservice"
	. "github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
)

var _ = Describe("the chat service", func() {
	It("relays a message to the rest of the room", func(ctx SpecContext) {
		srv := NewServer(GinkgoT(), socketservice.AsService(demo.NewChat), fx.Provide(demo.NewKeys))
		ann, err := srv.Connect(ctx, "/chat", WithAuth(map[string]any{"name": "ann"}))
		Expect(err).NotTo(HaveOccurred())
		bob, err := srv.Connect(ctx, "/chat", WithAuth(map[string]any{"name": "bob"}))
		Expect(err).NotTo(HaveOccurred())
		Expect(bob.EmitWithAck(ctx, "chat:join", demo.JoinRequest{Room: "go"})).To(HaveAckOK())
		Expect(ann.EmitWithAck(ctx, "chat:message", demo.MessageRequest{Room: "go", Text: "hi"})).To(HaveAckOK(HaveKeyWithValue("from", "ann")))
		Eventually(bob).Should(ReceiveEvent("chat:message", HaveKeyWithValue("text", "hi")))
	}, NodeTimeout(10*time.Second))

	It("refuses strangers and empty messages", func(ctx SpecContext) {
		srv := NewServer(GinkgoT(), socketservice.AsService(demo.NewChat), fx.Provide(demo.NewKeys))
		_, err := srv.Connect(ctx, "/chat")
		Expect(err).To(MatchError(&ConnectError{Message: "unauthorized", Data: map[string]any{"code": "UNAUTHORIZED"}}))
		ann, err := srv.Connect(ctx, "/chat", WithAuth(map[string]any{"name": "ann"}))
		Expect(err).NotTo(HaveOccurred())
		Expect(ann.EmitWithAck(ctx, "chat:message", demo.MessageRequest{Room: "go"})).
			To(HaveAckError("VALIDATION_PAYLOAD_ERROR", "text must not be empty"))
	}, NodeTimeout(10*time.Second))
})
