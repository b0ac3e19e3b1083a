package demo

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/socketfx/socketfx/internal/admindist"
	"github.com/socketfx/socketfx/pkg/adapter"
	"github.com/socketfx/socketfx/pkg/admin"
	"github.com/socketfx/socketfx/pkg/contract"
	"github.com/socketfx/socketfx/pkg/health"
	"github.com/socketfx/socketfx/pkg/metrics"
	"github.com/socketfx/socketfx/pkg/middleware"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"go.uber.org/fx"
)

//go:embed web/index.html
var web embed.FS

// Config is the demo's own configuration.
type Config struct {
	// Addr is the HTTP listen address, e.g. ":3000" or "127.0.0.1:0".
	Addr string
	// Redis, when set, joins the demo to a cluster through the Redis at
	// this URL (see Cluster).
	Redis string
	// Secret signs the login tokens. Empty: a random secret per process,
	// so tokens end with it. Nodes of one cluster need the same secret.
	Secret string
	// DrainDelay is how long a stopping demo keeps serving with /readyz
	// at 503 (socketservice.Config.DrainDelay).
	DrainDelay time.Duration
	// AdminPassword is the password of user "admin" in the Admin UI
	// (served at /admin/ui/, namespace /admin); empty means
	// DefaultAdminPassword.
	AdminPassword string
}

// DefaultAdminPassword is the demo's Admin UI password unless
// -admin-password or SOCKETFX_DEMO_ADMIN_PASSWORD says otherwise.
const DefaultAdminPassword = "socketfx" //nolint:gosec // the documented demo default

// ConfigFromArgs reads the demo's flags (args without the program name)
// and environment: -addr (or PORT), -redis, -drain-delay (or
// SOCKETFX_DEMO_DRAIN_DELAY), -admin-password (or
// SOCKETFX_DEMO_ADMIN_PASSWORD) and SOCKETFX_DEMO_SECRET.
func ConfigFromArgs(args []string, getenv func(string) string) (Config, error) {
	cfg := Config{Addr: ":3000", Secret: getenv("SOCKETFX_DEMO_SECRET"), AdminPassword: getenv("SOCKETFX_DEMO_ADMIN_PASSWORD")}
	if p := getenv("PORT"); p != "" {
		cfg.Addr = ":" + p
	}
	if v := getenv("SOCKETFX_DEMO_DRAIN_DELAY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return Config{}, fmt.Errorf("SOCKETFX_DEMO_DRAIN_DELAY: %w", err)
		}
		cfg.DrainDelay = d
	}
	fs := flag.NewFlagSet("socketfx-demo", flag.ContinueOnError)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address (default :3000, or :$PORT)")
	fs.StringVar(&cfg.Redis, "redis", "", "join a cluster through this Redis, e.g. redis://127.0.0.1:6379")
	fs.DurationVar(&cfg.DrainDelay, "drain-delay", cfg.DrainDelay,
		"on SIGTERM, keep serving this long with /readyz at 503 before closing (or $SOCKETFX_DEMO_DRAIN_DELAY)")
	fs.StringVar(&cfg.AdminPassword, "admin-password", cfg.AdminPassword,
		`password of user "admin" in the Admin UI at /admin/ui/ (or $SOCKETFX_DEMO_ADMIN_PASSWORD; empty: `+DefaultAdminPassword+`)`)
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// StopTimeout is the fx.StopTimeout the demo needs for cfg: its socket
// server's ShutdownTimeout and five seconds for the rest.
func StopTimeout(cfg Config) time.Duration { return socketConfig(cfg).ShutdownTimeout + 5*time.Second }

// Keys holds the secret the demo signs its tokens with.
type Keys struct{ Secret []byte }

// KeysFromConfig uses Config.Secret, or makes a fresh random secret.
func KeysFromConfig(cfg Config) (*Keys, error) {
	if cfg.Secret != "" {
		return &Keys{Secret: []byte(cfg.Secret)}, nil
	}
	return NewKeys()
}

// NewKeys makes a fresh random secret.
func NewKeys() (*Keys, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("demo: make key: %w", err)
	}
	return &Keys{Secret: b}, nil
}

// LoginRequest is the body of POST /api/login. The demo has no passwords:
// anyone may log in as anyone, with role "user" or "admin".
type LoginRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// TTL is the token's lifetime in seconds, at least 1 (default one
	// hour): a short one shows the refresh flow (/chat asks for a new
	// token before it expires).
	TTL int `json:"ttl,omitempty"`
}

// LoginHandler issues a token (one hour, or TTL seconds) for POST
// /api/login.
func LoginHandler(keys *Keys) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req LoginRequest
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid JSON body: " + err.Error()})
			return
		}
		if strings.TrimSpace(req.Name) == "" || (req.Role != "user" && req.Role != "admin") {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": `name is required and role must be "user" or "admin"`})
			return
		}
		ttl := time.Hour
		switch {
		case req.TTL < 0 || req.TTL > 24*3600:
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "ttl is a number of seconds, from 1 to 86400"})
			return
		case req.TTL > 0:
			ttl = time.Duration(req.TTL) * time.Second
		}
		token, err := middleware.IssueToken(keys.Secret, socketservice.Identity{Subject: req.Name, Name: req.Name, Roles: []string{req.Role}}, ttl)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not issue a token"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"token": token})
	}
}

// NotifyRequest is the body of POST /api/notify.
type NotifyRequest struct {
	Room  string `json:"room"`
	Event string `json:"event"`
	Data  any    `json:"data"`
}

// Notifier pushes events to /chat rooms from HTTP, through an injected
// socket server handle.
type Notifier struct {
	chat socketservice.Namespace
}

// NewNotifier builds the handler of POST /api/notify.
func NewNotifier(srv *socketservice.Server) *Notifier {
	return &Notifier{chat: srv.Of("/chat")}
}

func (n *Notifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req NotifyRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid JSON body: " + err.Error()})
		return
	}
	if strings.TrimSpace(req.Room) == "" || strings.TrimSpace(req.Event) == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "room and event are required"})
		return
	}
	if err := n.chat.To(req.Room).Emit(req.Event, req.Data); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// MuxParams are NewMux's dependencies.
type MuxParams struct {
	fx.In

	Server  *socketservice.Server
	Notify  *Notifier
	Keys    *Keys
	Cluster *adapter.Redis `optional:"true"`
	Checks  []health.Check `group:"socketfx.health"`
	Metrics *metrics.Metrics
	// AdminAPI is the REST management API, for /admin/api/.
	AdminAPI *admin.API
}

// NewMux routes the demo's HTTP endpoints and mounts the socket server.
// GET /healthz says "degraded" (still 200: local clients are served) while
// the cluster's Redis is away.
func NewMux(p MuxParams) *http.ServeMux {
	srv, notify, keys := p.Server, p.Notify, p.Keys
	mux := http.NewServeMux()
	mux.Handle(srv.Config().Path+"/", srv.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		body := map[string]string{"status": "ok"}
		if p.Cluster != nil {
			body["cluster"] = "ok"
			if err := p.Cluster.Health(); err != nil {
				body["status"], body["cluster"] = "degraded", err.Error()
			}
		}
		writeJSON(w, http.StatusOK, body)
	})
	mux.Handle("GET /livez", health.Livez())
	mux.Handle("GET /readyz", health.Readyz(append([]health.Check{health.ServerCheck(srv)}, p.Checks...)...))
	mux.Handle("GET /metrics", p.Metrics.Handler())
	mux.Handle("POST /api/notify", notify)
	mux.Handle("POST /api/login", LoginHandler(keys))
	mux.Handle("/admin/api/", http.StripPrefix("/admin/api", p.AdminAPI))
	mux.Handle("GET /admin/ui/", http.StripPrefix("/admin/ui", admindist.Handler()))
	mux.Handle("GET /admin/ui", http.RedirectHandler("/admin/ui/", http.StatusMovedPermanently))
	// The wire contract, generated from the handlers at the first request.
	for pattern, f := range map[string]contract.Format{
		"GET /asyncapi.json":        contract.AsyncAPI,
		"GET /socketfx.d.ts":        contract.TypeScript,
		"GET /contract.schema.json": contract.JSONSchema,
	} {
		mux.Handle(pattern, contract.Handler(srv, f, ContractOptions()...))
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		page, _ := web.ReadFile("web/index.html")
		_, _ = w.Write(page)
	})
	return mux
}

// ContractOptions are the options of the demo's contract, served at
// /asyncapi.json, /socketfx.d.ts and /contract.schema.json and written by
// "socketfx-demo contract": the Admin UI's namespace is left out.
func ContractOptions() []contract.Option {
	return []contract.Option{
		contract.WithTitle("socketfx demo"),
		contract.WithVersion("1.0.0"),
		contract.WithDescription("The chat, tenants and admin announcements of the socketfx demo."),
		contract.WithoutNamespaces(admin.DefaultUINamespace),
	}
}

// NewAdminAPI is the REST management API behind the demo's admin tokens:
// "Authorization: Bearer <token>" from POST /api/login with role "admin".
func NewAdminAPI(srv *socketservice.Server, keys *Keys, checks []health.Check, log *slog.Logger) (*admin.API, error) {
	verify := middleware.TokenVerifier(middleware.JWTConfig{Secret: keys.Secret})
	auth := func(r *http.Request, _ admin.Access) error {
		h := r.Header.Get("Authorization")
		if len(h) < 8 || !strings.EqualFold(h[:7], "bearer ") {
			return admin.ErrUnauthorized
		}
		id, err := verify(h[7:])
		if err != nil {
			return fmt.Errorf("%w: %w", admin.ErrUnauthorized, err)
		}
		if !id.HasRole("admin") {
			return admin.ErrForbidden
		}
		return nil
	}
	return admin.NewAPI(srv, auth, admin.WithChecks(checks...), admin.WithAPILogger(log))
}

// adminUI is the Admin UI's login: user "admin" with Config.AdminPassword
// (DefaultAdminPassword when empty). The demo holds the password itself
// (from a flag), so it compares in constant time rather than keep a
// bcrypt hash; an app with stored credentials uses admin.WithBasicAuth.
func adminUI(cfg Config) admin.UIOptions {
	want := cfg.AdminPassword
	if want == "" {
		want = DefaultAdminPassword
	}
	return admin.UIOptions{admin.WithLogin(func(_ context.Context, user, password string) (bool, error) {
		userOK := subtle.ConstantTimeCompare([]byte(user), []byte("admin")) == 1
		passOK := subtle.ConstantTimeCompare([]byte(password), []byte(want)) == 1
		return userOK && passOK, nil
	})}
}

// URL returns the base URL of the running demo (its socket server's
// listener, which serves the whole mux).
func URL(srv *socketservice.Server) string {
	host, port, _ := net.SplitHostPort(srv.Addr())
	if host == "" || host == "::" || host == "0.0.0.0" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// socketConfig is the demo's socket server configuration: it listens on
// cfg.Addr and serves the demo's mux there (see Module).
func socketConfig(cfg Config) socketservice.Config {
	return socketservice.Config{
		Addr: cfg.Addr,
		CORS: &socketservice.CORSConfig{Origins: []string{"*"}},
		// A dropped connection keeps its session, rooms and missed messages
		// for two minutes.
		Recovery:   &socketservice.RecoveryConfig{MaxDisconnectionDuration: 2 * time.Minute},
		DrainDelay: cfg.DrainDelay,
		// The drain delay and ten seconds for handlers and closing.
		ShutdownTimeout: cfg.DrainDelay + socketservice.DefaultShutdownTimeout,
	}
}

// announce logs the demo's URL once it listens.
func announce(lc fx.Lifecycle, srv *socketservice.Server, log *slog.Logger) {
	lc.Append(fx.StartHook(func() { log.Info("demo: listening", "url", URL(srv)) }))
}

// Cluster joins the demo to a cluster through the Redis at url; sessions
// are kept in that Redis too, so a client recovers on any node.
func Cluster(url string) fx.Option {
	return fx.Options(adapter.Module, adapter.Sessions, fx.Supply(adapter.Config{URL: url}))
}

// App is the demo app for cfg: Module, and Cluster when cfg.Redis is set.
func App(cfg Config) fx.Option {
	opts := []fx.Option{Module, fx.Supply(cfg)}
	if cfg.Redis != "" {
		opts = append(opts, Cluster(cfg.Redis))
	}
	return fx.Options(opts...)
}

// Module is the whole demo app but its Config and logger.
var Module = fx.Module("demo",
	socketservice.Module,
	metrics.Collect,
	fx.Provide(socketConfig),
	socketservice.AsService(NewChat),
	socketservice.AsService(NewTenants),
	socketservice.AsService(NewTenantRoutes),
	fx.Provide(KeysFromConfig, NewNotifier, NewMux, adminUI),
	fx.Provide(fx.Annotate(NewAdminAPI, fx.ParamTags(``, ``, `group:"socketfx.health"`, `optional:"true"`))),
	admin.UIModule(),
	// The socket server's own listener serves the whole mux: no listener
	// or lifecycle code here.
	socketservice.AsHTTPHandler(func(m *http.ServeMux) http.Handler { return m }),
	fx.Invoke(announce),
)
