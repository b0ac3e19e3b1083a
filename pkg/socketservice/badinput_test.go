package socketservice_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
)

type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedLog) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// dialRaw opens a websocket engine connection and connects it to nsp; it
// returns the websocket right after the CONNECT packet arrived.
func dialRaw(url, nsp string) *websocket.Conn {
	GinkgoHelper()
	ws := dialRawNoConnect(url)
	Expect(ws.WriteMessage(websocket.TextMessage, []byte("40"+nsp+","))).To(Succeed())
	_, connected, err := ws.ReadMessage()
	Expect(err).NotTo(HaveOccurred())
	Expect(string(connected)).To(HavePrefix("40" + nsp + ","))
	return ws
}

// dialRawNoConnect opens a websocket engine connection, past its open
// packet.
func dialRawNoConnect(url string) *websocket.Conn {
	GinkgoHelper()
	ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(url, "http", "ws", 1)+"/socket.io/?EIO=4&transport=websocket", http.Header{})
	Expect(err).NotTo(HaveOccurred())
	_, open, err := ws.ReadMessage()
	Expect(err).NotTo(HaveOccurred())
	Expect(string(open)).To(HavePrefix("0{"))
	return ws
}

// rawClient opens an engine connection to /echo and returns the websocket,
// past the open and CONNECT packets and one ack.
func rawClient(url string) *websocket.Conn {
	ws := dialRaw(url, "/echo")
	DeferCleanup(ws.Close)
	// One ack round trip: the socket is fully set up on the server.
	Expect(ws.WriteMessage(websocket.TextMessage, []byte(`42/echo,1["ping"]`))).To(Succeed())
	_, acked, err := ws.ReadMessage()
	Expect(err).NotTo(HaveOccurred())
	Expect(string(acked)).To(HavePrefix("43/echo,1"))
	return ws
}

// closedBy reads until the server closes the connection.
func closedBy(ws *websocket.Conn) error {
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			return err
		}
	}
}

var _ = Describe("bad input", func() {
	var (
		srv  *sockettest.Server
		logs *lockedLog
		ok   *sockettest.Client
	)
	BeforeEach(func() {
		leakCheck()
		logs = &lockedLog{}
		srv = sockettest.NewServer(GinkgoT(),
			socketservice.AsService(newEcho),
			fx.Supply(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))),
			fx.Decorate(func(c socketservice.Config) socketservice.Config { c.MaxPayload = 10_000; return c }),
		)
		ok = connect(srv, "/echo")
	})

	DescribeTable("closes only the offending connection, and says why in the log",
		func(packet string, binary bool, logged string) {
			ws := rawClient(srv.URL)
			mt := websocket.TextMessage
			if binary {
				mt = websocket.BinaryMessage
			}
			err := ws.WriteMessage(mt, []byte(packet))
			if len(packet) <= 10_000 {
				Expect(err).NotTo(HaveOccurred())
			} // else the server may cut the connection while the client still writes

			Expect(closedBy(ws)).To(HaveOccurred())
			Eventually(logs.String).Should(ContainSubstring(logged))
			Expect(okData(call(ok, "ping"))).To(Equal("pong"), "everyone else is still served")
		},
		Entry("a malformed Socket.IO packet", `42/echo,["say",{`, false, `invalid packet from the client; closing its connection" namespace=/echo socket=`),
		Entry("an unknown packet type", `49/echo,[]`, false, `error="unknown packet type 9"`),
		Entry("an attachment nobody announced", "\x01\x02", true, `error="got binary data when not reconstructing a packet"`),
		Entry("a message over MaxPayload", `42/echo,["say",{"text":"`+strings.Repeat("x", 20_000)+`"}]`, false, `msg="socketfx: connection closed" reason="transport error" error=`),
	)
})
