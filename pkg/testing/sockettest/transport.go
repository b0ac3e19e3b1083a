package sockettest

import "github.com/socketfx/socketfx/internal/sioclient"

// Transport names the Engine.IO transport a test client uses.
type Transport string

// The transports the test client speaks. It does not upgrade from one to
// the other: pick the one to test.
const (
	WebSocket Transport = "websocket"
	Polling   Transport = "polling"
)

// WithTransport sets the transport. Default WebSocket.
func WithTransport(t Transport) Option {
	return optionFunc(func(o *options) {
		o.client = append(o.client, sioclient.WithTransport(sioclient.Transport(t)))
	})
}
