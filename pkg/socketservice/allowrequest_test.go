package socketservice_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
	"go.uber.org/fx"
)

var _ = Describe("AllowRequest", func() {
	var (
		srv   *sockettest.Server
		calls atomic.Int32
		gate  chan struct{} // when set, the hook waits on it
		in    chan struct{} // the hook signals it is waiting
	)
	BeforeEach(func() {
		leakCheck()
		calls.Store(0)
		gate, in = nil, nil
		srv = sockettest.NewServer(GinkgoT(),
			socketservice.AsService(func() *echo { return newEcho() }),
			fx.Supply(socketservice.AllowRequest(func(r *http.Request) error {
				calls.Add(1)
				switch r.Header.Get("X-Test") {
				case "flood":
					return socketservice.RefuseRequest(http.StatusTooManyRequests, socketservice.CodeRateLimited, "too many connections from your address")
				case "stranger":
					return socketservice.NewError(socketservice.CodeUnauthorized, "who are you?")
				case "broken":
					return errors.New("database down: secret detail")
				case "wait":
					in <- struct{}{}
					<-gate
				}
				return nil
			})),
		)
	})
	handshake := func(header string) (int, string) {
		req, err := http.NewRequestWithContext(ctxT(), http.MethodGet, srv.URL+"/socket.io/?EIO=4&transport=polling", nil)
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("X-Test", header)
		res, err := http.DefaultClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}

	It("refuses a handshake with the status and code the hook chose, before any session exists", func() {
		status, body := handshake("flood")
		Expect(status).To(Equal(http.StatusTooManyRequests))
		Expect(body).To(MatchJSON(`{"code":4,"message":"too many connections from your address","data":{"code":"RATE_LIMITED"}}`))

		status, body = handshake("stranger")
		Expect(status).To(Equal(http.StatusUnauthorized))
		Expect(body).To(MatchJSON(`{"code":4,"message":"who are you?","data":{"code":"UNAUTHORIZED"}}`))

		status, body = handshake("broken")
		Expect(status).To(Equal(http.StatusForbidden))
		Expect(body).To(MatchJSON(`{"code":4,"message":"Forbidden"}`))
		Expect(srv.Socket.Of("/echo").Count()).To(BeZero())
	})

	It("refuses a websocket opened directly; the client's connection fails", func() {
		_, err := srv.Connect(ctxT(), "/echo", sockettest.WithTransport(sockettest.WebSocket), sockettest.WithHeader(http.Header{"X-Test": {"flood"}}))
		Expect(err).To(MatchError(ContainSubstring("429")))
		_, err = srv.Connect(ctxT(), "/echo", sockettest.WithTransport(sockettest.Polling), sockettest.WithHeader(http.Header{"X-Test": {"flood"}}))
		Expect(err).To(MatchError(ContainSubstring("429")))
	})

	It("sees only a connection's first request, not the rest of its session or its upgrade", func() {
		c, err := srv.Connect(ctxT(), "/echo", sockettest.WithTransport(sockettest.Polling))
		Expect(err).NotTo(HaveOccurred())
		Expect(okData(call(c, "ping"))).To(Equal("pong"))
		Expect(okData(call(c, "ping"))).To(Equal("pong"))
		Expect(calls.Load()).To(Equal(int32(1)))
		status, body := handshake("")
		Expect(status).To(Equal(http.StatusOK))
		Expect(strings.HasPrefix(body, "0{")).To(BeTrue(), body)
		Expect(calls.Load()).To(Equal(int32(2)))
	})

	It("delays a connection while the hook blocks", func() {
		gate, in = make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			c, err := srv.Connect(context.Background(), "/echo", sockettest.WithHeader(http.Header{"X-Test": {"wait"}}))
			if err == nil {
				c.Close()
			}
			done <- err
		}()
		Eventually(in).Should(Receive())
		Expect(done).NotTo(Receive(), "connected while the hook still held the request")
		close(gate)
		Eventually(done).Should(Receive(BeNil()))
	})
})
