package sockettest_test

import (
	"context"
	"fmt"
	"sync"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/socketfx/socketfx/pkg/contract"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
)

// fakeT records what WithContract reports, so that a spec can look at a
// violation without failing itself.
type fakeT struct {
	mu   sync.Mutex
	errs []string
}

func (t *fakeT) Helper()             {}
func (t *fakeT) Logf(string, ...any) {}
func (t *fakeT) FailNow()            { panic("FailNow") }
func (t *fakeT) Cleanup(func())      {}
func (t *fakeT) Errorf(f string, a ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.errs = append(t.errs, fmt.Sprintf(f, a...))
}

func (t *fakeT) Errors() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.errs...)
}

type Note struct {
	Text string `json:"text" validate:"max=10"`
	N    int    `json:"n"`
}

const noted = socketservice.Event[Note]("noted")

// ledger declares "noted" and then breaks its own contract on request.
type ledger struct{}

func (ledger) Register(r *socketservice.Router) {
	r.Namespace("/ledger")
	r.Emits(noted)
	r.Handle("note", socketservice.TypedSocket(func(ctx context.Context, s *socketservice.Socket, how string) (socketservice.NoReply, error) {
		var err error
		switch how {
		case "right":
			err = noted.Emit(s, Note{Text: "hi", N: 1})
		case "undeclared":
			err = s.Emit("gossip", "psst")
		case "mistyped":
			err = s.Emit("noted", map[string]any{"text": 42})
		case "code":
			err = socketservice.NewError("LEDGER_CLOSED", "closed")
		}
		return socketservice.NoReply{}, err
	}), socketservice.WithErrors("LEDGER_OPEN"))
}

var _ = Describe("WithContract", func() {
	var (
		c   *contract.Contract
		url string
	)
	BeforeEach(func() {
		srv := sockettest.NewServer(GinkgoT(), socketservice.AsService(func() ledger { return ledger{} }))
		var err error
		c, err = contract.FromServer(srv.Socket)
		Expect(err).NotTo(HaveOccurred())
		url = srv.URL
	})

	client := func(t sockettest.TB) *sockettest.Client {
		cl, err := sockettest.Connect(ctxT(), url, "/ledger", sockettest.WithContract(c, t))
		Expect(err).NotTo(HaveOccurred())
		return cl
	}

	It("passes a server that keeps its contract", func() {
		t := &fakeT{}
		cl := client(t)
		Expect(cl.Call(ctxT(), "note", "right", nil)).To(Succeed())
		_, err := cl.WaitFor(ctxT(), "noted")
		Expect(err).NotTo(HaveOccurred())
		cl.Close()
		Expect(t.Errors()).To(BeEmpty())
	})

	It("fails on an undeclared event, a payload of the wrong type and an undeclared error code", func() {
		t := &fakeT{}
		cl := client(t)
		Expect(cl.Call(ctxT(), "note", "undeclared", nil)).To(Succeed())
		Expect(cl.Call(ctxT(), "note", "mistyped", nil)).To(Succeed())
		Expect(cl.Call(ctxT(), "note", "code", nil)).To(MatchError(ContainSubstring("closed")))
		cl.Close()
		Expect(t.Errors()).To(ConsistOf(
			SatisfyAll(ContainSubstring(`event "gossip"`), ContainSubstring("declares no such")),
			SatisfyAll(ContainSubstring(`event "noted"`), ContainSubstring("/0/text")),
			SatisfyAll(ContainSubstring(`the ack of "note"`), ContainSubstring("/0/error/code"), ContainSubstring("LEDGER_OPEN")),
		))
	})

	It("checks what an EventContext records", func() {
		t := &fakeT{}
		ev := sockettest.NewEventContext("/ledger", "note", sockettest.WithContract(c, t))
		_, err := ev.Serve(ledger{}, "undeclared")
		Expect(err).NotTo(HaveOccurred())
		Expect(t.Errors()).To(ConsistOf(ContainSubstring(`event "gossip"`)))

		t2 := &fakeT{}
		ev = sockettest.NewEventContext("/ledger", "note", sockettest.WithContract(c, t2))
		_, err = ev.Serve(ledger{}, "right")
		Expect(err).NotTo(HaveOccurred())
		Expect(ev.Emits()).To(HaveLen(1))
		Expect(t2.Errors()).To(BeEmpty())
	})
})
