package socketservice_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/internal/nodeclient"
	"github.com/socketfx/socketfx/pkg/middleware"
	"github.com/socketfx/socketfx/pkg/socketservice"
)

// works serves the well-behaved clients (work acks its argument) and the
// attacker that asks for big replies it never reads; its events are rate
// limited per socket, the abusive disconnected.
type works struct{}

func (works) Register(r *socketservice.Router) {
	r.Namespace("/work")
	// A well-behaved client is never refused; one sending ten times the
	// rate is refused nine times in a row, and disconnected.
	r.Use(middleware.RateLimit(middleware.RateLimitConfig{Rate: 1000, Burst: 200, DisconnectAfter: 8}))
	r.Handle("work", socketservice.Typed(func(ctx context.Context, in map[string]any) (map[string]any, error) { return in, nil }))
	r.Handle("big", socketservice.Typed0(func(ctx context.Context) (string, error) { return strings.Repeat("y", 32<<10), nil }))
}

// tenantsFlood makes the dynamic namespaces an attacker asks for, 50 at most.
type tenantsFlood struct{}

func (tenantsFlood) Register(r *socketservice.Router) {
	r.NamespacePattern(`/t-\d+`)
	r.LimitChildren(socketservice.ChildLimits{Max: 50})
}

// floodRound is one round of every attack at once, each in its own
// goroutine; it returns when they are done.
func floodRound(url string) {
	ws := strings.Replace(url, "http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
	dial := func(d *websocket.Dialer) *websocket.Conn {
		c, _, err := d.Dial(ws, nil)
		Expect(err).NotTo(HaveOccurred())
		_, open, err := c.ReadMessage()
		Expect(err).NotTo(HaveOccurred())
		Expect(string(open)).To(HavePrefix("0{"))
		return c
	}
	join := func(c *websocket.Conn, nsp string) {
		Expect(c.WriteMessage(websocket.TextMessage, []byte("40"+nsp+","))).To(Succeed())
		_, msg, err := c.ReadMessage()
		Expect(err).NotTo(HaveOccurred())
		Expect(string(msg)).To(HavePrefix("40" + nsp + ","))
	}
	drain := func(c *websocket.Conn) { // reads until the server closes it
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				return
			}
		}
	}
	var wg sync.WaitGroup
	attack := func(n int, fn func(i int)) {
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				fn(i)
			}()
		}
	}
	// 1,000 connections opened and dropped without CONNECT, 20 at a time.
	attack(20, func(int) {
		for j := 0; j < 50; j++ {
			_ = dial(websocket.DefaultDialer).Close()
		}
	})
	// Oversize messages, and malformed packets of every kind.
	bad := []struct {
		msg    string
		binary bool
	}{
		{`42/work,["work",{"x":"` + strings.Repeat("x", 20_000) + `"}]`, false},
		{`42/work,["work",{`, false},
		{`49/work,[]`, false},
		{"\x01\x02", true},
		{`4`, false},
		{`42/work,{"not":"an array"}`, false},
		{`9`, false},
		{`43/work,abc["x"]`, false},
		{`40/work,[1,2]`, false},
	}
	attack(len(bad)*3, func(i int) {
		b := bad[i%len(bad)]
		c := dial(websocket.DefaultDialer)
		join(c, "/work")
		mt := websocket.TextMessage
		if b.binary {
			mt = websocket.BinaryMessage
		}
		_ = c.WriteMessage(mt, []byte(b.msg))
		drain(c)
	})
	// 10,000 events a second from one socket, until it is disconnected.
	attack(1, func(int) {
		c := dial(websocket.DefaultDialer)
		join(c, "/work")
		go drain(c)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for range t.C {
			var err error
			for k := 0; k < 10 && err == nil; k++ {
				err = c.WriteMessage(websocket.TextMessage, []byte(`42/work,["work",{}]`))
			}
			if err != nil {
				return
			}
		}
	})
	// 1,000 namespaces asked for by one client (one address), one after
	// the other, the connections held so that the children stay.
	joined, refused := 0, 0
	attack(1, func(int) { joined, refused = askNamespaces(dial, 1000) })
	// A client that asks for big replies and never reads them.
	attack(1, func(int) {
		d := &websocket.Dialer{NetDialContext: (&net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
			return errors.Join(err, serr)
		}}).DialContext}
		c := dial(d)
		join(c, "/work")
		t := time.NewTicker(time.Millisecond) // a request a millisecond
		defer t.Stop()
		for k := 0; ; k++ {
			<-t.C
			if err := c.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`42/work,%d["big"]`, k))); err != nil {
				return // closed: the server gave up on it
			}
		}
	})
	wg.Wait()
	Expect(joined + refused).To(Equal(1000))
	Expect(joined).To(Equal(50), "no more children than the limit")
	Expect(refused).To(Equal(950))
}

// askNamespaces asks for n namespaces of /t-<i>, one connection each,
// held until all are answered, and counts the answers.
func askNamespaces(dial func(*websocket.Dialer) *websocket.Conn, n int) (joined, refused int) {
	var open []*websocket.Conn
	defer func() {
		for _, c := range open {
			_ = c.Close()
		}
	}()
	for i := 0; i < n; i++ {
		c := dial(websocket.DefaultDialer)
		open = append(open, c)
		Expect(c.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf("40/t-%d,", i)))).To(Succeed())
		_, msg, err := c.ReadMessage()
		Expect(err).NotTo(HaveOccurred())
		switch {
		case strings.HasPrefix(string(msg), "44/t-"):
			refused++
		case strings.HasPrefix(string(msg), "40/t-"):
			joined++
		}
	}
	return joined, refused
}

var _ = Describe("floods and bad input, all at once, beside 50 well-behaved clients", func() {
	It("loses no ack, stays bounded, and disconnects every offender with a logged reason", func(ctx SpecContext) {
		leakCheck()
		logs := &lockedLog{}
		sock, url := serveSmallBuffers(ctx, logs, socketservice.Config{
			MaxPayload:     10_000,
			ConnectTimeout: 2 * time.Second,
			WriteBuffer:    socketservice.WriteBufferConfig{MaxBytes: 512 << 10},
		}, works{}, tenantsFlood{})

		// The server's level before anyone connects (measured again once
		// everyone is gone).
		goroutines, heap := runtime.NumGoroutine(), heapInUse()
		d, err := nodeclient.Start()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			if d != nil {
				d.Close()
			}
		})
		const good = 50
		ids := make([]string, good)
		for i := range ids {
			ids[i] = fmt.Sprintf("good-%d", i)
			d.Send(map[string]any{"op": "connect", "id": ids[i], "url": url + "/work", "opts": map[string]any{"transports": []string{"websocket"}}})
		}
		for _, id := range ids {
			Eventually(func() []nodeclient.Report { return d.Find("connect", id) }).Should(HaveLen(1), d.Stderr())
		}
		for _, id := range ids {
			d.Send(map[string]any{"op": "pump", "id": id, "event": "work", "every": 2})
		}

		soak, _ := time.ParseDuration(os.Getenv("SOCKETFX_SOAK"))
		start, rounds := time.Now(), 0
		for rounds == 0 || time.Since(start) < soak {
			floodRound(url)
			rounds++
		}
		took := time.Since(start)
		for _, id := range ids {
			d.Send(map[string]any{"op": "stoppump", "id": id})
		}
		var lat []int
		total := 0
		for _, id := range ids {
			Eventually(func() []nodeclient.Report { return d.Find("stopped", id) }, "15s").Should(HaveLen(1))
			sent := int(d.Find("stopped", id)[0]["sent"].(float64))
			pumped := d.Find("pumped", id)
			Expect(pumped).To(HaveLen(sent), "%s: every emit was acked", id)
			for i, p := range pumped {
				Expect(p).NotTo(HaveKey("error"), "%s: ack %d", id, i)
				Expect(p["seq"]).To(BeNumerically("==", i+1), "%s: in order, none lost", id)
				lat = append(lat, int(p["us"].(float64)))
			}
			total += sent
		}
		slices.Sort(lat)
		p := func(q float64) time.Duration {
			return time.Duration(lat[int(q*float64(len(lat)-1))]) * time.Microsecond
		}
		Expect(sock.Of("/work").Count()).To(Equal(good), "only the well-behaved clients are left")
		d.Close() // the driver's reports are the test's memory, not the server's: let them go
		d = nil
		Eventually(func() int { return sock.Of("/work").Count() }).Should(BeZero())
		Eventually(func() int { return runtime.NumGoroutine() }, "10s").Should(BeNumerically("<=", goroutines+5), "goroutines back to their level")
		grown := int64(heapInUse()) - int64(heap)
		fmt.Fprintf(GinkgoWriter, "flood: %d round(s) in %s; %d acks to 50 clients, none lost; p50 %s, p99 %s, max %s; heap %+d KB; goroutines %d → %d\n",
			rounds, took.Round(time.Millisecond), total, p(0.5), p(0.99), p(1), grown/1024, goroutines, runtime.NumGoroutine())
		Expect(grown).To(BeNumerically("<", 64<<20), "memory stayed bounded")
		for _, reason := range []string{
			"invalid packet from the client; closing its connection", // malformed
			`reason="transport error"`,                               // oversize, unknown packet types
			"rate limit: disconnecting abusive socket",               // the flooder
			"slow consumer",     // the client that never reads
			"namespace refused", // the 1,000 namespaces
		} {
			Expect(logs.String()).To(ContainSubstring(reason))
		}
	}, SpecTimeout(5*time.Minute))
})
