package sockettest

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/socketfx/socketfx/internal/sioclient"
	"github.com/socketfx/socketfx/pkg/socketservice"
)

// Event is one event the client received.
type Event struct {
	Name string
	Args []any
}

// ConnectError is returned by Connect when the server refused the
// connection (the client's connect_error). Its Message is the server's
// message and its Data the error's data; Code returns Data["code"] when the
// server sent one.
type ConnectError = sioclient.ConnectError

// AckError is a server's error envelope, {"status":"error","error":{…}},
// as Client.Call and DecodeAck return it: its Code, Message and Details
// are the envelope's.
type AckError = sioclient.AckError

// ErrClosed is returned by operations on a closed or disconnected client.
var ErrClosed = sioclient.ErrClosed

// Option configures Connect.
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

// options holds the client's options, in order, and the handshake that
// NewEventContext fakes.
type options struct {
	client []sioclient.Option
	auth   map[string]any
	query  url.Values
	header http.Header
	// validate is the input validator of an EventContext.
	validate socketservice.InputValidator
	// contract is WithContract's check, nil without it.
	contract *contractCheck
}

func newOptions(opts []Option) options {
	var o options
	for _, opt := range opts {
		opt.apply(&o)
	}
	return o
}

// WithAuth sets the auth payload sent with the namespace CONNECT packet.
func WithAuth(auth map[string]any) Option {
	return optionFunc(func(o *options) {
		o.auth = auth
		o.client = append(o.client, sioclient.WithAuth(auth))
	})
}

// WithQuery adds query parameters to the connection URL.
func WithQuery(q url.Values) Option {
	return optionFunc(func(o *options) {
		o.query = q
		o.client = append(o.client, sioclient.WithQuery(q))
	})
}

// WithHeader sets HTTP headers of the connection's requests (the websocket
// handshake, or every polling request).
func WithHeader(h http.Header) Option {
	return optionFunc(func(o *options) {
		o.header = h
		o.client = append(o.client, sioclient.WithHeader(h))
	})
}

// WithValidator sets the input validator an EventContext binds typed
// handlers to, as a server built with socketservice.WithInputValidator
// would. Default socketservice.StructValidator, the server's default.
// Clients ignore it.
func WithValidator(v socketservice.InputValidator) Option {
	return optionFunc(func(o *options) { o.validate = v })
}

// WithPath sets the server path. Default "/socket.io".
func WithPath(p string) Option {
	return optionFunc(func(o *options) { o.client = append(o.client, sioclient.WithPath(p)) })
}

// WithConnectTimeout bounds Connect when ctx has no earlier deadline.
// Default 10s.
func WithConnectTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) { o.client = append(o.client, sioclient.WithConnectTimeout(d)) })
}

// Client is a Socket.IO client connected to one namespace over websocket
// (or long-polling, WithTransport(Polling)), for tests. It records every event it receives, in order; Next reads them
// one by one with a cursor. It is safe for concurrent use; Close stops its
// goroutine.
type Client struct {
	c   *sioclient.Client
	chk *contractCheck // WithContract; nil without
}

// Connect opens a connection (websocket unless WithTransport says
// otherwise) to the server at baseURL (e.g.
// "http://127.0.0.1:3000") and joins namespace, returning once the server
// accepted (or refused, as *ConnectError) the connection.
func Connect(ctx context.Context, baseURL, namespace string, opts ...Option) (*Client, error) {
	o := newOptions(opts)
	return wrap(sioclient.Connect(ctx, baseURL, namespace, o.client...))(o.contract)
}

// wrap returns the kit's client of c, checking a contract with chk (a
// fresh check: a reconnected client starts with no events).
func wrap(c *sioclient.Client, err error) func(chk *contractCheck) (*Client, error) {
	return func(chk *contractCheck) (*Client, error) {
		if err != nil {
			return nil, err
		}
		if chk != nil {
			chk = &contractCheck{c: chk.c, t: chk.t}
		}
		return &Client{c: c, chk: chk}, nil
	}
}

// checkEvents holds the events received so far to the contract, if any.
func (c *Client) checkEvents() {
	if c.chk != nil {
		helper(c.chk.t)
		c.chk.events(c.c.Namespace(), events(c.c.Events()))
	}
}

// ID returns the socket id the server assigned.
func (c *Client) ID() string { return c.c.ID() }

// Offset returns the offset of the last replayable event received (with
// connection-state recovery on), which Reconnect presents.
func (c *Client) Offset() string { return c.c.Offset() }

// Recovered reports whether this connection restored an earlier session
// (see Reconnect).
func (c *Client) Recovered() bool { return c.c.Recovered() }

// Reconnect opens a new connection to the same namespace with the same
// options, asking the server to restore this client's session (when the
// server has connection-state recovery on; a socketfx server recovers a
// client that received no event yet too). Use it after Close, which drops the
// connection the way a network failure would; the new client reports
// Recovered, and receives the events it missed.
func (c *Client) Reconnect(ctx context.Context) (*Client, error) {
	return wrap(c.c.Reconnect(ctx))(c.chk)
}

// ReconnectTo is Reconnect to another server, e.g. another node of a
// cluster, which recovers the session when the cluster can.
func (c *Client) ReconnectTo(ctx context.Context, baseURL string) (*Client, error) {
	return wrap(c.c.ReconnectTo(ctx, baseURL))(c.chk)
}

// WaitFor returns the next event named name, skipping (and consuming) the
// events before it, like gbytes' Say; it waits until ctx is done.
func (c *Client) WaitFor(ctx context.Context, name string) (Event, error) {
	e, err := c.c.WaitFor(ctx, name)
	c.checkEvents()
	return Event(e), err
}

// Namespace returns the namespace the client joined.
func (c *Client) Namespace() string { return c.c.Namespace() }

// Emit sends an event. []byte arguments (also inside maps and slices) are
// sent as binary attachments.
func (c *Client) Emit(event string, args ...any) error { return c.c.Emit(event, args...) }

// EmitWithAck sends an event asking for an acknowledgement and waits for it
// until ctx is done. It returns the arguments the server acked with.
func (c *Client) EmitWithAck(ctx context.Context, event string, args ...any) ([]any, error) {
	a, err := c.c.EmitWithAck(ctx, event, args...)
	if err == nil && c.chk != nil {
		c.chk.ack(c.c.Namespace(), event, a)
		c.checkEvents()
	}
	return a, err
}

// Call emits event with in as its one argument, waits for the ack, and
// decodes the server's envelope: {"status":"ok","data":…} into out (which
// may be nil), {"status":"error",…} into an *AckError.
func (c *Client) Call(ctx context.Context, event string, in, out any) error {
	var args []any
	if in != nil {
		args = []any{in}
	}
	a, err := c.EmitWithAck(ctx, event, args...)
	if err != nil {
		return err
	}
	return DecodeAck(a, out)
}

// DecodeAck decodes an ack envelope: ok → data into out (unless out is
// nil); error → *AckError; anything else → an error describing it.
func DecodeAck(args []any, out any) error { return sioclient.DecodeAck(args, out) }

// HandleAck answers the server's acknowledgement requests for event with
// fn's result. Without a handler such requests get no answer.
func (c *Client) HandleAck(event string, fn func(args []any) []any) { c.c.HandleAck(event, fn) }

// Next returns the next event not yet read, waiting for it until ctx is
// done.
func (c *Client) Next(ctx context.Context) (Event, error) {
	e, err := c.c.Next(ctx)
	c.checkEvents()
	return Event(e), err
}

// Events returns a copy of every event received so far, read or not.
func (c *Client) Events() []Event {
	evs := events(c.c.Events())
	if c.chk != nil {
		helper(c.chk.t)
		c.chk.events(c.c.Namespace(), evs)
	}
	return evs
}

func events(in []sioclient.Event) []Event {
	if in == nil {
		return nil
	}
	out := make([]Event, len(in))
	for i, e := range in {
		out[i] = Event(e)
	}
	return out
}

// Connected reports whether the client is still connected.
func (c *Client) Connected() bool { return c.c.Connected() }

// DisconnectReason returns why the client was disconnected ("" while it is
// connected): "io client disconnect", "io server disconnect" or
// "transport close".
func (c *Client) DisconnectReason() string { return c.c.DisconnectReason() }

// Done is closed when the client's connection has ended.
func (c *Client) Done() <-chan struct{} { return c.c.Done() }

// Disconnect leaves the namespace cleanly (the server sees "client namespace
// disconnect") and closes the connection.
func (c *Client) Disconnect() {
	c.c.Disconnect()
	c.checkEvents()
}

// Close drops the connection without a goodbye, as a network failure would
// (the server sees "transport close").
func (c *Client) Close() {
	c.c.Close()
	c.checkEvents()
}
