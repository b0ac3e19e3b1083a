package socketservice_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/socketservice"
)

// stage lets clients join its room; the spec broadcasts to it.
type stage struct{ gone chan string }

func (st stage) Register(r *socketservice.Router) {
	r.Namespace("/stage")
	r.OnConnect(func(ctx context.Context, s *socketservice.Socket) error { s.Join("room"); return nil })
	r.OnDisconnect(func(ctx context.Context, s *socketservice.Socket, reason string) { st.gone <- reason })
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// serveSmallBuffers starts a server of svcs, logging to logs, and serves it
// with a 16 KB kernel send buffer per connection (a slow link: without it
// loopback buffers absorb megabytes before the server's own backlog starts
// to grow). It returns the server and its URL; the spec's cleanup stops
// both.
func serveSmallBuffers(ctx context.Context, logs *lockedLog, cfg socketservice.Config, svcs ...socketservice.Service) (*socketservice.Server, string) {
	GinkgoHelper()
	sock, err := socketservice.New(cfg, socketservice.WithServices(svcs...),
		socketservice.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))))
	Expect(err).NotTo(HaveOccurred())
	Expect(sock.Start(ctx)).To(Succeed())
	DeferCleanup(func() { _ = sock.Stop(context.Background()) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	hs := &http.Server{Handler: sock.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(smallSendBuffers{ln}) }()
	DeferCleanup(hs.Close)
	return sock, "http://" + ln.Addr().String()
}

// smallSendBuffers accepts connections with a 16 KB kernel send buffer.
type smallSendBuffers struct{ net.Listener }

func (l smallSendBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}

var _ = Describe("a slow consumer", func() {
	It("is disconnected within the write-buffer bound while 50 other clients get every broadcast in order", func(ctx SpecContext) {
		leakCheck()
		gone := make(chan string, 64)
		logs := &lockedLog{}
		sock, url := serveSmallBuffers(ctx, logs, socketservice.Config{WriteBuffer: socketservice.WriteBufferConfig{MaxBytes: 256 << 10}}, stage{gone})
		const others = 50
		// The others read everything and check the order as they go (they
		// keep nothing: the heap measured below is the server's).
		type reader struct {
			got    atomic.Int64
			badSeq atomic.Int64
			ws     *websocket.Conn
		}
		readers := make([]*reader, others)
		var readersDone sync.WaitGroup
		for i := range readers {
			r := &reader{ws: dialRaw(url, "/stage")}
			r.badSeq.Store(-1)
			readers[i] = r
			readersDone.Add(1)
			go func() {
				defer readersDone.Done()
				for {
					_, msg, err := r.ws.ReadMessage()
					if err != nil {
						return
					}
					switch {
					case string(msg) == "2":
						_ = r.ws.WriteMessage(websocket.TextMessage, []byte("3"))
					case strings.HasPrefix(string(msg), `42/stage,["tick",`):
						rest := strings.TrimPrefix(string(msg), `42/stage,["tick",`)
						n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
						if int64(n) != r.got.Load() && r.badSeq.Load() < 0 {
							r.badSeq.Store(int64(n))
						}
						r.got.Add(1)
					}
				}
			}()
		}
		defer func() {
			for _, r := range readers {
				_ = r.ws.Close()
			}
			readersDone.Wait()
		}()
		// The slow one: a websocket client that joins and then never reads,
		// with a small receive buffer so that the kernel does not absorb
		// megabytes first (loopback buffers grow to several).
		dialer := websocket.Dialer{NetDialContext: (&net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
			return errors.Join(err, serr)
		}}).DialContext}
		slow, _, err := dialer.DialContext(ctx, strings.Replace(url, "http", "ws", 1)+"/socket.io/?EIO=4&transport=websocket", nil)
		Expect(err).NotTo(HaveOccurred())
		defer slow.Close()
		_, open, err := slow.ReadMessage()
		Expect(err).NotTo(HaveOccurred())
		Expect(string(open)).To(HavePrefix("0{"))
		Expect(slow.WriteMessage(websocket.TextMessage, []byte("40/stage,"))).To(Succeed())
		_, connected, err := slow.ReadMessage()
		Expect(err).NotTo(HaveOccurred())
		Expect(string(connected)).To(HavePrefix("40/stage,"))
		Eventually(func() int { return sock.Of("/stage").Count() }).Should(Equal(others + 1))

		before := heapInUse()
		payload := strings.Repeat("x", 1024)
		room := sock.Of("/stage").To("room")
		var (
			wg     sync.WaitGroup
			sent   int
			reason string
		)
		stop := make(chan struct{})
		wg.Add(1)
		go func() { // 1 KB to the room 100 times a second, until the slow one is gone and 100 more
			defer wg.Done()
			t := time.NewTicker(10 * time.Millisecond)
			defer t.Stop()
			after := -1
			for {
				select {
				case <-stop:
					return
				case <-t.C:
				}
				_ = room.Emit("tick", sent, payload)
				sent++
				if after < 0 {
					select {
					case reason = <-gone:
						after = sent
					default:
					}
				} else if sent >= after+100 {
					return
				}
			}
		}()
		start := time.Now()
		Eventually(func() bool { return strings.Contains(logs.String(), "slow consumer") }, "30s").Should(BeTrue())
		took := time.Since(start)
		wg.Wait()
		close(stop)
		Expect(reason).To(Equal("slow consumer"), "the socket's disconnect hook")
		grown := int64(heapInUse()) - int64(before)
		fmt.Fprintf(GinkgoWriter, "slow consumer: disconnected after %s (%d broadcasts of 1 KB); heap in use %+d KB\n", took, sent, grown/1024)
		Expect(grown).To(BeNumerically("<", 16<<20), "the server's memory stayed bounded")
		for i, r := range readers {
			Eventually(r.got.Load, "10s").Should(BeNumerically("==", sent), "client %d got every broadcast", i)
			Expect(r.badSeq.Load()).To(BeNumerically("==", -1), "client %d: in order", i)
		}
	}, SpecTimeout(90*time.Second))
})
