package main

import (
	"context"
	"slices"
	"time"

	"github.com/socketfx/socketfx/pkg/middleware"
	"github.com/socketfx/socketfx/pkg/session"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"go.uber.org/fx"
)

// Chat serves the /chat namespace.
type Chat struct{}

// NewChat returns the chat service.
func NewChat() *Chat { return &Chat{} }

// JoinRequest is the payload of join.
type JoinRequest struct {
	Room string `json:"room" validate:"required"`
}

// SayRequest is the payload of say. An empty room or text is refused
// before the handler runs: the client gets a VALIDATION_PAYLOAD_ERROR ack
// naming the field.
type SayRequest struct {
	Room string `json:"room" validate:"required"`
	Text string `json:"text" validate:"required,max=500"`
}

// Message is what say acks to its sender and sends as "said" to the rest
// of the room.
type Message struct {
	Room string `json:"room"`
	From string `json:"from"`
	Text string `json:"text"`
}

// Profile is what the chat keeps in each socket's session: it survives a
// dropped connection that the client recovers (Config.Recovery).
type Profile struct {
	Name  string   `json:"name"`
	Rooms []string `json:"rooms"`
}

// Register declares the chat's namespace, connection middleware, hook and
// handlers.
func (c *Chat) Register(r *socketservice.Router) {
	r.Namespace("/chat")
	r.UseConnect(socketservice.ConnectGuard(c.authenticate))
	r.OnConnect(c.connect)
	r.Handle("join", socketservice.TypedSocket(c.join))
	r.Handle("say", socketservice.TypedSocket(c.say),
		socketservice.WithMiddleware(middleware.RateLimit(middleware.RateLimitConfig{Rate: 10, Burst: 20})))
	r.Handle("whoami", socketservice.TypedSocket0(c.whoami))
}

// Guest is the auth payload of a chat client: io("/chat", {auth: {name}}).
type Guest struct {
	Name string `json:"name" validate:"required,max=40"`
}

// authenticate refuses a client without auth {name}.
func (c *Chat) authenticate(ctx context.Context, s *socketservice.Socket) error {
	guest, err := socketservice.AuthAs[Guest](s)
	if err != nil {
		return socketservice.NewError(socketservice.CodeUnauthorized, "unauthorized").WithCause(err)
	}
	s.SetIdentity(socketservice.Identity{Subject: guest.Name, Name: guest.Name})
	return nil
}

// connect starts the session's profile; a recovered socket keeps its own.
func (c *Chat) connect(ctx context.Context, s *socketservice.Socket) error {
	if s.Recovered() {
		return nil
	}
	id, _ := s.Identity()
	return session.Update(s.Session(), func(p *Profile) { p.Name = id.Name })
}

func (c *Chat) join(ctx context.Context, s *socketservice.Socket, in JoinRequest) (string, error) {
	s.Join(in.Room)
	return in.Room, session.Update(s.Session(), func(p *Profile) {
		if !slices.Contains(p.Rooms, in.Room) {
			p.Rooms = append(p.Rooms, in.Room)
		}
	})
}

func (c *Chat) say(ctx context.Context, s *socketservice.Socket, in SayRequest) (Message, error) {
	id, _ := s.Identity()
	msg := Message{Room: in.Room, From: id.Name, Text: in.Text}
	return msg, s.To(in.Room).Emit("said", msg)
}

func (c *Chat) whoami(ctx context.Context, s *socketservice.Socket) (Profile, error) {
	return session.Load[Profile](s.Session())
}

func main() {
	fx.New(
		socketservice.Module,
		fx.Supply(socketservice.Config{
			Addr:     ":3000",
			Recovery: &socketservice.RecoveryConfig{MaxDisconnectionDuration: 2 * time.Minute},
		}),
		socketservice.AsService(NewChat),
	).Run()
}
