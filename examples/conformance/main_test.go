package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"
)

func TestConformance(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(5 * time.Second)
	RunSpecs(t, "conformance example")
}

var _ = Describe("the conformance app", func() {
	var base string
	ctx := func() context.Context {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		time.AfterFunc(6*time.Second, cancel)
		return c
	}
	BeforeEach(func() {
		before := []goleak.Option{goleak.IgnoreCurrent()}
		DeferCleanup(func() { Eventually(func() error { return goleak.Find(before...) }).Should(Succeed()) })
		var srv *socketservice.Server
		app := fxtest.New(GinkgoT(), Module("127.0.0.1:0"), fx.Populate(&srv), fx.NopLogger)
		app.RequireStart()
		DeferCleanup(app.RequireStop)
		base = "http://" + srv.Addr()
		Expect(srv.Config().PingInterval).To(Equal(300 * time.Millisecond))
	})

	for _, nsp := range []string{"/", "/custom"} {
		It("sends auth, echoes messages and acks on "+nsp, func() {
			c, err := sockettest.Connect(ctx(), base, nsp, sockettest.WithAuth(map[string]any{"token": "abc"}))
			Expect(err).NotTo(HaveOccurred())
			defer c.Close()
			ev, err := c.Next(ctx())
			Expect(err).NotTo(HaveOccurred())
			Expect(ev).To(Equal(sockettest.Event{Name: "auth", Args: []any{map[string]any{"token": "abc"}}}))

			Expect(c.Emit("message", 1, "2", map[string]any{"3": 4.0}, []byte{5, 6})).To(Succeed())
			ev, err = c.Next(ctx())
			Expect(err).NotTo(HaveOccurred())
			Expect(ev).To(Equal(sockettest.Event{Name: "message-back", Args: []any{1.0, "2", map[string]any{"3": 4.0}, []byte{5, 6}}}))

			a, err := c.EmitWithAck(ctx(), "message-with-ack", 1, "2", []byte{3})
			Expect(err).NotTo(HaveOccurred())
			Expect(a).To(Equal([]any{1.0, "2", []byte{3}}))
		})
	}

	It("sends {} as auth when the client sent none, and knows no other namespace", func() {
		c, err := sockettest.Connect(ctx(), base, "/")
		Expect(err).NotTo(HaveOccurred())
		defer c.Close()
		ev, err := c.Next(ctx())
		Expect(err).NotTo(HaveOccurred())
		Expect(ev).To(Equal(sockettest.Event{Name: "auth", Args: []any{map[string]any{}}}))
		_, err = sockettest.Connect(ctx(), base, "/random")
		Expect(err).To(MatchError(&sockettest.ConnectError{Message: "Invalid namespace", Data: map[string]any{"code": "INVALID_NAMESPACE"}}))
	})

	It("works with the official Node client, binary included", func() {
		node, err := exec.LookPath("node")
		Expect(err).NotTo(HaveOccurred(), "Node.js is needed (make deps installs the client)")
		modules, err := filepath.Abs("../../interop/node_modules")
		Expect(err).NotTo(HaveOccurred())
		cmd := exec.CommandContext(ctx(), node, "-e", officialClient, base+"/custom")
		cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
		out, err := cmd.CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
		var got map[string]any
		Expect(json.Unmarshal(out, &got)).To(Succeed(), string(out))
		Expect(got).To(Equal(map[string]any{
			"auth":    map[string]any{"x": 1.0},
			"back":    []any{"hi", []any{1.0, 2.0}},
			"ack":     []any{"x", 2.0},
			"binary":  true,
			"version": got["version"],
		}))
		Expect(got["version"]).To(HavePrefix("4."))
	})
})

// officialClient connects socket.io-client@4 (from interop/node_modules) to
// the URL in argv, runs the conformance exchange and prints what it saw.
const officialClient = `
const { io } = require("socket.io-client");
const version = require("socket.io-client/package.json").version;
const s = io(process.argv[1], { auth: { x: 1 }, reconnection: false });
const out = { version };
s.on("connect_error", (e) => { console.error(e.message); process.exit(1); });
s.on("auth", (auth) => {
  out.auth = auth;
  s.emit("message", "hi", Buffer.from([1, 2]));
});
s.on("message-back", (text, bin) => {
  out.binary = Buffer.isBuffer(bin);
  out.back = [text, [...bin]];
  s.timeout(2000).emit("message-with-ack", "x", 2, (err, ...args) => {
    if (err) { console.error(err.message); process.exit(1); }
    out.ack = args;
    console.log(JSON.stringify(out));
    s.close();
    process.exit(0);
  });
});
setTimeout(() => { console.error("timed out", JSON.stringify(out)); process.exit(1); }, 4000);
`
