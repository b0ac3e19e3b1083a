// Package roomsspec is the test every router example runs: the rooms
// service and its HTTP announce, served on one port by that router.
package roomsspec

import (
	"context"
	"net/http"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/examples/routers/rooms"
	. "github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
	"go.uber.org/goleak"
)

// Run starts app on a free port and checks the rooms service and the
// announce route through it.
func Run(t *testing.T, app fx.Option) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	g := NewWithT(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv := NewServer(t, app)
	defer srv.Close()

	_, err := srv.Connect(ctx, "/rooms")
	g.Expect(err).To(MatchError(&ConnectError{Message: "unauthorized", Data: map[string]any{"code": "UNAUTHORIZED"}}))
	ann, err := srv.Connect(ctx, "/rooms", WithAuth(map[string]any{"name": "ann"}))
	g.Expect(err).NotTo(HaveOccurred())
	defer ann.Close()
	bob, err := srv.Connect(ctx, "/rooms", WithAuth(map[string]any{"name": "bob", "role": "user"}))
	g.Expect(err).NotTo(HaveOccurred())
	defer bob.Close()

	g.Expect(ann.EmitWithAck(ctx, "join", "go")).To(HaveAckOK("go"))
	g.Expect(bob.EmitWithAck(ctx, "join", "go")).To(HaveAckOK("go"))
	g.Expect(ann.EmitWithAck(ctx, "say", rooms.Say{Room: "go", Text: "hi"})).To(HaveAckOK(HaveKeyWithValue("from", "ann")))
	g.Eventually(bob).Should(ReceiveEvent("said", HaveKeyWithValue("text", "hi")))
	g.Expect(ann.EmitWithAck(ctx, "say", rooms.Say{Room: "go"})).To(HaveAckError("VALIDATION_PAYLOAD_ERROR", "text is required"))
	g.Expect(bob.EmitWithAck(ctx, "clear", "go")).To(HaveAckError("FORBIDDEN"))

	g.Expect(srv.Request(ctx, "POST", "/announce", rooms.Announce{Room: "go", Text: "deploy at 5"})).To(HaveHTTPStatus(http.StatusAccepted))
	g.Eventually(ann).Should(ReceiveEvent("announcement", "deploy at 5"))
	g.Eventually(bob).Should(ReceiveEvent("announcement", "deploy at 5"))
	g.Expect(srv.Request(ctx, "POST", "/announce", "{")).To(HaveHTTPStatus(http.StatusBadRequest))
	g.Expect(srv.Request(ctx, "GET", "/nowhere", nil)).To(HaveHTTPStatus(http.StatusNotFound))
}
