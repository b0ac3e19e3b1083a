// Package clustertest runs a multi-node socketfx cluster inside one test:
// a real redis-server (pkg/testing/redistest) and N fx apps joined through
// pkg/adapter, each listening on 127.0.0.1:0, with clients spread over
// them. Nodes can be stopped cleanly or crashed, and Redis stopped and
// restarted, to test what users see when a node or Redis goes away.
//
//	c := clustertest.Start(GinkgoT(), 2, socketservice.AsService(NewChat))
//	c.Ready("/chat", 5*time.Second)
//	alice, _ := c.Connect(ctx, 0, "/chat")
//	bob, _ := c.Connect(ctx, 1, "/chat")
//	_ = c.Node(0).Socket.Of("/chat").Emit("news", "hi")
//	Eventually(bob).Should(sockettest.ReceiveEvent("news"))
package clustertest
