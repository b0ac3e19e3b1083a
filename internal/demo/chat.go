package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/socketfx/socketfx/pkg/socketservice"
)

// Chat serves the /chat namespace. Clients connect with auth {name}.
type Chat struct{}

// NewChat returns the chat service.
func NewChat() *Chat { return &Chat{} }

type nameKey struct{}

// JoinRequest is the payload of chat:join.
type JoinRequest struct {
	Room string `json:"room"`
}

// Validate rejects an empty room.
func (r JoinRequest) Validate() error {
	if strings.TrimSpace(r.Room) == "" {
		return errors.New("room must not be empty")
	}
	return nil
}

// JoinReply is the ack data of chat:join.
type JoinReply struct {
	Room string `json:"room"`
}

// MessageRequest is the payload of chat:message.
type MessageRequest struct {
	Room string `json:"room"`
	Text string `json:"text"`
}

// Validate rejects an empty room or text.
func (r MessageRequest) Validate() error {
	switch {
	case strings.TrimSpace(r.Room) == "":
		return errors.New("room must not be empty")
	case strings.TrimSpace(r.Text) == "":
		return errors.New("text must not be empty")
	}
	return nil
}

// Message is a chat message as acked to its sender and emitted to the room.
type Message struct {
	ID   string `json:"id"`
	Room string `json:"room"`
	From string `json:"from"`
	Text string `json:"text"`
}

// Register declares the chat's namespace, hook and handlers.
func (c *Chat) Register(r *socketservice.Router) {
	r.Namespace("/chat")
	r.OnConnect(c.connect)
	r.Handle("chat:join", socketservice.Typed(c.join))
	r.Handle("chat:message", socketservice.Typed(c.message))
}

func (c *Chat) connect(ctx context.Context, s *socketservice.Socket) error {
	name, _ := s.Handshake().Auth["name"].(string)
	if strings.TrimSpace(name) == "" {
		return socketservice.NewError(socketservice.CodeUnauthorized, "unauthorized")
	}
	s.Set(nameKey{}, name)
	return nil
}

func (c *Chat) join(ctx context.Context, in JoinRequest) (JoinReply, error) {
	s, _ := socketservice.SocketFromContext(ctx)
	s.Join(in.Room)
	return JoinReply{Room: in.Room}, nil
}

func (c *Chat) message(ctx context.Context, in MessageRequest) (Message, error) {
	s, _ := socketservice.SocketFromContext(ctx)
	name, _ := s.Get(nameKey{})
	msg := Message{ID: newID(), Room: in.Room, From: name.(string), Text: in.Text}
	if err := s.To(in.Room).Emit("chat:message", msg); err != nil {
		return Message{}, err
	}
	return msg, nil
}

func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Tenants serves the dynamic namespaces /tenant-<digits>.
type Tenants struct{}

// NewTenants returns the tenants service.
func NewTenants() *Tenants { return &Tenants{} }

// Register binds the service to every /tenant-<digits> namespace.
func (t *Tenants) Register(r *socketservice.Router) {
	r.NamespacePattern(`^/tenant-\d+$`)
	r.Handle("whoami", socketservice.Typed0(func(ctx context.Context) (map[string]string, error) {
		s, _ := socketservice.SocketFromContext(ctx)
		return map[string]string{"namespace": s.Namespace()}, nil
	}))
}
