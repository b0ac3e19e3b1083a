package admin

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/socketfx/socketfx/pkg/socketservice"
	"golang.org/x/crypto/bcrypt"
)

// DefaultUINamespace is the namespace the Admin UI connects to unless
// WithUINamespace says otherwise (the Node package's default too).
const DefaultUINamespace = "/admin"

// The Admin UI's features, as the UI names them: the server announces
// those it supports in its config event.
const (
	FeatureEmit             = "EMIT"
	FeatureJoin             = "JOIN"
	FeatureLeave            = "LEAVE"
	FeatureDisconnect       = "DISCONNECT"
	FeatureMJoin            = "MJOIN"
	FeatureMLeave           = "MLEAVE"
	FeatureMDisconnect      = "MDISCONNECT"
	FeatureAggregatedEvents = "AGGREGATED_EVENTS"
	FeatureAllEvents        = "ALL_EVENTS"
)

// InvalidCredentials is the message of a refused Admin UI login; the UI
// recognises exactly this text and shows its login form again.
const InvalidCredentials = "invalid credentials" //nolint:gosec // a message, not a credential

// LoginFunc checks an Admin UI login: the username and password of the
// UI's form. It returns false for wrong credentials; an error refuses the
// login too, and is logged.
type LoginFunc func(ctx context.Context, username, password string) (bool, error)

// UIOption configures a UI (NewUI, UIModule).
type UIOption interface{ applyUI(*uiConfig) }

type uiOptionFunc func(*uiConfig)

func (f uiOptionFunc) applyUI(c *uiConfig) { f(c) }

type uiConfig struct {
	login       LoginFunc
	noAuth      bool
	readOnly    bool
	production  bool
	namespace   string
	serverID    string
	interval    time.Duration
	sessionTTL  time.Duration
	maxSessions int
	queue       int
	log         *slog.Logger
	authErr     error
}

// WithBasicAuth accepts the Admin UI login of username with the password
// whose bcrypt hash is passwordHash, as the Node package's
// auth: {type: "basic"} does (make one with `htpasswd -bnBC 10 "" pw` or
// bcrypt.GenerateFromPassword). NewUI fails for a hash that is not bcrypt.
func WithBasicAuth(username, passwordHash string) UIOption {
	return uiOptionFunc(func(c *uiConfig) {
		hash := []byte(passwordHash)
		if _, err := bcrypt.Cost(hash); err != nil {
			c.authErr = fmt.Errorf("admin: WithBasicAuth: the password must be a bcrypt hash: %w", err)
			return
		}
		c.login = func(_ context.Context, u, p string) (bool, error) {
			userOK := subtle.ConstantTimeCompare([]byte(u), []byte(username)) == 1
			err := bcrypt.CompareHashAndPassword(hash, []byte(p))
			if err != nil && !errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
				return false, err
			}
			return userOK && err == nil, nil
		}
	})
}

// WithLogin checks Admin UI logins with fn (your user store, LDAP, …).
func WithLogin(fn LoginFunc) UIOption {
	return uiOptionFunc(func(c *uiConfig) { c.login = fn })
}

// WithoutAuth lets anyone who reaches the admin namespace in. Only for a
// server nobody else can reach: the UI reads every socket's handshake
// (headers, cookies, tokens) and can disconnect anyone.
func WithoutAuth() UIOption {
	return uiOptionFunc(func(c *uiConfig) { c.noAuth = true })
}

// WithUIReadOnly announces no command (emit, join, leave, disconnect) and
// registers no handler for them: the UI only watches.
func WithUIReadOnly() UIOption {
	return uiOptionFunc(func(c *uiConfig) { c.readOnly = true })
}

// WithProductionMode turns the live stream off: no per-socket and
// per-event reports (socket_connected, event_received, …) and no
// all_sockets list on connect, which cost on every event; the server
// stats and their aggregated counts stay. The Node package's mode
// "production".
func WithProductionMode() UIOption {
	return uiOptionFunc(func(c *uiConfig) { c.production = true })
}

// WithUINamespace serves the UI on namespace instead of DefaultUINamespace.
func WithUINamespace(namespace string) UIOption {
	return uiOptionFunc(func(c *uiConfig) { c.namespace = namespace })
}

// WithServerID names this node in the UI's server list; the default is
// hostname#pid, which tells apart the nodes of one host.
func WithServerID(id string) UIOption {
	return uiOptionFunc(func(c *uiConfig) { c.serverID = id })
}

// WithStatsInterval sets how often the node sends its server_stats
// (default 2 s, the Node package's; the UI marks a server unhealthy after
// 10 s of silence, so keep it well under that).
func WithStatsInterval(d time.Duration) UIOption {
	return uiOptionFunc(func(c *uiConfig) { c.interval = d })
}

// WithSessionTTL sets how long a UI login stays valid for the UI's
// reconnections (default 24 h). Sessions are kept in memory, so a UI that
// reconnects to another node, or after a restart, logs in again.
func WithSessionTTL(d time.Duration) UIOption {
	return uiOptionFunc(func(c *uiConfig) { c.sessionTTL = d })
}

// WithUILogger logs what the UI refuses or drops to log.
func WithUILogger(log *slog.Logger) UIOption {
	return uiOptionFunc(func(c *uiConfig) { c.log = log })
}

// UI is the server side of the official Socket.IO Admin UI
// (@socket.io/admin-ui 0.5): a socket service on the admin namespace and a
// socketservice.Monitor that reports the server's sockets and traffic to
// it. Every report goes to the admin namespace through the adapter, so
// one UI connection sees every node of a cluster, Node servers that call
// instrument() included.
//
// Build one with NewUI and give it to the server as a service and a
// monitor, then Start it with the server (UIModule does all of that under
// fx):
//
//	ui, err := admin.NewUI(admin.WithBasicAuth("admin", hash))
//	srv, err := socketservice.New(cfg, socketservice.WithServices(ui), socketservice.WithMonitors(ui))
//	err = srv.Start(ctx)
//	err = ui.Start(srv)
//	defer ui.Stop()
type UI struct {
	cfg      uiConfig
	features []string
	hostname string
	started  time.Time

	srv       atomic.Pointer[socketservice.Server]
	clustered atomic.Bool
	admins    atomic.Int64 // admin sockets connected to this node
	clients   atomic.Int64 // engine connections
	polling   atomic.Int64 // of which on HTTP long-polling
	dropped   atomic.Uint64

	stats    eventBuffer
	sessions *sessionSet
	queue    chan report

	mu   sync.Mutex
	stop chan struct{}
	done chan struct{}
}

// sessionKey is where the UI keeps its session id between the connection
// middleware and the connect hook.
type sessionKey struct{}

// NewUI builds the Admin UI's server side. It needs an authentication
// choice: WithBasicAuth, WithLogin, or (knowingly) WithoutAuth.
func NewUI(opts ...UIOption) (*UI, error) {
	cfg := uiConfig{
		namespace:   DefaultUINamespace,
		interval:    2 * time.Second,
		sessionTTL:  24 * time.Hour,
		maxSessions: 10_000,
		queue:       4096,
	}
	for _, o := range opts {
		if o != nil {
			o.applyUI(&cfg)
		}
	}
	switch {
	case cfg.authErr != nil:
		return nil, cfg.authErr
	case cfg.login == nil && !cfg.noAuth:
		return nil, errors.New("admin: NewUI needs WithBasicAuth, WithLogin or WithoutAuth: the Admin UI sees every socket's handshake and can disconnect anyone")
	case cfg.login != nil && cfg.noAuth:
		return nil, errors.New("admin: NewUI: WithoutAuth contradicts WithBasicAuth or WithLogin")
	case cfg.interval <= 0 || cfg.sessionTTL <= 0:
		return nil, errors.New("admin: NewUI: the stats interval and session TTL must be positive")
	}
	if cfg.log == nil {
		cfg.log = slog.Default()
	}
	host, _ := os.Hostname()
	if cfg.serverID == "" {
		cfg.serverID = fmt.Sprintf("%s#%d", host, os.Getpid())
	}
	u := &UI{
		cfg:      cfg,
		hostname: host,
		started:  time.Now(),
		sessions: newSessionSet(cfg.maxSessions),
		queue:    make(chan report, cfg.queue),
	}
	if !cfg.readOnly {
		u.features = []string{FeatureEmit, FeatureJoin, FeatureLeave, FeatureDisconnect, FeatureMJoin, FeatureMLeave, FeatureMDisconnect}
	}
	u.features = append(u.features, FeatureAggregatedEvents)
	if !cfg.production {
		u.features = append(u.features, FeatureAllEvents)
	}
	return u, nil
}

// Namespace returns the admin namespace's name.
func (u *UI) Namespace() string { return u.cfg.namespace }

// Features returns the features the UI is told the server supports.
func (u *UI) Features() []string { return append([]string(nil), u.features...) }

// Dropped counts the reports dropped because the UI's queue was full (a
// flood of events with a slow cluster transport): the UI misses them, the
// server is not slowed down.
func (u *UI) Dropped() uint64 { return u.dropped.Load() }

// Start begins reporting to the admin namespace of srv, which must be the
// server the UI was given to as a service and monitor, and be started. It
// starts one goroutine, which Stop ends.
func (u *UI) Start(srv *socketservice.Server) error {
	if srv == nil {
		return errors.New("admin: UI.Start: nil server")
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.stop != nil {
		return errors.New("admin: UI already started")
	}
	if err := srv.Ready(); err != nil {
		return fmt.Errorf("admin: UI.Start: %w", err)
	}
	_, clustered := srv.ClusterStats()
	u.clustered.Store(clustered)
	u.srv.Store(srv)
	u.stop, u.done = make(chan struct{}), make(chan struct{})
	go u.run(u.stop, u.done)
	return nil
}

// Stop ends the reports and waits for the UI's goroutine. It is safe to
// call more than once, and without Start.
func (u *UI) Stop() {
	u.mu.Lock()
	stop, done := u.stop, u.done
	u.stop = nil
	u.mu.Unlock()
	if stop == nil {
		return
	}
	u.srv.Store(nil)
	close(stop)
	<-done
}

// Register implements socketservice.Service: the admin namespace, its
// authentication and the UI's commands.
func (u *UI) Register(r *socketservice.Router) {
	r.Namespace(u.cfg.namespace)
	if !u.cfg.noAuth {
		r.UseConnect(socketservice.ConnectGuard(u.authenticate))
	}
	r.OnConnect(u.connected)
	if u.cfg.readOnly {
		return
	}
	r.HandleFunc("emit", u.cmdEmit)
	r.HandleFunc("join", u.cmdRooms(true))
	r.HandleFunc("leave", u.cmdRooms(false))
	r.HandleFunc("_disconnect", u.cmdDisconnect)
}

var errInvalidCredentials = socketservice.NewError(socketservice.CodeUnauthorized, InvalidCredentials)

// authenticate accepts a live session id, or good credentials (and then
// opens a session the connect hook hands to the UI).
func (u *UI) authenticate(ctx context.Context, s *socketservice.Socket) error {
	auth := s.Handshake().Auth
	if id, _ := auth["sessionId"].(string); id != "" && u.sessions.valid(id, time.Now()) {
		return nil
	}
	user, _ := auth["username"].(string)
	pass, _ := auth["password"].(string)
	if user == "" {
		return errInvalidCredentials
	}
	ok, err := u.cfg.login(ctx, user, pass)
	if err != nil {
		u.cfg.log.Warn("admin: Admin UI login check failed", "username", user, "error", err)
	}
	if !ok || err != nil {
		u.cfg.log.Info("admin: Admin UI login refused", "username", user, "address", s.Handshake().Address)
		return errInvalidCredentials
	}
	id, err := newSessionID()
	if err != nil {
		return err
	}
	u.sessions.add(id, time.Now().Add(u.cfg.sessionTTL))
	s.Set(sessionKey{}, id)
	return nil
}

// connected greets a UI: its session, the server's features and (in
// development mode) every socket of the cluster. The emits are held until
// the client is told it is connected.
func (u *UI) connected(ctx context.Context, s *socketservice.Socket) error {
	if id, ok := s.Get(sessionKey{}); ok {
		_ = s.Emit("session", id)
	}
	_ = s.Emit("config", map[string]any{"supportedFeatures": u.features})
	if u.cfg.production {
		return nil
	}
	srv := u.srv.Load()
	if srv == nil {
		return s.Emit("all_sockets", []any{})
	}
	all := []any{}
	for _, ns := range srv.Namespaces() {
		socks, err := srv.Of(ns.Name).FetchSockets(ctx)
		if err != nil {
			u.cfg.log.Warn("admin: Admin UI: fetch sockets", "namespace", ns.Name, "error", err)
			continue
		}
		for _, rs := range socks {
			all = append(all, serializeRemote(rs))
		}
	}
	return s.Emit("all_sockets", all)
}

// args reads the UI command arguments at positions: string or "" (the UI
// sends null or undefined for "no filter").
func stringArg(args []any, i int) string {
	if i < len(args) {
		if s, ok := args[i].(string); ok {
			return s
		}
	}
	return ""
}

// target is the namespace handle a command with filter (a socket id or a
// room, "" for all) reaches.
func (u *UI) target(nsp, filter string) (socketservice.Namespace, error) {
	srv := u.srv.Load()
	if srv == nil {
		return socketservice.Namespace{}, socketservice.ErrNotRunning
	}
	if nsp == "" {
		return socketservice.Namespace{}, socketservice.NewError(socketservice.CodeValidation, "namespace required")
	}
	ns := srv.Of(nsp)
	if filter != "" {
		ns = ns.In(filter)
	}
	return ns, nil
}

func (u *UI) command(ctx context.Context, name string, err error, attrs ...any) (any, error) {
	attrs = append(attrs, "command", name)
	if s, ok := socketservice.SocketFromContext(ctx); ok {
		attrs = append(attrs, "admin_socket", s.ID())
	}
	if err != nil {
		u.cfg.log.Warn("admin: Admin UI command failed", append(attrs, "error", err)...)
		return nil, err
	}
	u.cfg.log.Info("admin: Admin UI command", attrs...)
	return nil, nil
}

// cmdEmit is emit(nsp, filter, event, ...args).
func (u *UI) cmdEmit(ctx context.Context, msg *socketservice.Message) (any, error) {
	nsp, filter, event := stringArg(msg.Args, 0), stringArg(msg.Args, 1), stringArg(msg.Args, 2)
	ns, err := u.target(nsp, filter)
	if err == nil {
		if event == "" {
			err = socketservice.NewError(socketservice.CodeValidation, "event name required")
		} else {
			var rest []any
			if len(msg.Args) > 3 {
				rest = msg.Args[3:]
			}
			err = ns.Emit(event, rest...)
		}
	}
	return u.command(ctx, "emit", err, "namespace", nsp, "filter", filter, "event", event)
}

// cmdRooms is join(nsp, room, filter) or leave(nsp, room, filter).
func (u *UI) cmdRooms(join bool) socketservice.HandlerFunc {
	name := "leave"
	if join {
		name = "join"
	}
	return func(ctx context.Context, msg *socketservice.Message) (any, error) {
		nsp, room, filter := stringArg(msg.Args, 0), stringArg(msg.Args, 1), stringArg(msg.Args, 2)
		ns, err := u.target(nsp, filter)
		switch {
		case err != nil:
		case room == "":
			err = socketservice.NewError(socketservice.CodeValidation, "room required")
		case join:
			err = ns.SocketsJoin(room)
		default:
			err = ns.SocketsLeave(room)
		}
		return u.command(ctx, name, err, "namespace", nsp, "room", room, "filter", filter)
	}
}

// cmdDisconnect is _disconnect(nsp, close, filter).
func (u *UI) cmdDisconnect(ctx context.Context, msg *socketservice.Message) (any, error) {
	nsp, filter := stringArg(msg.Args, 0), stringArg(msg.Args, 2)
	closeConn := false
	if len(msg.Args) > 1 {
		closeConn, _ = msg.Args[1].(bool)
	}
	ns, err := u.target(nsp, filter)
	if err == nil {
		err = ns.DisconnectSockets(closeConn)
	}
	return u.command(ctx, "disconnect", err, "namespace", nsp, "filter", filter, "close", closeConn)
}

func newSessionID() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("admin: session id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// sessionSet holds the UI's live sessions, at most max (the oldest
// expiring first).
type sessionSet struct {
	mu  sync.Mutex
	max int
	exp map[string]time.Time
}

func newSessionSet(maxSessions int) *sessionSet {
	return &sessionSet{max: maxSessions, exp: map[string]time.Time{}}
}

func (s *sessionSet) add(id string, until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.exp) >= s.max {
		now := time.Now()
		var oldest string
		for k, t := range s.exp {
			if t.Before(now) {
				delete(s.exp, k)
			} else if oldest == "" || t.Before(s.exp[oldest]) {
				oldest = k
			}
		}
		if len(s.exp) >= s.max {
			delete(s.exp, oldest)
		}
	}
	s.exp[id] = until
}

func (s *sessionSet) valid(id string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.exp[id]
	if ok && !now.Before(t) {
		delete(s.exp, id)
		return false
	}
	return ok
}
