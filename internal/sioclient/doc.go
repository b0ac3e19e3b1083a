// Package sioclient is a Socket.IO client: it speaks Engine.IO v4 and
// Socket.IO v5 itself, over websocket or HTTP long-polling (it does not
// upgrade from one to the other), because the upstream Go clients were
// measured to drop opens and reorder events.
//
//	c, err := sioclient.Connect(ctx, "http://127.0.0.1:3000", "/chat",
//		sioclient.WithAuth(map[string]any{"name": "ann"}))
//	if err != nil {
//		return err // a *ConnectError when the server refused
//	}
//	defer c.Close()
//	var out Message
//	err = c.Call(ctx, "chat:message", Message{Text: "hi"}, &out)
//
// A Client joins one namespace and records every event it receives, in
// order; Next, WaitFor and Consume read them with a cursor. It acks, sends
// and receives binary attachments, answers the server's ack requests
// (HandleAck), and reconnects asking for connection-state recovery
// (Reconnect). It owns one goroutine, which Close and Disconnect stop.
//
// It is shared by the test kit (pkg/testing/sockettest, which adds Gomega
// matchers over it) and the load tool (cmd/socketfx-load), and imports
// nothing but the standard library and gorilla/websocket: no test
// framework.
package sioclient
