package middleware_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/socketfx/socketfx/pkg/middleware"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
)

// admin serves one event that only admins may send.
type admin struct{}

func (admin) Register(r *socketservice.Router) {
	r.Namespace("/admin")
	r.Handle("purge", socketservice.Typed0(func(ctx context.Context) (string, error) { return "purged", nil }),
		socketservice.WithMiddleware(middleware.RequireRole("admin")))
}

// A guard on one handler: a user without the role gets FORBIDDEN, an admin
// gets through.
func ExampleRequireRole() {
	ev := sockettest.NewEventContext("/admin", "purge")
	ev.Socket().SetIdentity(socketservice.Identity{Subject: "ann", Roles: []string{"user"}})
	_, err := ev.Serve(admin{})
	fmt.Println(socketservice.CodeOf(err))

	ev = sockettest.NewEventContext("/admin", "purge")
	ev.Socket().SetIdentity(socketservice.Identity{Subject: "bob", Roles: []string{"admin"}})
	out, _ := ev.Serve(admin{})
	fmt.Println(out)
	// Output:
	// FORBIDDEN
	// purged
}

// chatRooms lets clients join rooms, except another user's personal room.
type chatRooms struct{}

func (chatRooms) Register(r *socketservice.Router) {
	r.Namespace("/chat")
	rooms := middleware.Rooms(middleware.RoomsConfig{
		Policy: func(ctx context.Context, s *socketservice.Socket, room string) error {
			owner, personal := strings.CutPrefix(room, "user:")
			if id, _ := s.Identity(); personal && owner != id.Subject {
				return socketservice.NewError(socketservice.CodeForbidden, "not your room")
			}
			return nil
		},
	})
	r.Handle("join", rooms.Join, socketservice.WithErrors(socketservice.CodeForbidden))
	r.Handle("leave", rooms.Leave)
}

// Clients ask to join rooms; the policy decides each one.
func ExampleRooms() {
	ev := sockettest.NewEventContext("/chat", "join")
	ev.Socket().SetIdentity(socketservice.Identity{Subject: "ann"})
	out, _ := ev.Serve(chatRooms{}, map[string]any{"rooms": []string{"lobby", "user:ann", "user:bob"}})
	reply := out.(middleware.RoomsReply)
	fmt.Println(reply.Joined, reply.Refused[0].Room, reply.Refused[0].Error.Code)
	// Output: [lobby user:ann] user:bob FORBIDDEN
}

// tickets authenticates sockets after they connect, for clients that
// cannot set auth in the handshake.
type tickets struct {
	verify func(token string) (socketservice.Identity, error)
}

func (t tickets) Register(r *socketservice.Router) {
	r.Namespace("/tickets")
	middleware.PostConnectAuth(r, middleware.PostConnectAuthConfig{
		Timeout: 5 * time.Second,
		Verify: func(ctx context.Context, s *socketservice.Socket, creds map[string]any) (socketservice.Identity, error) {
			token, _ := creds["token"].(string)
			return t.verify(token)
		},
	})
	r.Handle("tickets:list", socketservice.Typed0(func(ctx context.Context) ([]string, error) {
		return []string{"T-1"}, nil
	}))
}

// Until a socket has authenticated, every other event is UNAUTHORIZED.
func ExamplePostConnectAuth() {
	svc := tickets{verify: middleware.TokenVerifier(middleware.JWTConfig{Secret: []byte("secret")})}
	ev := sockettest.NewEventContext("/tickets", "tickets:list")
	_, err := ev.Serve(svc)
	fmt.Println(socketservice.CodeOf(err))
	// Output: UNAUTHORIZED
}
