package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/socketfx/socketfx/pkg/middleware"
	"github.com/socketfx/socketfx/pkg/session"
	"github.com/socketfx/socketfx/pkg/socketservice"
)

// Chat serves the /chat namespace. Clients connect with auth {token} (a
// token from POST /api/login) or, as guests, with auth {name}.
type Chat struct {
	auth   socketservice.ConnectMiddleware
	verify func(raw string) (socketservice.Identity, error)
	rooms  middleware.RoomHandlers
}

// NewChat returns the chat service; tokens are checked with keys.
func NewChat(keys *Keys) *Chat {
	jwtCfg := middleware.JWTConfig{Secret: keys.Secret}
	return &Chat{
		auth:   middleware.JWTAuth(jwtCfg),
		verify: middleware.TokenVerifier(jwtCfg),
		rooms:  middleware.Rooms(middleware.RoomsConfig{Policy: personalRooms}),
	}
}

// personalRooms is the chat's room policy: a room named user:<name> is
// <name>'s alone (for messages to that user); any other room is open.
func personalRooms(ctx context.Context, s *socketservice.Socket, room string) error {
	owner, personal := strings.CutPrefix(room, "user:")
	if id, _ := s.Identity(); personal && owner != id.Subject {
		return socketservice.Errorf(socketservice.CodeForbidden, "%s is %s's own room", room, owner)
	}
	return nil
}

// JoinRequest is the payload of chat:join.
type JoinRequest struct {
	Room string `json:"room" validate:"required,max=64"`
}

// Validate rejects a blank room.
func (r JoinRequest) Validate() error {
	if strings.TrimSpace(r.Room) == "" {
		return errors.New("room must not be empty")
	}
	return nil
}

// AnnounceRequest is the payload of admin:announce.
type AnnounceRequest struct {
	Text string `json:"text" validate:"required,max=500"`
}

// Announcement is what admin:announce sends to every socket of /chat.
type Announcement struct {
	From string `json:"from"`
	Text string `json:"text"`
}

// JoinReply is the ack data of chat:join.
type JoinReply struct {
	Room string `json:"room"`
}

// MessageRequest is the payload of chat:message.
type MessageRequest struct {
	Room string `json:"room" validate:"max=64"`
	Text string `json:"text" validate:"max=2000"`
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

// ChatAuth is the handshake auth of /chat: a token from POST /api/login,
// or a guest name.
type ChatAuth struct {
	Token string `json:"token,omitempty" doc:"a token from POST /api/login"`
	Name  string `json:"name,omitempty" doc:"a guest's name, without a token"`
}

// messageSent is the event every socket of a room gets for each message.
const messageSent = socketservice.Event[Message]("chat:message")

// Register declares the chat's namespace, connection middleware, handlers
// and the events it sends (for the contract at /asyncapi.json).
func (c *Chat) Register(r *socketservice.Router) {
	r.Namespace("/chat")
	r.ExpectAuth(ChatAuth{})
	r.Emits(messageSent)
	r.UseConnect(c.authenticate)
	// A token's socket asks for a new token before it expires (guests have
	// none): auth:refresh, acked with the token; auth:expired ends it.
	middleware.TokenRefresh(r, middleware.TokenRefreshConfig{Verify: c.verify, Lead: 10 * time.Second, Grace: 2 * time.Second})
	r.OnConnect(c.connect)
	r.Handle("chat:join", socketservice.TypedSocket(c.join), socketservice.WithErrors(socketservice.CodeForbidden))
	r.Handle("chat:whoami", socketservice.TypedSocket0(c.whoami))
	r.Handle("chat:message", socketservice.TypedSocket(c.message),
		// The demo's limit: 50 messages a second per socket, bursts of 500.
		socketservice.WithMiddleware(middleware.RateLimit(middleware.RateLimitConfig{Rate: 50, Burst: 500})),
		socketservice.WithErrors(socketservice.CodeRateLimited))
	r.Handle("admin:announce", socketservice.Typed(c.announce),
		socketservice.WithMiddleware(middleware.RequireRole("admin")),
		socketservice.WithErrors(socketservice.CodeUnauthorized, socketservice.CodeForbidden),
		socketservice.WithBroadcast("admin:announce"))
}

// authenticate accepts a token from POST /api/login, or a plain guest
// name (role "user"); anything else is refused with "unauthorized".
func (c *Chat) authenticate(next socketservice.ConnectHook) socketservice.ConnectHook {
	withToken := c.auth(next)
	return func(ctx context.Context, s *socketservice.Socket) error {
		auth := s.Handshake().Auth
		if _, ok := auth["token"]; ok {
			return withToken(ctx, s)
		}
		name, _ := auth["name"].(string)
		if strings.TrimSpace(name) == "" {
			return socketservice.NewError(socketservice.CodeUnauthorized, "unauthorized")
		}
		s.SetIdentity(socketservice.Identity{Subject: name, Name: name, Roles: []string{"user"}})
		return next(ctx, s)
	}
}

func displayName(ctx context.Context) string {
	id, _ := socketservice.IdentityFromContext(ctx)
	if id.Name != "" {
		return id.Name
	}
	return id.Subject
}

// announce acks the announcement, which WithBroadcast also sends to every
// socket of /chat, the admin's included.
func (c *Chat) announce(ctx context.Context, in AnnounceRequest) (Announcement, error) {
	return Announcement{From: displayName(ctx), Text: in.Text}, nil
}

// Profile is what the chat keeps in each socket's session: it survives a
// dropped connection that the client recovers (Config.Recovery).
type Profile struct {
	Name  string   `json:"name"`
	Rooms []string `json:"rooms"`
}

// WhoAmI is the ack data of chat:whoami.
type WhoAmI struct {
	Profile
	Recovered bool `json:"recovered"`
}

// connect starts the session's profile; a recovered socket keeps its own.
func (c *Chat) connect(ctx context.Context, s *socketservice.Socket) error {
	if s.Recovered() {
		return nil
	}
	name := displayName(ctx)
	return session.Update(s.Session(), func(p *Profile) { p.Name = name })
}

func (c *Chat) join(ctx context.Context, s *socketservice.Socket, in JoinRequest) (JoinReply, error) {
	if err := c.rooms.Check(ctx, s, in.Room); err != nil {
		return JoinReply{}, err
	}
	s.Join(in.Room)
	err := session.Update(s.Session(), func(p *Profile) {
		if !slices.Contains(p.Rooms, in.Room) {
			p.Rooms = append(p.Rooms, in.Room)
		}
	})
	return JoinReply(in), err
}

func (c *Chat) whoami(ctx context.Context, s *socketservice.Socket) (WhoAmI, error) {
	p, err := session.Load[Profile](s.Session())
	return WhoAmI{Profile: p, Recovered: s.Recovered()}, err
}

func (c *Chat) message(ctx context.Context, s *socketservice.Socket, in MessageRequest) (Message, error) {
	msg := Message{ID: newID(), Room: in.Room, From: displayName(ctx), Text: in.Text}
	if err := messageSent.Emit(s.To(in.Room), msg); err != nil {
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
	r.NamespacePattern(`/tenant-\d+`)
	// At most 1,000 tenants at once; one nobody uses for a minute goes.
	r.LimitChildren(socketservice.ChildLimits{Max: 1000, Idle: time.Minute})
	r.Handle("whoami", socketservice.TypedSocket0(func(ctx context.Context, s *socketservice.Socket) (map[string]string, error) {
		return map[string]string{"namespace": s.Namespace()}, nil
	}))
}

// TenantRoutes serves the route-style namespaces /tenant/{id}.
type TenantRoutes struct{}

// NewTenantRoutes returns the service of /tenant/{id}.
func NewTenantRoutes() *TenantRoutes { return &TenantRoutes{} }

// Register binds the service to /tenant/{id}: /tenant/acme, /tenant/42, …
func (t *TenantRoutes) Register(r *socketservice.Router) {
	r.Namespace("/tenant/{id}")
	r.LimitChildren(socketservice.ChildLimits{Max: 1000, Idle: time.Minute})
	r.Handle("whoami", socketservice.TypedSocket0(t.whoami))
}

// TenantWhoAmI is the ack data of whoami on /tenant/{id}.
type TenantWhoAmI struct {
	Namespace string `json:"namespace"`
	ID        string `json:"id"`
}

func (t *TenantRoutes) whoami(ctx context.Context, s *socketservice.Socket) (TenantWhoAmI, error) {
	return TenantWhoAmI{Namespace: s.Namespace(), ID: s.Param("id")}, nil
}
