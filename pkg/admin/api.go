package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/socketfx/socketfx/pkg/health"
	"github.com/socketfx/socketfx/pkg/socketservice"
)

// Access is what a request to the API does: read the server's state or
// change it.
type Access int

// The accesses an Authorize hook is asked about.
const (
	// Read: GET info, clients, health and a client's rooms.
	Read Access = iota + 1
	// Write: every POST (send, broadcast, join, leave, disconnect).
	Write
)

func (a Access) String() string {
	switch a {
	case Read:
		return "read"
	case Write:
		return "write"
	}
	return "Access(" + strconv.Itoa(int(a)) + ")"
}

// Authorize decides whether r may have access. It returns nil to let it
// through, an error wrapping ErrUnauthorized (401: who are you?) or
// ErrForbidden (403: not you); any other error is a 500, and logged.
type Authorize func(r *http.Request, access Access) error

// The errors an Authorize hook wraps to refuse a request.
var (
	ErrUnauthorized = errors.New("admin: unauthorized")
	ErrForbidden    = errors.New("admin: forbidden")
)

// The codes of the API's JSON errors: {"error": {"code", "message"}}.
const (
	CodeBadRequest       = "bad_request"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeReadOnly         = "read_only"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeUnknownSocket    = "unknown_socket"
	CodeUnknownNamespace = "unknown_namespace"
	CodeNotRunning       = "not_running"
	CodeInternal         = "internal"
)

// DefaultPageSize and MaxPageSize bound GET clients' limit.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// maxBody bounds a POST body.
const maxBody = 1 << 20

// APIOption configures an API (NewAPI).
type APIOption interface{ applyAPI(*apiConfig) }

type apiOptionFunc func(*apiConfig)

func (f apiOptionFunc) applyAPI(c *apiConfig) { f(c) }

type apiConfig struct {
	readOnly bool
	log      *slog.Logger
	timeout  time.Duration
	checks   []health.Check
}

// WithReadOnly serves only the GET endpoints: every POST answers 403
// read_only, whatever Authorize says.
func WithReadOnly() APIOption { return apiOptionFunc(func(c *apiConfig) { c.readOnly = true }) }

// WithAPILogger logs the API's changes and failures to log (default
// slog.Default()).
func WithAPILogger(log *slog.Logger) APIOption {
	return apiOptionFunc(func(c *apiConfig) { c.log = log })
}

// WithTimeout bounds the cluster-wide queries of a request (FetchSockets
// and counts across nodes; default 5 s).
func WithTimeout(d time.Duration) APIOption {
	return apiOptionFunc(func(c *apiConfig) { c.timeout = d })
}

// WithChecks adds readiness checks to GET health (the server's own
// readiness is always checked).
func WithChecks(checks ...health.Check) APIOption {
	return apiOptionFunc(func(c *apiConfig) { c.checks = append(c.checks, checks...) })
}

// API is the REST management API: an http.Handler for the endpoints below,
// relative to where it is mounted (use http.StripPrefix):
//
//	GET  info                     server status, nodes, sockets (node and cluster)
//	GET  clients?limit=&cursor=   socket ids, sorted, paged
//	GET  health                   readiness (200 or 503)
//	POST broadcast                {event, data} to every socket of the namespace
//	POST room/{room}/send         {event, data} to a room
//	POST client/{id}/send         {event, data} to one socket
//	POST client/{id}/join         {rooms: [...]}
//	POST client/{id}/leave        {rooms: [...]}
//	POST client/{id}/disconnect   {close: bool}
//	GET  client/{id}/rooms
//
// Every endpoint takes the namespace as ?nsp= (default "/") and works
// cluster-wide through the adapter: a socket of another node is found,
// sent to, moved and disconnected like one of this node. Bodies and
// answers are JSON; errors are {"error": {"code", "message"}} with the
// codes above.
type API struct {
	srv   *socketservice.Server
	auth  Authorize
	cfg   apiConfig
	mux   *http.ServeMux
	ready http.Handler
}

// NewAPI builds the API over srv. auth is required: the API can read every
// socket's rooms and disconnect anyone, so it is never served open (pass a
// hook that returns nil only for a server nobody else can reach).
func NewAPI(srv *socketservice.Server, auth Authorize, opts ...APIOption) (*API, error) {
	if srv == nil {
		return nil, errors.New("admin: NewAPI: nil server")
	}
	if auth == nil {
		return nil, errors.New("admin: NewAPI needs an Authorize hook: the API can disconnect any socket")
	}
	cfg := apiConfig{timeout: 5 * time.Second}
	for _, o := range opts {
		if o != nil {
			o.applyAPI(&cfg)
		}
	}
	if cfg.log == nil {
		cfg.log = slog.Default()
	}
	if cfg.timeout <= 0 {
		return nil, errors.New("admin: NewAPI: the timeout must be positive")
	}
	a := &API{srv: srv, auth: auth, cfg: cfg, mux: http.NewServeMux()}
	checks := append([]health.Check{health.ServerCheck(srv)}, cfg.checks...)
	a.ready = health.Readyz(checks...)
	a.route("/info", http.MethodGet, a.info)
	a.route("/clients", http.MethodGet, a.clients)
	a.route("/health", http.MethodGet, a.health)
	a.route("/broadcast", http.MethodPost, a.broadcast)
	a.route("/room/{room}/send", http.MethodPost, a.roomSend)
	a.route("/client/{id}/send", http.MethodPost, a.clientSend)
	a.route("/client/{id}/join", http.MethodPost, a.clientRooms(true))
	a.route("/client/{id}/leave", http.MethodPost, a.clientRooms(false))
	a.route("/client/{id}/disconnect", http.MethodPost, a.clientDisconnect)
	a.route("/client/{id}/rooms", http.MethodGet, a.clientRoomList)
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, CodeNotFound, "no such endpoint: "+r.URL.Path)
	})
	return a, nil
}

// apiError is an answer other than 2xx.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.message }

func badRequest(format string, args ...any) error {
	return &apiError{http.StatusBadRequest, CodeBadRequest, fmt.Sprintf(format, args...)}
}

type handler func(w http.ResponseWriter, r *http.Request) (status int, body any, err error)

// route serves path for method, with a JSON 405 for the others.
func (a *API) route(path, method string, h handler) {
	a.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && (method != http.MethodGet || r.Method != http.MethodHead) {
			w.Header().Set("Allow", method)
			writeError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, r.Method+" is not allowed here, only "+method)
			return
		}
		status, body, err := h(w, r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		switch {
		case status == 0: // h answered itself
		case body == nil:
			w.WriteHeader(status)
		default:
			writeJSON(w, status, body)
		}
	})
}

// ServeHTTP implements http.Handler: it authorizes the request, then
// routes it.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	access := Read
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		access = Write
	}
	if err := a.auth(r, access); err != nil {
		a.fail(w, r, err)
		return
	}
	if access == Write && a.cfg.readOnly {
		writeError(w, http.StatusForbidden, CodeReadOnly, "the API is read-only")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	a.mux.ServeHTTP(w, r)
}

// fail answers err: an *apiError as it says, the auth sentinels and the
// server's errors by their kind, anything else as a logged 500.
func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		writeError(w, ae.status, ae.code, ae.message)
	case errors.Is(err, ErrUnauthorized):
		writeError(w, http.StatusUnauthorized, CodeUnauthorized, "authentication required")
	case errors.Is(err, ErrForbidden):
		writeError(w, http.StatusForbidden, CodeForbidden, "not allowed")
	case errors.Is(err, socketservice.ErrUnknownNamespace):
		writeError(w, http.StatusNotFound, CodeUnknownNamespace, "no service serves namespace "+namespace(r))
	case errors.Is(err, socketservice.ErrNotRunning), errors.Is(err, socketservice.ErrDraining):
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, CodeNotRunning, "the socket server is not running")
	case errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusGatewayTimeout, "timeout", "the cluster did not answer in time")
	default:
		a.cfg.log.Error("admin: API request failed", "method", r.Method, "path", r.URL.Path, "error", err)
		writeError(w, http.StatusInternalServerError, CodeInternal, "internal error")
	}
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// ErrorBody is the JSON of every error answer.
type ErrorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	var b ErrorBody
	b.Error.Code, b.Error.Message = code, message
	writeJSON(w, status, b)
}

// namespace is the request's ?nsp=, "/" by default.
func namespace(r *http.Request) string {
	nsp := r.URL.Query().Get("nsp")
	if nsp == "" {
		return "/"
	}
	return "/" + strings.TrimPrefix(nsp, "/")
}

func (a *API) ctx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), a.cfg.timeout)
}

// Info is GET info's answer.
type Info struct {
	// Ready is the server's readiness (false while it drains).
	Ready bool `json:"ready"`
	// Node is this node.
	Node NodeInfo `json:"node"`
	// Cluster is every node of the namespace's cluster.
	Cluster ClusterInfo `json:"cluster"`
}

// NodeInfo describes this node.
type NodeInfo struct {
	// Sockets is how many sockets are connected to this node, in every
	// namespace.
	Sockets int `json:"sockets"`
	// Namespaces lists this node's live namespaces.
	Namespaces []socketservice.NamespaceStats `json:"namespaces"`
}

// ClusterInfo describes the cluster, for the namespace asked about.
type ClusterInfo struct {
	// Enabled reports whether the server is in a cluster (an adapter).
	Enabled bool `json:"enabled"`
	// Up reports whether the cluster's transport works.
	Up bool `json:"up"`
	// Nodes is how many nodes serve the namespace.
	Nodes int `json:"nodes"`
	// Sockets is how many sockets the namespace has on every node.
	Sockets int `json:"sockets"`
}

func (a *API) info(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	ns := a.srv.Of(namespace(r))
	ctx, cancel := a.ctx(r)
	defer cancel()
	nodes, err := ns.ServerCount()
	if err != nil {
		return 0, nil, err
	}
	sockets, err := ns.ClusterCount(ctx)
	if err != nil {
		return 0, nil, err
	}
	cs, clustered := a.srv.ClusterStats()
	nsps := a.srv.Namespaces()
	if nsps == nil {
		nsps = []socketservice.NamespaceStats{}
	}
	return http.StatusOK, Info{
		Ready:   a.srv.Ready() == nil,
		Node:    NodeInfo{Sockets: a.srv.Count(), Namespaces: nsps},
		Cluster: ClusterInfo{Enabled: clustered, Up: !clustered || cs.Up, Nodes: nodes, Sockets: sockets},
	}, nil
}

// Clients is GET clients' answer: a page of the namespace's socket ids,
// sorted, across the cluster.
type Clients struct {
	// Total is how many sockets the namespace has.
	Total int `json:"total"`
	// Clients is this page.
	Clients []Client `json:"clients"`
	// Next is the cursor of the next page, "" on the last one.
	Next string `json:"next,omitempty"`
}

// Client is one socket in GET clients.
type Client struct {
	ID    string   `json:"id"`
	Rooms []string `json:"rooms"`
}

func (a *API) clients(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	q := r.URL.Query()
	limit := DefaultPageSize
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxPageSize {
			return 0, nil, badRequest("limit must be a number from 1 to %d", MaxPageSize)
		}
		limit = n
	}
	cursor := q.Get("cursor")
	ctx, cancel := a.ctx(r)
	defer cancel()
	socks, err := a.srv.Of(namespace(r)).FetchSockets(ctx)
	if err != nil {
		return 0, nil, err
	}
	sort.Slice(socks, func(i, j int) bool { return socks[i].ID < socks[j].ID })
	start := sort.Search(len(socks), func(i int) bool { return socks[i].ID > cursor })
	if cursor == "" {
		start = 0
	}
	end := min(start+limit, len(socks))
	out := Clients{Total: len(socks), Clients: make([]Client, 0, end-start)}
	for _, s := range socks[start:end] {
		rooms := append([]string{}, s.Rooms...)
		sort.Strings(rooms)
		out.Clients = append(out.Clients, Client{ID: s.ID, Rooms: rooms})
	}
	if end < len(socks) {
		out.Next = socks[end-1].ID
	}
	return http.StatusOK, out, nil
}

func (a *API) health(w http.ResponseWriter, r *http.Request) (int, any, error) {
	a.ready.ServeHTTP(w, r)
	return 0, nil, nil
}

// Message is the body of the send endpoints: an event and its one
// argument (data), or its arguments (args); neither sends the event alone.
type Message struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data,omitempty"`
	Args  []any           `json:"args,omitempty"`
}

// decode reads a JSON body of at most maxBody into v, refusing unknown
// fields and trailing data.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &apiError{http.StatusRequestEntityTooLarge, CodeBadRequest, fmt.Sprintf("the body is over %d bytes", maxBody)}
		}
		if errors.Is(err, io.EOF) {
			return badRequest("a JSON body is required")
		}
		return badRequest("bad JSON body: %v", err)
	}
	if dec.More() {
		return badRequest("bad JSON body: more than one value")
	}
	return nil
}

// message reads a Message and returns its event and arguments.
func message(w http.ResponseWriter, r *http.Request) (string, []any, error) {
	var m Message
	if err := decode(w, r, &m); err != nil {
		return "", nil, err
	}
	switch {
	case m.Event == "":
		return "", nil, badRequest("event is required")
	case socketservice.ReservedEvent(m.Event):
		return "", nil, badRequest("%q is reserved by Socket.IO", m.Event)
	case len(m.Data) > 0 && m.Args != nil:
		return "", nil, badRequest("give data or args, not both")
	}
	if len(m.Data) > 0 {
		var v any
		if err := json.Unmarshal(m.Data, &v); err != nil {
			return "", nil, badRequest("bad data: %v", err)
		}
		return m.Event, []any{v}, nil
	}
	return m.Event, m.Args, nil
}

// Sent is the answer of a send: 202, the event was handed to the adapter.
type Sent struct {
	Event string `json:"event"`
	To    string `json:"to"`
}

func (a *API) send(w http.ResponseWriter, r *http.Request, ns socketservice.Namespace, to string) (int, any, error) {
	event, args, err := message(w, r)
	if err != nil {
		return 0, nil, err
	}
	if err := ns.Emit(event, args...); err != nil {
		return 0, nil, err
	}
	a.cfg.log.Info("admin: API emit", "namespace", ns.Name(), "to", to, "event", event)
	return http.StatusAccepted, Sent{Event: event, To: to}, nil
}

func (a *API) broadcast(w http.ResponseWriter, r *http.Request) (int, any, error) {
	return a.send(w, r, a.srv.Of(namespace(r)), "*")
}

func (a *API) roomSend(w http.ResponseWriter, r *http.Request) (int, any, error) {
	room := r.PathValue("room")
	return a.send(w, r, a.srv.Of(namespace(r)).To(room), "room:"+room)
}

// socket finds socket id anywhere in the cluster.
func (a *API) socket(r *http.Request) (socketservice.Namespace, socketservice.RemoteSocket, error) {
	id := r.PathValue("id")
	ns := a.srv.Of(namespace(r))
	ctx, cancel := a.ctx(r)
	defer cancel()
	socks, err := ns.In(id).FetchSockets(ctx)
	if err != nil {
		return ns, socketservice.RemoteSocket{}, err
	}
	for _, s := range socks {
		if s.ID == id {
			return ns.In(id), s, nil
		}
	}
	return ns, socketservice.RemoteSocket{}, &apiError{http.StatusNotFound, CodeUnknownSocket, fmt.Sprintf("no socket %q in namespace %s", id, ns.Name())}
}

func (a *API) clientSend(w http.ResponseWriter, r *http.Request) (int, any, error) {
	ns, s, err := a.socket(r)
	if err != nil {
		return 0, nil, err
	}
	return a.send(w, r, ns, s.ID)
}

// Rooms is the body of join and leave, and the answer of GET rooms.
type Rooms struct {
	Rooms []string `json:"rooms"`
}

func (a *API) clientRooms(join bool) handler {
	return func(w http.ResponseWriter, r *http.Request) (int, any, error) {
		var body Rooms
		if err := decode(w, r, &body); err != nil {
			return 0, nil, err
		}
		if len(body.Rooms) == 0 {
			return 0, nil, badRequest("rooms is required")
		}
		for _, room := range body.Rooms {
			if room == "" {
				return 0, nil, badRequest("a room name is empty")
			}
		}
		ns, s, err := a.socket(r)
		if err != nil {
			return 0, nil, err
		}
		op := "leave"
		if join {
			op = "join"
			err = ns.SocketsJoin(body.Rooms...)
		} else {
			err = ns.SocketsLeave(body.Rooms...)
		}
		if err != nil {
			return 0, nil, err
		}
		a.cfg.log.Info("admin: API "+op, "namespace", ns.Name(), "socket", s.ID, "rooms", body.Rooms)
		return http.StatusAccepted, body, nil
	}
}

// Disconnect is the body of disconnect: close ends the client's whole
// connection (every namespace), not only this socket.
type Disconnect struct {
	Close bool `json:"close"`
}

func (a *API) clientDisconnect(w http.ResponseWriter, r *http.Request) (int, any, error) {
	var body Disconnect
	if r.ContentLength != 0 {
		if err := decode(w, r, &body); err != nil {
			return 0, nil, err
		}
	}
	ns, s, err := a.socket(r)
	if err != nil {
		return 0, nil, err
	}
	if err := ns.DisconnectSockets(body.Close); err != nil {
		return 0, nil, err
	}
	a.cfg.log.Info("admin: API disconnect", "namespace", ns.Name(), "socket", s.ID, "close", body.Close)
	return http.StatusAccepted, body, nil
}

func (a *API) clientRoomList(_ http.ResponseWriter, r *http.Request) (int, any, error) {
	_, s, err := a.socket(r)
	if err != nil {
		return 0, nil, err
	}
	rooms := append([]string{}, s.Rooms...)
	sort.Strings(rooms)
	return http.StatusOK, Rooms{Rooms: rooms}, nil
}
