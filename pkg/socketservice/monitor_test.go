package socketservice_test

import (
	"fmt"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
)

// recordingMonitor writes down what a Monitor is told, one line a call.
type recordingMonitor struct {
	mu    sync.Mutex
	lines []string
	conns map[string]string // socket id → its connection id
}

func (m *recordingMonitor) add(format string, args ...any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lines = append(m.lines, fmt.Sprintf(format, args...))
}

func (m *recordingMonitor) Lines() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.lines...)
}

func (m *recordingMonitor) ConnOpened(t string)            { m.add("conn opened %s", t) }
func (m *recordingMonitor) ConnUpgraded(from, to string)   { m.add("conn upgraded %s %s", from, to) }
func (m *recordingMonitor) ConnClosed(t, reason string)    { m.add("conn closed %s %s", t, reason) }
func (m *recordingMonitor) PacketIn(string, int)           {}
func (m *recordingMonitor) PacketOut(string, int)          {}
func (m *recordingMonitor) RoomJoined(ns, room, id string) { m.add("joined %s %s %s", ns, room, id) }
func (m *recordingMonitor) RoomLeft(ns, room, id string)   { m.add("left %s %s %s", ns, room, id) }

func (m *recordingMonitor) SocketConnected(s *socketservice.Socket) {
	m.mu.Lock()
	m.conns[s.ID()] = s.ConnID()
	m.mu.Unlock()
	m.add("connected %s %s", s.Namespace(), s.ID())
}

func (m *recordingMonitor) SocketUpgraded(s *socketservice.Socket, transport string) {
	m.add("upgraded %s %s", s.ID(), transport)
}

func (m *recordingMonitor) SocketDisconnected(s *socketservice.Socket, reason string) {
	m.add("disconnected %s %s", s.ID(), reason)
}

func (m *recordingMonitor) EventReceived(s *socketservice.Socket, event string, args []any) {
	m.add("received %s %s %v", s.ID(), event, args)
}

func (m *recordingMonitor) EventSent(s *socketservice.Socket, event string, args []any) {
	m.add("sent %s %s %v", s.ID(), event, args)
}

var _ = Describe("monitors", func() {
	It("see connects, upgrades, rooms, events in and out, and disconnects", func() {
		leakCheck()
		mon := &recordingMonitor{conns: map[string]string{}}
		srv := sockettest.NewServer(GinkgoT(),
			socketservice.AsService(newEcho),
			socketservice.AsMonitor(func() socketservice.Monitor { return mon }),
		)
		c := connect(srv, "/echo", sockettest.WithTransport(sockettest.Polling))
		other := connect(srv, "/echo")
		id := c.ID()
		Eventually(mon.Lines).Should(ContainElements(
			"conn opened polling",
			"joined /echo "+id+" "+id,
			"connected /echo "+id,
		))
		Expect(mon.conns[id]).NotTo(BeEmpty())
		Expect(mon.conns[id]).NotTo(Equal(mon.conns[other.ID()]), "each client has its own connection")

		call(c, "join", "lobby")
		Expect(srv.Socket.Of("/echo").In("lobby").Emit("news", "hi", 2)).To(Succeed())
		Eventually(c.Events).Should(ContainElement(sockettest.Event{Name: "news", Args: []any{"hi", 2.0}}))
		Eventually(mon.Lines).Should(ContainElements(
			"received "+id+" join [lobby]",
			"joined /echo lobby "+id,
			"sent "+id+" news [hi 2]",
		))
		Expect(mon.Lines()).NotTo(ContainElement("sent "+other.ID()+" news [hi 2]"), "a broadcast is reported for the sockets it reached")

		c.Disconnect()
		Eventually(mon.Lines).Should(ContainElements(
			"left /echo lobby "+id,
			"disconnected "+id+" client namespace disconnect",
		))
	})
})
