// Package rooms is the NestJS-style rooms service the router examples
// share: join a room, say something to it, a guard, validation, and an
// HTTP announce that pushes to a room.
package rooms

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/socketfx/socketfx/pkg/middleware"
	"github.com/socketfx/socketfx/pkg/socketservice"
)

// Rooms serves /rooms.
type Rooms struct{}

// New returns the rooms service.
func New() *Rooms { return &Rooms{} }

// Login is the auth payload: io("/rooms", {auth: {name, role}}).
type Login struct {
	Name string `json:"name" validate:"required,max=40"`
	Role string `json:"role" validate:"omitempty,oneof=user moderator"`
}

// Say is the payload of say.
type Say struct {
	Room string `json:"room" validate:"required"`
	Text string `json:"text" validate:"required,max=500"`
}

// Said is what a room receives.
type Said struct {
	Room string `json:"room"`
	From string `json:"from"`
	Text string `json:"text"`
}

// Register declares the namespace, its connection middleware and handlers.
func (r *Rooms) Register(rt *socketservice.Router) {
	rt.Namespace("/rooms")
	rt.UseConnect(socketservice.ConnectGuard(r.login))
	rt.Handle("join", socketservice.TypedSocket(r.join))
	rt.Handle("say", socketservice.TypedSocket(r.say))
	rt.Handle("clear", socketservice.TypedSocket(r.clear),
		socketservice.WithMiddleware(middleware.RequireRole("moderator")))
}

func (r *Rooms) login(ctx context.Context, s *socketservice.Socket) error {
	in, err := socketservice.AuthAs[Login](s)
	if err != nil {
		return socketservice.NewError(socketservice.CodeUnauthorized, "unauthorized").WithCause(err)
	}
	s.SetIdentity(socketservice.Identity{Subject: in.Name, Name: in.Name, Roles: []string{in.Role}})
	return nil
}

func (r *Rooms) join(ctx context.Context, s *socketservice.Socket, room string) (string, error) {
	s.Join(room)
	return room, nil
}

func (r *Rooms) say(ctx context.Context, s *socketservice.Socket, in Say) (Said, error) {
	id, _ := s.Identity()
	out := Said{Room: in.Room, From: id.Name, Text: in.Text}
	return out, s.To(in.Room).Emit("said", out)
}

func (r *Rooms) clear(ctx context.Context, s *socketservice.Socket, room string) (socketservice.NoReply, error) {
	return socketservice.NoReply{}, s.To(room).Emit("cleared", room)
}

// Announce is the body of POST /announce.
type Announce struct {
	Room string `json:"room"`
	Text string `json:"text"`
}

// AnnounceHandler pushes POST /announce {room, text} to the room as
// "announcement" (202; 400 for a bad body).
func AnnounceHandler(srv *socketservice.Server) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		var in Announce
		if err := json.NewDecoder(req.Body).Decode(&in); err != nil || in.Room == "" {
			http.Error(w, "want {room, text}", http.StatusBadRequest)
			return
		}
		if err := srv.Of("/rooms").To(in.Room).Emit("announcement", in.Text); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}
}
