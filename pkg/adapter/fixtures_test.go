package adapter_test

import (
	"context"
	"fmt"

	"github.com/socketfx/socketfx/pkg/adapter"
	"github.com/socketfx/socketfx/pkg/session"
	"github.com/socketfx/socketfx/pkg/socketservice"
)

// room is the service the cluster specs run on every node.
type room struct{ node *adapter.Redis }

type joinIn struct {
	Room string `json:"room"`
}

func newRoom(r *adapter.Redis) *room { return &room{node: r} }

func (s *room) Register(r *socketservice.Router) {
	r.Namespace("/room")
	r.OnConnect(func(ctx context.Context, sock *socketservice.Socket) error {
		if sock.Recovered() {
			return nil
		}
		if name, ok := sock.Handshake().Auth["name"].(string); ok {
			sock.Join("user:" + name)
			sock.Session().Set("name", name)
		}
		return nil
	})
	r.Handle("join", socketservice.Typed(func(ctx context.Context, in joinIn) (string, error) {
		sock, _ := socketservice.SocketFromContext(ctx)
		sock.Join(in.Room)
		return in.Room, session.Update(sock.Session(), func(j *joined) { j.Rooms = append(j.Rooms, in.Room) })
	}))
	r.Handle("whoami", socketservice.Typed0(func(ctx context.Context) (map[string]any, error) {
		sock, _ := socketservice.SocketFromContext(ctx)
		name, _, _ := session.Get[string](sock.Session(), "name")
		j, err := session.Load[joined](sock.Session())
		return map[string]any{"name": name, "joined": j.Rooms, "rooms": sock.Rooms(), "node": s.node.UID()}, err
	}))
	r.OnSessionExpired(func(ctx context.Context, sess *session.Session) { expiredSessions <- sess.ID() })
	r.Handle("ping", socketservice.Typed0(func(ctx context.Context) (string, error) { return "pong", nil }))
	r.OnServerEvent("whoami", func(ctx context.Context, args []any) (any, error) {
		return s.node.UID(), nil
	})
	r.OnServerEvent("fail", func(ctx context.Context, args []any) (any, error) {
		return nil, socketservice.NewError(socketservice.CodeForbidden, "not here")
	})
	r.OnServerEvent("note", func(ctx context.Context, args []any) (any, error) {
		notes <- fmt.Sprintln(args...)
		return nil, nil
	})
}

var (
	notes           = make(chan string, 16)
	expiredSessions = make(chan string, 16)
)

type joined struct {
	Rooms []string `json:"rooms"`
}
