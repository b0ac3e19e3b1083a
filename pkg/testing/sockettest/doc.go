// Package sockettest tests socketfx services end to end: NewServer starts
// your fx modules on a free loopback port (like net/http/httptest), and
// Connect gives a Socket.IO client that records every event in order.
//
//	srv := sockettest.NewServer(GinkgoT(), socketservice.AsService(NewChat))
//	c, err := srv.Connect(ctx, "/chat", sockettest.WithAuth(map[string]any{"name": "ann"}))
//	Expect(err).NotTo(HaveOccurred())
//	var out Message
//	Expect(c.Call(ctx, "chat:message", Message{Text: "hi"}, &out)).To(Succeed())
//
// The client speaks Engine.IO v4 and Socket.IO v5 itself, over websocket
// or long-polling (the upstream Go clients were measured to drop opens and
// reorder events); it owns one goroutine, which Close and Disconnect stop.
// Gomega matchers (ReceiveEvent, HaveAckOK, …) read it; NewEventContext
// calls handlers without a network. See docs/testing.md.
package sockettest
