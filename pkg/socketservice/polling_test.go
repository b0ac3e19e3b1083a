package socketservice_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
)

// The polling transport's close path, probed with raw HTTP against
// /socket.io/ as the engine.io protocol test suite does. Each race is
// tried enough times to catch a 1-in-10 failure.
var _ = Describe("long-polling close path", func() {
	const tries = 100
	// answered is how long a request may take to be answered once the
	// session closes; a pending poll otherwise waits for the next ping
	// (25 s by default).
	const answered = 3 * time.Second

	var srv *sockettest.Server
	start := func(ping time.Duration) {
		leakCheck()
		srv = sockettest.NewServer(GinkgoT(), socketservice.AsService(newEcho),
			fx.Decorate(func(c socketservice.Config) socketservice.Config {
				if ping > 0 {
					c.PingInterval, c.PingTimeout = ping, ping
				}
				return c
			}))
	}

	It("answers both of two overlapping polls, and ends the session", func() {
		start(0)
		for i := 0; i < tries; i++ {
			p := openPoll(srv.URL)
			var wg sync.WaitGroup
			codes := make([]int, 2)
			for j := range codes {
				wg.Add(1)
				go func() {
					defer GinkgoRecover()
					defer wg.Done()
					codes[j], _ = p.get(answered)
				}()
			}
			wg.Wait()
			Expect(codes).To(ContainElement(http.StatusBadRequest), "try %d: the overlapping poll is refused", i)
			Expect(codes).NotTo(ContainElement(0), "try %d: a poll was never answered", i)
			code, body := p.get(answered)
			Expect(code).To(Equal(http.StatusBadRequest), "try %d: the session is over: %q", i, body)
		}
	})

	It("answers a poll sent right after an upgrade to websocket", func() {
		start(0)
		for i := 0; i < tries; i++ {
			p := openPoll(srv.URL)
			ws := p.upgrade()
			code, body := p.get(answered)
			Expect(code).NotTo(BeZero(), "try %d: the poll was never answered", i)
			if code == http.StatusOK {
				// It reached the polling transport before the upgrade
				// completed; the old transport answers it as it closes
				// (a noop, or its close packet), as Node's does.
				Expect(body).To(BeElementOf("6", "1"), "try %d", i)
			}
			// the session lives on over the websocket
			Expect(ws.WriteMessage(websocket.TextMessage, []byte("40/echo,"))).To(Succeed())
			_, msg, err := ws.ReadMessage()
			Expect(err).NotTo(HaveOccurred(), "try %d", i)
			Expect(string(msg)).To(HavePrefix("40/echo,"), "try %d", i)
			_ = ws.Close()
		}
	})

	It("answers a pending poll when the ping timeout closes the session, and refuses later ones", func() {
		start(25 * time.Millisecond)
		var wg sync.WaitGroup
		for i := 0; i < 3*tries; i++ { // a rarer race: about 1 try in 250 without the fix
			wg.Add(1)
			go func() {
				defer GinkgoRecover()
				defer wg.Done()
				p := openPoll(srv.URL)
				code, body := p.get(answered) // the ping, never answered
				Expect(code).To(Equal(http.StatusOK))
				Expect(body).To(Equal("2"))
				code, body = p.get(answered) // pending when the timeout fires
				Expect(code).NotTo(BeZero(), "try %d: the pending poll was never answered", i)
				if code == http.StatusOK {
					Expect(body).NotTo(ContainSubstring("2"), "try %d: a closing session sends no ping", i)
				}
				second := body
				code, body = p.get(answered)
				Expect(code).To(Equal(http.StatusBadRequest), "try %d: %q after %q", i, body, second)
				Expect(body).To(MatchJSON(`{"code":1,"message":"Session ID unknown"}`), "try %d", i)
			}()
			if i%10 == 9 {
				wg.Wait()
			}
		}
		wg.Wait()
	})

	It("leaves no close timer behind when the ping timeout closes a session between two polls", func() {
		// The transport, closed with no poll pending, buffers its close
		// packet for the next poll and arms a 30 s timer; the session is
		// gone, so no poll of it comes. leakCheck fails on that timer.
		start(25 * time.Millisecond)
		var sessions []*pollSession
		for i := 0; i < 5; i++ {
			p := openPoll(srv.URL)
			code, body := p.get(answered) // the ping, never answered, and no poll after it
			Expect(code).To(Equal(http.StatusOK))
			Expect(body).To(Equal("2"))
			sessions = append(sessions, p)
		}
		for i, p := range sessions {
			Eventually(func() int { code, _ := p.get(answered); return code }).Should(Equal(http.StatusBadRequest), "session %d is closed", i)
		}
	})

	It("refuses every request of a session the client closed", func() {
		start(0)
		for i := 0; i < tries; i++ {
			p := openPoll(srv.URL)
			Expect(p.post("1")).To(Equal(http.StatusOK), "try %d: the close packet", i)
			code, body := p.get(answered)
			Expect(code).To(Equal(http.StatusBadRequest), "try %d", i)
			Expect(body).To(MatchJSON(`{"code":1,"message":"Session ID unknown"}`), "try %d", i)
		}
	})

	It("closes the session of a malformed POST body with 400", func() {
		start(0)
		for i := 0; i < 10; i++ {
			p := openPoll(srv.URL)
			Expect(p.post("40/echo,\x1e9garbage")).To(Equal(http.StatusBadRequest), "try %d", i)
			code, body := p.get(answered)
			Expect(code).To(Equal(http.StatusBadRequest), "try %d: the session is over", i)
			Expect(body).To(MatchJSON(`{"code":1,"message":"Session ID unknown"}`), "try %d", i)
		}
	})

	It("still serves a well-formed polling session", func() {
		start(0)
		p := openPoll(srv.URL)
		Expect(p.post("40/echo,")).To(Equal(http.StatusOK))
		code, body := p.get(answered)
		Expect(code).To(Equal(http.StatusOK))
		Expect(body).To(HavePrefix("40/echo,"))
		Expect(p.post(`42/echo,7["ping"]`)).To(Equal(http.StatusOK))
		code, body = p.get(answered)
		Expect(code).To(Equal(http.StatusOK))
		Expect(body).To(ContainSubstring(`43/echo,7[{"data":"pong","status":"ok"}]`))
	})
})

// pollSession is a raw engine.io long-polling session.
type pollSession struct {
	base string // http://host/socket.io/?EIO=4&transport=polling&sid=…
	sid  string
	url  string
}

func openPoll(url string) *pollSession {
	resp, err := http.Get(url + "/socket.io/?EIO=4&transport=polling")
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	Expect(resp.StatusCode).To(Equal(http.StatusOK), string(b))
	Expect(string(b)).To(HavePrefix("0{"))
	var open struct{ Sid string }
	Expect(json.Unmarshal(b[1:], &open)).To(Succeed())
	return &pollSession{url: url, sid: open.Sid, base: url + "/socket.io/?EIO=4&transport=polling&sid=" + open.Sid}
}

// get polls; code 0 means no answer within wait.
func (p *pollSession) get(wait time.Duration) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.base, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		Expect(ctx.Err()).To(HaveOccurred(), "the request failed: %v", err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, ""
	}
	return resp.StatusCode, string(b)
}

func (p *pollSession) post(body string) int {
	resp, err := http.Post(p.base, "text/plain;charset=UTF-8", strings.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// upgrade moves the session to websocket (probe, then upgrade packet).
func (p *pollSession) upgrade() *websocket.Conn {
	ws, _, err := websocket.DefaultDialer.Dial(strings.Replace(p.url, "http", "ws", 1)+
		"/socket.io/?EIO=4&transport=websocket&sid="+p.sid, nil)
	Expect(err).NotTo(HaveOccurred())
	Expect(ws.WriteMessage(websocket.TextMessage, []byte("2probe"))).To(Succeed())
	_, msg, err := ws.ReadMessage()
	Expect(err).NotTo(HaveOccurred())
	Expect(string(msg)).To(Equal("3probe"))
	Expect(ws.WriteMessage(websocket.TextMessage, []byte("5"))).To(Succeed())
	return ws
}
