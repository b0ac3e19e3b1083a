package middleware

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/socketfx/socketfx/pkg/socketservice"
)

// The codes of the final event of a socket whose token ran out or was
// revoked (TokenRefreshConfig.ExpiredEvent).
const (
	CodeTokenExpired socketservice.Code = "TOKEN_EXPIRED"
	CodeTokenRevoked socketservice.Code = "TOKEN_REVOKED"
)

// TokenRefreshConfig configures TokenRefresh.
type TokenRefreshConfig struct {
	// Verify checks a new token, as at the handshake; required (e.g.
	// TokenVerifier(jwtConfig)).
	Verify func(raw string) (socketservice.Identity, error)
	// Lead is how long before the token's expiry the server asks for a
	// new one; default 30 s, and at most half the token's remaining
	// lifetime (a 5 s token is asked for after 2.5 s).
	Lead time.Duration
	// Grace is how long past the expiry a socket that has not refreshed
	// stays connected (its events refused meanwhile); default 5 s.
	Grace time.Duration
	// Event is the server-to-client request for a new token, an event with
	// an ack; default "auth:refresh". Its payload is
	// {"expiresAt": RFC 3339}; the client acks with the new token (a string
	// or {"token": "…"}).
	Event string
	// ExpiredEvent is the final event before the server disconnects the
	// socket: {"code": "TOKEN_EXPIRED" | "TOKEN_REVOKED", "message": …};
	// default "auth:expired".
	ExpiredEvent string
	// Revoked, when set, is asked at every refresh whether the identity
	// (its token's claims included) has been revoked; true ends the socket
	// with TOKEN_REVOKED. Its error refuses the refresh.
	Revoked func(ctx context.Context, id socketservice.Identity) (bool, error)
	// Expiry reads an identity's expiry; the default reads the "exp"
	// claim JWTAuth keeps. An identity without one is not refreshed.
	Expiry func(id socketservice.Identity) (time.Time, bool)
}

// RefreshRequest is the payload of the refresh event.
type RefreshRequest struct {
	ExpiresAt time.Time `json:"expiresAt"`
}

// TokenEnded is the payload of the final event of a socket whose token ran
// out or was revoked.
type TokenEnded struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// TokenRefresh keeps the token of each live socket of the router's
// namespace current: the checks of JWTAuth run at the handshake only, and a
// socket lives for hours. Register it after the connection middleware that
// sets the identity:
//
//	r.UseConnect(middleware.JWTAuth(jwtConfig))
//	middleware.TokenRefresh(r, middleware.TokenRefreshConfig{Verify: middleware.TokenVerifier(jwtConfig)})
//
// Lead before the token expires, the server emits Event with an ack; the
// client answers with a new token, in three lines:
//
//	socket.on("auth:refresh", async (req, ack) => {
//	  ack(await fetchNewToken());
//	});
//
// A valid token of the same subject extends the socket (its identity takes
// the new claims) and the cycle starts again. A token of another subject,
// an invalid one, a revoked identity or no answer leave the socket to its
// old token: past its expiry its events are refused with TOKEN_EXPIRED,
// and Grace later it gets ExpiredEvent {"code": "TOKEN_EXPIRED"} and is
// disconnected (the client sees "io server disconnect"). Every counted
// socket is in UserRoom(subject), and in TokenRoom(jti) when its token has
// an id, which RevokeUser and RevokeToken use.
func TokenRefresh(r *socketservice.Router, cfg TokenRefreshConfig) {
	if cfg.Verify == nil {
		panic("middleware: TokenRefresh needs Verify")
	}
	if cfg.Lead <= 0 {
		cfg.Lead = 30 * time.Second
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 5 * time.Second
	}
	if cfg.Event == "" {
		cfg.Event = "auth:refresh"
	}
	if cfg.ExpiredEvent == "" {
		cfg.ExpiredEvent = "auth:expired"
	}
	if cfg.Expiry == nil {
		cfg.Expiry = claimExpiry
	}
	tr := &tokenRefresh{cfg: cfg, socks: map[string]*refreshState{}}
	r.Emits(socketservice.Event[RefreshRequest](cfg.Event), socketservice.Event[TokenEnded](cfg.ExpiredEvent))
	r.OnConnect(tr.connect)
	r.OnDisconnect(tr.disconnect)
	r.Use(tr.guard)
}

// TokenRoom is the room of the sockets whose token has the id jti.
func TokenRoom(jti string) string { return "socketfx:token:" + jti }

// RevokeUser ends, on every node of the cluster, the sockets of ns whose
// identity is subject (those TokenRefresh or SocketsPerUser counted): they
// get the final event {"code": "TOKEN_REVOKED"} and are disconnected.
func RevokeUser(ns socketservice.Namespace, subject, event string) error {
	return revoke(ns.To(UserRoom(subject)), event)
}

// RevokeToken is RevokeUser for the sockets of one token (its "jti").
func RevokeToken(ns socketservice.Namespace, jti, event string) error {
	return revoke(ns.To(TokenRoom(jti)), event)
}

func revoke(target socketservice.Namespace, event string) error {
	if event == "" {
		event = "auth:expired"
	}
	if err := target.Emit(event, TokenEnded{Code: string(CodeTokenRevoked), Message: "token revoked"}); err != nil {
		return err
	}
	return target.DisconnectSockets(false)
}

func claimExpiry(id socketservice.Identity) (time.Time, bool) {
	switch exp := id.Claims["exp"].(type) {
	case float64:
		return time.Unix(int64(exp), 0), true
	case int64:
		return time.Unix(exp, 0), true
	case int:
		return time.Unix(int64(exp), 0), true
	}
	return time.Time{}, false
}

type tokenRefresh struct {
	cfg   TokenRefreshConfig
	mu    sync.Mutex
	socks map[string]*refreshState // by socket id
}

type refreshState struct {
	expires time.Time
	timer   *time.Timer
	gone    bool
}

func (tr *tokenRefresh) connect(ctx context.Context, s *socketservice.Socket) error {
	id, ok := s.Identity()
	if !ok {
		return nil
	}
	exp, ok := tr.cfg.Expiry(id)
	if !ok {
		return nil
	}
	tr.rooms(s, id)
	st := &refreshState{}
	tr.mu.Lock()
	tr.socks[s.ID()] = st
	tr.mu.Unlock()
	tr.schedule(s, st, exp)
	return nil
}

func (tr *tokenRefresh) rooms(s *socketservice.Socket, id socketservice.Identity) {
	if id.Subject != "" {
		s.Join(UserRoom(id.Subject))
	}
	if jti, _ := id.Claims["jti"].(string); jti != "" {
		s.Join(TokenRoom(jti))
	}
}

// schedule arms the next step for a socket whose token expires at exp:
// the refresh request, or, past the time for it, the end.
func (tr *tokenRefresh) schedule(s *socketservice.Socket, st *refreshState, exp time.Time) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if st.gone {
		return
	}
	st.expires = exp
	if st.timer != nil {
		st.timer.Stop()
	}
	left := time.Until(exp)
	ask := left - min(tr.cfg.Lead, left/2)
	st.timer = time.AfterFunc(max(ask, 0), func() { tr.refresh(s, st, exp) })
}

// refresh asks the client for a new token and checks it; whatever fails
// leaves the end at exp + Grace.
func (tr *tokenRefresh) refresh(s *socketservice.Socket, st *refreshState, exp time.Time) {
	deadline := exp.Add(tr.cfg.Grace)
	ctx, cancel := context.WithDeadline(s.Context(), deadline)
	defer cancel()
	next, ended, err := tr.ask(ctx, s, exp)
	if err == nil {
		tr.schedule(s, st, next)
		return
	}
	if ended != "" {
		tr.end(s, st, ended, err.Error())
		return
	}
	socketservice.LoggerFromContext(s.Context()).Info("middleware: token refresh failed; the socket ends with its token", "error", err)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if st.gone {
		return
	}
	st.timer = time.AfterFunc(max(time.Until(deadline), 0), func() {
		tr.end(s, st, CodeTokenExpired, "token expired")
	})
}

// ask runs one refresh: the new token's expiry, or why not (ended is set
// when the socket must end at once).
func (tr *tokenRefresh) ask(ctx context.Context, s *socketservice.Socket, exp time.Time) (next time.Time, ended socketservice.Code, err error) {
	args, err := s.EmitWithAck(ctx, tr.cfg.Event, RefreshRequest{ExpiresAt: exp.UTC()})
	if err != nil {
		return time.Time{}, "", err
	}
	raw := tokenArg(args)
	if raw == "" {
		return time.Time{}, "", errors.New("the client answered without a token")
	}
	id, err := tr.cfg.Verify(raw)
	if err != nil {
		return time.Time{}, "", err
	}
	old, _ := s.Identity()
	if id.Subject != old.Subject {
		return time.Time{}, "", errors.New("the new token is another subject's")
	}
	if tr.cfg.Revoked != nil {
		revoked, err := tr.cfg.Revoked(ctx, id)
		if err != nil {
			return time.Time{}, "", err
		}
		if revoked {
			return time.Time{}, CodeTokenRevoked, errors.New("token revoked")
		}
	}
	next, ok := tr.cfg.Expiry(id)
	if !ok {
		return time.Time{}, "", errors.New("the new token has no expiry")
	}
	s.SetIdentity(id)
	tr.rooms(s, id)
	return next, "", nil
}

func tokenArg(args []any) string {
	if len(args) == 0 {
		return ""
	}
	switch v := args[0].(type) {
	case string:
		return v
	case map[string]any:
		t, _ := v["token"].(string)
		return t
	}
	return ""
}

// end sends the final event and disconnects the socket.
func (tr *tokenRefresh) end(s *socketservice.Socket, st *refreshState, code socketservice.Code, message string) {
	tr.mu.Lock()
	gone := st.gone
	st.gone = true
	tr.mu.Unlock()
	if gone {
		return
	}
	socketservice.LoggerFromContext(s.Context()).Info("middleware: socket ended with its token", "code", code)
	_ = s.Emit(tr.cfg.ExpiredEvent, TokenEnded{Code: string(code), Message: message})
	s.Disconnect(false)
}

func (tr *tokenRefresh) disconnect(_ context.Context, s *socketservice.Socket, _ string) {
	tr.mu.Lock()
	st := tr.socks[s.ID()]
	delete(tr.socks, s.ID())
	if st != nil {
		st.gone = true
		if st.timer != nil {
			st.timer.Stop()
		}
	}
	tr.mu.Unlock()
}

// guard refuses the events of a socket whose token has expired.
func (tr *tokenRefresh) guard(next socketservice.HandlerFunc) socketservice.HandlerFunc {
	return func(ctx context.Context, m *socketservice.Message) (any, error) {
		s, ok := socketservice.SocketFromContext(ctx)
		if !ok {
			return next(ctx, m)
		}
		tr.mu.Lock()
		st := tr.socks[s.ID()]
		expired := st != nil && !st.expires.IsZero() && time.Now().After(st.expires)
		tr.mu.Unlock()
		if expired {
			return nil, socketservice.NewError(CodeTokenExpired, "token expired: refresh it")
		}
		return next(ctx, m)
	}
}
