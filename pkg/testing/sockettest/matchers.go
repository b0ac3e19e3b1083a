package sockettest

import (
	"fmt"

	"github.com/onsi/gomega"
	"github.com/onsi/gomega/format"
	"github.com/onsi/gomega/types"
	"github.com/socketfx/socketfx/internal/sioclient"
)

// ReceiveEvent succeeds when the client has received an event named name,
// at or after its read cursor, whose arguments match args (values are
// compared with Equal, matchers are used as they are; no args: any
// arguments). Like gbytes' Say it consumes what it matched: the cursor moves
// past the event, so successive assertions read successive events. Use it
// with Eventually:
//
//	Eventually(client).Should(sockettest.ReceiveEvent("chat:message", HaveKeyWithValue("text", "hi")))
//
// Eventually stops early once the client is disconnected and nothing left
// can match.
func ReceiveEvent(name string, args ...any) types.GomegaMatcher {
	return &receiveEvent{name: name, args: args}
}

type receiveEvent struct {
	name     string
	args     []any
	closed   bool
	seen     []Event
	mismatch string
}

func (m *receiveEvent) Match(actual any) (bool, error) {
	c, ok := actual.(*Client)
	if !ok {
		return false, fmt.Errorf("ReceiveEvent expects a *sockettest.Client, got %T", actual)
	}
	matched := false
	unread, closed, err := c.c.Consume(func(e sioclient.Event) (bool, error) {
		if e.Name != m.name {
			return false, nil
		}
		ok, why, err := argsMatch(e.Args, m.args)
		if err == nil && !ok {
			m.mismatch = why
		}
		matched = ok
		return ok, err
	})
	m.closed, m.seen = closed, events(unread)
	return matched && err == nil, err
}

func (m *receiveEvent) FailureMessage(any) string {
	msg := fmt.Sprintf("Expected the client to receive event %q", m.name)
	if len(m.args) > 0 {
		msg += " with arguments matching " + format.Object(m.args, 1)
	}
	msg += "\nreceived instead (after the read cursor): " + describe(m.seen)
	if m.mismatch != "" {
		msg += "\nthe closest one: " + m.mismatch
	}
	if m.closed {
		msg += "\nand the client is disconnected"
	}
	return msg
}

func (m *receiveEvent) NegatedFailureMessage(any) string {
	return fmt.Sprintf("Expected the client not to receive event %q, but it did", m.name)
}

// MatchMayChangeInTheFuture lets Eventually give up once the client is
// disconnected: no event can arrive any more.
func (m *receiveEvent) MatchMayChangeInTheFuture(any) bool { return !m.closed }

func argsMatch(got, want []any) (bool, string, error) {
	if len(want) == 0 {
		return true, "", nil
	}
	if len(got) < len(want) {
		return false, fmt.Sprintf("%d arguments, want %d: %s", len(got), len(want), format.Object(got, 1)), nil
	}
	for i, w := range want {
		matcher, ok := w.(types.GomegaMatcher)
		if !ok {
			matcher = gomega.Equal(w)
		}
		ok, err := matcher.Match(got[i])
		if err != nil {
			return false, "", err
		}
		if !ok {
			return false, fmt.Sprintf("argument %d: %s", i+1, matcher.FailureMessage(got[i])), nil
		}
	}
	return true, "", nil
}

func describe(events []Event) string {
	if len(events) == 0 {
		return "nothing"
	}
	s := ""
	for i, e := range events {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s%v", e.Name, e.Args)
	}
	return s
}

// HaveAckOK succeeds for ack arguments (from Client.EmitWithAck) holding the
// {"status":"ok"} envelope; with a data argument the envelope's data must
// match it (a value compared with Equal, or a matcher).
func HaveAckOK(data ...any) types.GomegaMatcher {
	return &ackMatcher{ok: true, want: data}
}

// HaveAckError succeeds for ack arguments holding the error envelope with
// code; with a message argument the message must match it too.
func HaveAckError(code string, message ...any) types.GomegaMatcher {
	return &ackMatcher{code: code, want: message}
}

type ackMatcher struct {
	ok   bool
	code string
	want []any
	why  string
}

func (m *ackMatcher) Match(actual any) (bool, error) {
	args, ok := actual.([]any)
	if !ok {
		return false, fmt.Errorf("HaveAck… expects the []any of an ack, got %T", actual)
	}
	m.why = ""
	if len(args) != 1 {
		m.why = fmt.Sprintf("the ack has %d arguments, not one envelope", len(args))
		return false, nil
	}
	env, _ := args[0].(map[string]any)
	var target any
	if m.ok {
		if env["status"] != "ok" {
			m.why = "it is not an ok envelope"
			return false, nil
		}
		target = env["data"]
	} else {
		e, _ := env["error"].(map[string]any)
		if env["status"] != "error" || e == nil {
			m.why = "it is not an error envelope"
			return false, nil
		}
		if e["code"] != m.code {
			m.why = fmt.Sprintf("its code is %v", e["code"])
			return false, nil
		}
		target = e["message"]
	}
	if len(m.want) == 0 {
		return true, nil
	}
	matcher, isMatcher := m.want[0].(types.GomegaMatcher)
	if !isMatcher {
		matcher = gomega.Equal(m.want[0])
	}
	ok, err := matcher.Match(target)
	if err == nil && !ok {
		m.why = matcher.FailureMessage(target)
	}
	return ok, err
}

func (m *ackMatcher) FailureMessage(actual any) string {
	what := "an ok ack"
	if !m.ok {
		what = fmt.Sprintf("an error ack with code %q", m.code)
	}
	return fmt.Sprintf("Expected\n%s\nto be %s, but %s", format.Object(actual, 1), what, m.why)
}

func (m *ackMatcher) NegatedFailureMessage(actual any) string {
	return fmt.Sprintf("Expected\n%s\nnot to be that ack", format.Object(actual, 1))
}

// BeConnected succeeds while the client is connected.
func BeConnected() types.GomegaMatcher { return &stateMatcher{kind: "connected"} }

// BeDisconnectedWith succeeds once the client is disconnected for reason
// ("io server disconnect", "io client disconnect", "transport close").
func BeDisconnectedWith(reason string) types.GomegaMatcher {
	return &stateMatcher{kind: "disconnected", reason: reason}
}

// BeRecovered succeeds for a client whose connection restored an earlier
// session (see Client.Reconnect).
func BeRecovered() types.GomegaMatcher { return &stateMatcher{kind: "recovered"} }

type stateMatcher struct {
	kind, reason string
	got          string
	closed       bool
}

func (m *stateMatcher) Match(actual any) (bool, error) {
	c, ok := actual.(*Client)
	if !ok {
		return false, fmt.Errorf("the matcher expects a *sockettest.Client, got %T", actual)
	}
	// A disconnected client always has a reason, so one read gives both.
	m.got = c.DisconnectReason()
	m.closed = m.got != ""
	switch m.kind {
	case "connected":
		return !m.closed, nil
	case "disconnected":
		return m.closed && m.got == m.reason, nil
	default:
		return c.Recovered(), nil
	}
}

func (m *stateMatcher) FailureMessage(any) string {
	switch m.kind {
	case "connected":
		return "Expected the client to be connected, but it was disconnected: " + m.got
	case "disconnected":
		if !m.closed {
			return fmt.Sprintf("Expected the client to be disconnected with %q, but it is still connected", m.reason)
		}
		return fmt.Sprintf("Expected the client to be disconnected with %q, but the reason was %q", m.reason, m.got)
	}
	return "Expected the client's connection to have recovered its session, but it started a new one"
}

func (m *stateMatcher) NegatedFailureMessage(any) string {
	switch m.kind {
	case "connected":
		return "Expected the client not to be connected"
	case "disconnected":
		return fmt.Sprintf("Expected the client not to be disconnected with %q", m.reason)
	}
	return "Expected the client's connection not to have recovered a session"
}

// MatchMayChangeInTheFuture: a disconnected client stays disconnected, and
// recovery is decided when the client connects.
func (m *stateMatcher) MatchMayChangeInTheFuture(any) bool {
	return m.kind != "recovered" && !m.closed
}
