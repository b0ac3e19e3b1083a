package middleware_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/internal/nodeclient"
	"github.com/socketfx/socketfx/pkg/middleware"
	"github.com/socketfx/socketfx/pkg/socketservice"
)

// lobby lets a client join rooms under a policy: "user:<name>" only for
// the socket named <name>, "vip:*" for nobody, at most 3 rooms.
type lobby struct{}

func (lobby) Register(r *socketservice.Router) {
	r.Namespace("/lobby")
	r.UseConnect(socketservice.ConnectGuard(func(ctx context.Context, s *socketservice.Socket) error {
		name, _ := s.Handshake().Auth["name"].(string)
		s.SetIdentity(socketservice.Identity{Subject: name})
		return nil
	}))
	rooms := middleware.Rooms(middleware.RoomsConfig{MaxRooms: 3, Policy: func(ctx context.Context, s *socketservice.Socket, room string) error {
		id, _ := s.Identity()
		switch {
		case strings.HasPrefix(room, "user:") && room != "user:"+id.Subject:
			return socketservice.NewError(socketservice.CodeForbidden, "another user's room")
		case strings.HasPrefix(room, "vip:"):
			return fmt.Errorf("vip rooms are closed")
		}
		return nil
	}})
	r.Handle("join", rooms.Join)
	r.Handle("leave", rooms.Leave)
	r.Handle("say", socketservice.TypedSocket(func(ctx context.Context, s *socketservice.Socket, room string) (socketservice.NoReply, error) {
		return socketservice.NoReply{}, s.To(room).Emit("said", room)
	}))
}

var _ = Describe("Rooms, with the official Node client", func() {
	var (
		d   *nodeclient.Driver
		url string
		seq int
	)
	BeforeEach(func() { d, url = withNodeClient(func() lobby { return lobby{} }, "/lobby") })
	connect := func(name string) {
		d.Send(map[string]any{"op": "connect", "id": name, "url": url, "opts": map[string]any{"auth": map[string]any{"name": name}}})
		Eventually(func() []nodeclient.Report { return d.Find("connect", name) }).Should(HaveLen(1))
	}
	call := func(id, event string, args ...any) map[string]any {
		GinkgoHelper()
		seq++
		n := len(d.Find("ack", id))
		d.Send(map[string]any{"op": "emit", "id": id, "event": event, "args": args, "ack": true, "seq": seq})
		Eventually(func() []nodeclient.Report { return d.Find("ack", id) }).Should(HaveLen(n+1), d.Stderr())
		return d.Find("ack", id)[n]["args"].([]any)[0].(map[string]any)
	}
	rooms := func(r ...string) map[string]any { return map[string]any{"rooms": r} }

	It("joins the rooms the policy allows, says why it refuses the others, and the joined rooms receive", func() {
		connect("ann")
		connect("bob")
		ack := call("ann", "join", rooms("lobby", "user:ann", "user:bob", "vip:1"))
		Expect(ack).To(Equal(map[string]any{"status": "ok", "data": map[string]any{
			"joined": []any{"lobby", "user:ann"},
			"refused": []any{
				map[string]any{"room": "user:bob", "error": map[string]any{"code": "FORBIDDEN", "message": "another user's room"}},
				map[string]any{"room": "vip:1", "error": map[string]any{"code": "FORBIDDEN", "message": "may not join vip:1"}},
			},
		}}))
		Expect(call("bob", "say", "user:ann")["status"]).To(Equal("ok"))
		Eventually(func() []nodeclient.Report { return d.Events("ann") }).Should(ContainElement(HaveKeyWithValue("args", []any{"user:ann"})))

		By("acking the error envelope when every room is refused")
		Expect(call("bob", "join", rooms("user:ann"))).To(Equal(map[string]any{
			"status": "error",
			"error":  map[string]any{"code": "FORBIDDEN", "message": "another user's room"},
		}))

		By("refusing another socket's id, whatever the policy")
		annID := d.Find("connect", "ann")[0]["sid"].(string)
		Expect(call("bob", "join", rooms(annID))["error"]).To(HaveKeyWithValue("code", "FORBIDDEN"))

		By("limiting the rooms of a socket, and refusing a bad request")
		Expect(call("ann", "join", rooms("a", "b"))["data"]).To(HaveKeyWithValue("joined", []any{"a"}))
		Expect(call("ann", "join", rooms("c"))["error"]).To(HaveKeyWithValue("code", "RATE_LIMITED"))
		Expect(call("ann", "join", map[string]any{"rooms": []any{}})["error"]).To(HaveKeyWithValue("code", "VALIDATION_PAYLOAD_ERROR"))
		Expect(call("ann", "join", rooms(" "))["error"]).To(HaveKeyWithValue("code", "VALIDATION_PAYLOAD_ERROR"))

		By("leaving rooms the socket is in, never its own id")
		annSID := d.Find("connect", "ann")[0]["sid"].(string)
		Expect(call("ann", "leave", rooms("lobby", "nowhere", annSID))["data"]).To(Equal(map[string]any{"left": []any{"lobby"}}))
		Expect(call("ann", "join", rooms("c"))["data"]).To(HaveKeyWithValue("joined", []any{"c"}), "room for one more")
	})
})

var _ = Describe("PostConnectAuth, with the official Node client", func() {
	var (
		d   *nodeclient.Driver
		url string
	)
	BeforeEach(func() { d, url = withNodeClient(func() late { return late{} }, "/late") })
	connect := func(id string) {
		d.Send(map[string]any{"op": "connect", "id": id, "url": url})
		Eventually(func() []nodeclient.Report { return d.Find("connect", id) }).Should(HaveLen(1))
	}
	emit := func(id, event string, seq int, args ...any) map[string]any {
		GinkgoHelper()
		d.Send(map[string]any{"op": "emit", "id": id, "event": event, "args": args, "ack": true, "seq": seq})
		Eventually(func() []nodeclient.Report { return d.Find("ack", id) }).Should(HaveLen(seq), d.Stderr())
		return d.Find("ack", id)[seq-1]["args"].([]any)[0].(map[string]any)
	}

	It("refuses events until the socket authenticates, then serves them", func() {
		connect("a")
		Expect(emit("a", "whoami", 1)["error"]).To(HaveKeyWithValue("code", "UNAUTHORIZED"))
		Expect(emit("a", "authenticate", 2, map[string]any{"token": "good:ann"})).To(Equal(map[string]any{"status": "ok", "data": map[string]any{"subject": "ann"}}))
		Eventually(func() []nodeclient.Report { return d.Events("a") }).Should(ContainElement(SatisfyAll(
			HaveKeyWithValue("event", "authenticated"), HaveKeyWithValue("args", []any{map[string]any{"subject": "ann"}}))))
		Expect(emit("a", "whoami", 3)).To(Equal(map[string]any{"status": "ok", "data": "ann"}))
		Expect(emit("a", "authenticate", 4, map[string]any{"token": "good:bob"})["error"]).To(HaveKeyWithValue("code", "FORBIDDEN"))
		Consistently(func() []nodeclient.Report { return d.Find("disconnect", "a") }, "400ms").Should(BeEmpty(), "past the timeout: authenticated")
	})

	It("answers bad credentials with the error ack, then unauthenticated, then disconnects", func() {
		connect("b")
		Expect(emit("b", "authenticate", 1, map[string]any{"token": "bad"})).To(Equal(map[string]any{
			"status": "error",
			"error":  map[string]any{"code": "UNAUTHORIZED", "message": "Invalid token to authenticate! Please login again!"},
		}))
		Eventually(func() []nodeclient.Report { return d.Find("disconnect", "b") }).Should(ConsistOf(HaveKeyWithValue("reason", "io server disconnect")))
		Expect(d.Events("b")).To(ConsistOf(SatisfyAll(HaveKeyWithValue("event", "unauthenticated"),
			HaveKeyWithValue("args", []any{map[string]any{"code": "UNAUTHORIZED", "message": "Invalid token to authenticate! Please login again!"}}))))
	})

	It("disconnects a socket that does not authenticate in time", func() {
		connect("c")
		Eventually(func() []nodeclient.Report { return d.Find("disconnect", "c") }).Should(ConsistOf(HaveKeyWithValue("reason", "io server disconnect")))
		Expect(d.Events("c")).To(ConsistOf(HaveKeyWithValue("args", []any{map[string]any{"code": "UNAUTHORIZED", "message": "authentication timed out"}})))
	})
})

// late authenticates after connect, with tokens "good:<name>".
type late struct{}

func (late) Register(r *socketservice.Router) {
	r.Namespace("/late")
	middleware.PostConnectAuth(r, middleware.PostConnectAuthConfig{
		Timeout: 300 * time.Millisecond,
		Verify: func(ctx context.Context, s *socketservice.Socket, creds map[string]any) (socketservice.Identity, error) {
			tok, _ := creds["token"].(string)
			name, ok := strings.CutPrefix(tok, "good:")
			if !ok {
				return socketservice.Identity{}, socketservice.NewError(socketservice.CodeUnauthorized, "Invalid token to authenticate! Please login again!")
			}
			return socketservice.Identity{Subject: name}, nil
		},
	})
	r.Handle("whoami", socketservice.Typed0(func(ctx context.Context) (string, error) {
		id, _ := socketservice.IdentityFromContext(ctx)
		return id.Subject, nil
	}))
}
