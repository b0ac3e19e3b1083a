package sockettest

import (
	"sync"

	"github.com/socketfx/socketfx/pkg/contract"
)

// WithContract holds the server to a contract (pkg/contract), for users
// who want it enforced: every event a Client receives, and every emit an
// EventContext records, must be a server-to-client event its namespace
// declares (socketservice.Event and Router.Emits, or an emit option of a
// handler), with a payload that matches the declared type; every ack a
// Client gets (EmitWithAck, Call) must match the event's ack, its error
// code one of those declared (WithErrors). A violation fails the test
// through t.Errorf (t is a *testing.T or GinkgoT()), from the goroutine of the test: when it reads events
// (Next, WaitFor, Events), gets an ack, or closes the client (Close,
// Disconnect); an EventContext checks after each Call and Serve and in
// Emits.
//
//	c, _ := contract.FromServer(srv)
//	client, err := sockettest.Connect(ctx, url, "/chat", sockettest.WithContract(c, GinkgoT()))
func WithContract(c *contract.Contract, t TB) Option {
	return optionFunc(func(o *options) { o.contract = &contractCheck{c: c, t: t} })
}

// contractCheck checks what a client or event context received; checked
// counts the events already checked.
type contractCheck struct {
	c    *contract.Contract
	t    TB
	once sync.Once
	k    *contract.Checker

	mu      sync.Mutex
	checked int
}

func (cc *contractCheck) checker() *contract.Checker {
	cc.once.Do(func() {
		k, err := contract.NewChecker(cc.c)
		if err != nil {
			cc.t.Errorf("sockettest: WithContract: %v", err)
			return
		}
		cc.k = k
	})
	return cc.k
}

// events checks the events not checked yet of all, which grows only.
func (cc *contractCheck) events(namespace string, all []Event) {
	if cc == nil {
		return
	}
	helper(cc.t)
	k := cc.checker()
	cc.mu.Lock()
	fresh := all[min(cc.checked, len(all)):]
	cc.checked = len(all)
	cc.mu.Unlock()
	if k == nil {
		return
	}
	for _, e := range fresh {
		if err := k.CheckEmit(namespace, e.Name, e.Args); err != nil {
			cc.t.Errorf("sockettest: the server broke its contract: %v", err)
		}
	}
}

func (cc *contractCheck) ack(namespace, event string, args []any) {
	if cc == nil {
		return
	}
	helper(cc.t)
	if k := cc.checker(); k != nil {
		if err := k.CheckAck(namespace, event, args); err != nil {
			cc.t.Errorf("sockettest: the server broke its contract: %v", err)
		}
	}
}

// helper marks the caller as a test helper, when t can.
func helper(t TB) {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
}
