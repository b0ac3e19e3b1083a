package sioclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Transport names the Engine.IO transport a client uses.
type Transport string

// The transports the client speaks. It does not upgrade from one to the
// other: pick one.
const (
	WebSocket Transport = "websocket"
	Polling   Transport = "polling"
)

// WithTransport sets the transport. Default WebSocket.
func WithTransport(t Transport) Option {
	return optionFunc(func(o *options) { o.transport = t })
}

// frame is one Engine.IO packet: text (its type digit first) or binary.
type frame struct {
	binary bool
	data   []byte
}

// transport carries Engine.IO packets. open returns the open packet.
type transport interface {
	open(ctx context.Context) ([]byte, error)
	next() (frame, error)
	send(frames ...frame) error
	close() error
}

func engineURL(baseURL string, o options, name string) (*url.URL, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("sioclient: bad URL %q: %w", baseURL, err)
	}
	u.Path = strings.TrimRight(o.path, "/") + "/"
	q := url.Values{}
	for k, v := range o.query {
		q[k] = v
	}
	q.Set("EIO", "4")
	q.Set("transport", name)
	u.RawQuery = q.Encode()
	return u, nil
}

// wsTransport: one websocket message per packet.
type wsTransport struct {
	u      *url.URL
	header http.Header
	conn   *websocket.Conn
	mu     sync.Mutex // writes
}

func (t *wsTransport) open(ctx context.Context) ([]byte, error) {
	u := *t.u
	if u.Scheme == "https" {
		u.Scheme = "wss"
	} else {
		u.Scheme = "ws"
	}
	conn, resp, err := websocket.DefaultDialer.DialContext(ctx, u.String(), t.header)
	var refusal string
	if resp != nil && resp.Body != nil {
		if err != nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			refusal = fmt.Sprintf(" (HTTP %d %s)", resp.StatusCode, bytes.TrimSpace(b))
		}
		_ = resp.Body.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("sioclient: dial %s: %w%s", u.Redacted(), err, refusal)
	}
	t.conn = conn
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetReadDeadline(d)
	}
	mt, first, err := conn.ReadMessage()
	_ = conn.SetReadDeadline(time.Time{})
	if err != nil || mt != websocket.TextMessage {
		_ = conn.Close()
		return nil, fmt.Errorf("sioclient: no engine.io open packet: %w", err)
	}
	return first, nil
}

func (t *wsTransport) next() (frame, error) {
	mt, msg, err := t.conn.ReadMessage()
	if err != nil {
		return frame{}, err
	}
	return frame{binary: mt == websocket.BinaryMessage, data: msg}, nil
}

func (t *wsTransport) send(frames ...frame) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range frames {
		mt := websocket.TextMessage
		if f.binary {
			mt = websocket.BinaryMessage
		}
		if err := t.conn.WriteMessage(mt, f.data); err != nil {
			return fmt.Errorf("sioclient: write: %w", err)
		}
	}
	return nil
}

func (t *wsTransport) close() error {
	if t.conn == nil {
		return nil // never opened
	}
	return t.conn.Close()
}

// pollTransport: HTTP long-polling. GET returns packets separated by
// 0x1e, binary ones as "b"+base64; POST sends them the same way, one
// request at a time.
type pollTransport struct {
	u      *url.URL
	header http.Header
	client *http.Client
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex // POSTs
	pending []frame    // read but not yet returned by next
}

func (t *pollTransport) open(ctx context.Context) ([]byte, error) {
	t.client = &http.Client{Transport: &http.Transport{}}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	frames, err := t.get(ctx)
	if err != nil {
		return nil, err
	}
	if len(frames) == 0 || frames[0].binary || len(frames[0].data) == 0 || frames[0].data[0] != '0' {
		return nil, errors.New("sioclient: no engine.io open packet")
	}
	var open struct {
		Sid string `json:"sid"`
	}
	if err := jsonUnmarshal(frames[0].data[1:], &open); err != nil || open.Sid == "" {
		return nil, fmt.Errorf("sioclient: bad open packet %q", frames[0].data)
	}
	q := t.u.Query()
	q.Set("sid", open.Sid)
	t.u.RawQuery = q.Encode()
	t.pending = frames[1:]
	return frames[0].data, nil
}

func (t *pollTransport) request(ctx context.Context, method string, body io.Reader) (*http.Response, error) {
	u := *t.u
	q := u.Query()
	q.Set("t", fmt.Sprint(time.Now().UnixNano()))
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, err
	}
	for k, v := range t.header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	res, err := t.client.Do(req)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		return nil, fmt.Errorf("sioclient: polling %s: %s: %s", method, res.Status, bytes.TrimSpace(b))
	}
	return res, nil
}

func (t *pollTransport) get(ctx context.Context) ([]frame, error) {
	res, err := t.request(ctx, http.MethodGet, nil)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	payload, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	var out []frame
	for _, p := range bytes.Split(payload, []byte{0x1e}) {
		if len(p) > 0 && p[0] == 'b' {
			b, err := base64.StdEncoding.DecodeString(string(p[1:]))
			if err != nil {
				return nil, fmt.Errorf("sioclient: bad binary packet: %w", err)
			}
			out = append(out, frame{binary: true, data: b})
		} else if len(p) > 0 {
			out = append(out, frame{data: p})
		}
	}
	return out, nil
}

func (t *pollTransport) next() (frame, error) {
	for len(t.pending) == 0 {
		frames, err := t.get(t.ctx)
		if err != nil {
			return frame{}, err
		}
		t.pending = frames
	}
	f := t.pending[0]
	t.pending = t.pending[1:]
	return f, nil
}

func (t *pollTransport) send(frames ...frame) error {
	parts := make([][]byte, len(frames))
	for i, f := range frames {
		if f.binary {
			parts[i] = append([]byte{'b'}, base64.StdEncoding.EncodeToString(f.data)...)
		} else {
			parts[i] = f.data
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	res, err := t.request(t.ctx, http.MethodPost, bytes.NewReader(bytes.Join(parts, []byte{0x1e})))
	if err != nil {
		return fmt.Errorf("sioclient: write: %w", err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	return res.Body.Close()
}

// close aborts the pending poll, as a dropped network would.
func (t *pollTransport) close() error {
	if t.cancel != nil {
		t.cancel()
	}
	if t.client != nil {
		t.client.CloseIdleConnections()
	}
	return nil
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
