package contract

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// bundle is the JSON Schema document of the whole contract.
type bundle struct {
	Schema      string                     `json:"$schema"`
	Title       string                     `json:"title"`
	Description string                     `json:"description,omitempty"`
	Definitions map[string]*Schema         `json:"definitions"`
	Namespaces  map[string]bundleNamespace `json:"x-socketfx-namespaces"`
}

type bundleNamespace struct {
	Kind           string                   `json:"kind"`
	Service        string                   `json:"service"`
	Auth           *Schema                  `json:"auth,omitempty"`
	ClientToServer map[string]bundleEvent   `json:"clientToServer"`
	ServerToClient map[string]bundlePayload `json:"serverToClient"`
}

type bundleEvent struct {
	Args   *Schema  `json:"args"`
	Ack    *Schema  `json:"ack,omitempty"`
	Errors []string `json:"errors,omitempty"`
}

type bundlePayload struct {
	Args *Schema `json:"args"`
}

const draft07 = "http://json-schema.org/draft-07/schema#"

// JSONSchema returns the contract as one JSON Schema (draft-07) document,
// for code generators of other languages: every named type under
// definitions, and under x-socketfx-namespaces each namespace's events
// with the schemas of their arguments (a tuple) and acks, referring to the
// definitions.
func (c *Contract) JSONSchema() ([]byte, error) {
	doc := bundle{Schema: draft07, Title: c.Title, Description: c.Description, Definitions: c.definitions(), Namespaces: map[string]bundleNamespace{}}
	for _, ns := range c.Namespaces {
		bn := bundleNamespace{
			Kind: string(ns.Kind), Service: ns.Service, Auth: ns.Auth,
			ClientToServer: map[string]bundleEvent{}, ServerToClient: map[string]bundlePayload{},
		}
		for _, rc := range ns.Receives {
			ev := bundleEvent{Args: tuple(rc.Args), Errors: rc.Errors}
			if rc.Ack != nil {
				ev.Ack = ackTuple(rc)
			}
			bn.ClientToServer[rc.Event] = ev
		}
		for _, s := range ns.Sends {
			bn.ServerToClient[s.Event] = bundlePayload{Args: sendTuple(s)}
		}
		doc.Namespaces[ns.Name] = bn
	}
	return indentJSON(doc)
}

func (c *Contract) definitions() map[string]*Schema {
	m := make(map[string]*Schema, len(c.Definitions))
	for _, d := range c.Definitions {
		m[d.Name] = d.Schema
	}
	return m
}

// ackTuple is the schema of an event's ack arguments.
func ackTuple(rc Receive) *Schema {
	if rc.AckVariadic {
		return rc.Ack
	}
	return tuple([]*Schema{rc.Ack})
}

func sendTuple(s Send) *Schema {
	if s.Payload == nil {
		return tuple(nil)
	}
	return tuple([]*Schema{s.Payload})
}

// ErrUndeclared is the error of Checker.CheckEmit for an event the
// namespace does not declare, or a namespace the contract does not have.
var ErrUndeclared = errors.New("contract: undeclared")

// Checker checks events against a contract: the test kit's contract mode
// (sockettest.WithContract) is built on it. It is safe for concurrent use.
type Checker struct {
	c       *Contract
	defs    json.RawMessage
	matches []nsMatch
	mu      sync.Mutex
	cache   map[string]*jsonschema.Schema
}

type nsMatch struct {
	ns *Namespace
	re *regexp.Regexp // nil for a fixed name
}

// NewChecker returns a checker for c.
func NewChecker(c *Contract) (*Checker, error) {
	defs, err := json.Marshal(c.definitions())
	if err != nil {
		return nil, err
	}
	k := &Checker{c: c, defs: defs, cache: map[string]*jsonschema.Schema{}}
	for i := range c.Namespaces {
		ns := &c.Namespaces[i]
		m := nsMatch{ns: ns}
		switch ns.Kind {
		case "route":
			expr := regexp.QuoteMeta(ns.Address)
			for _, p := range ns.Params {
				expr = strings.Replace(expr, regexp.QuoteMeta("{"+p.Name+"}"), "(?:"+p.Pattern+")", 1)
			}
			m.re, err = regexp.Compile("^" + expr + "$")
		case "pattern":
			m.re, err = regexp.Compile("^(?:" + ns.Name + ")$")
		}
		if err != nil {
			return nil, fmt.Errorf("contract: namespace %s: %w", ns.Name, err)
		}
		k.matches = append(k.matches, m)
	}
	// As the server: fixed names first, then patterns in the order the
	// services were registered.
	slices.SortStableFunc(k.matches, func(a, b nsMatch) int {
		if (a.re == nil) != (b.re == nil) {
			if a.re == nil {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.ns.order, b.ns.order)
	})
	return k, nil
}

// Namespace returns the contract's namespace that serves the concrete
// namespace name ("/tenant/42"), nil if none does.
func (k *Checker) Namespace(name string) *Namespace {
	for _, m := range k.matches {
		if m.re == nil && m.ns.Name == name || m.re != nil && m.re.MatchString(name) {
			return m.ns
		}
	}
	return nil
}

// CheckEmit checks a server-to-client event as a client received it (its
// arguments decoded from JSON: map[string]any, []any, float64, …, []byte
// for binary): the event must be declared by the namespace and its
// arguments must match the declared payload. The error wraps ErrUndeclared
// for an undeclared event, and names the mismatches otherwise.
func (k *Checker) CheckEmit(namespace, event string, args []any) error {
	ns := k.Namespace(namespace)
	if ns == nil {
		return fmt.Errorf("%w namespace %s", ErrUndeclared, namespace)
	}
	for _, s := range ns.Sends {
		if s.Event != event {
			continue
		}
		if err := k.validate(ns.Name+"\x00"+event, sendTuple(s), args); err != nil {
			return fmt.Errorf("contract: event %q of %s does not match its declared payload: %w", event, namespace, err)
		}
		return nil
	}
	return fmt.Errorf("%w event %q: %s declares no such server-to-client event", ErrUndeclared, event, ns.Name)
}

// CheckAck checks the ack of a client-to-server event (the arguments the
// server acked with): it must match the event's ack schema, the error
// envelope's code included. An event the namespace does not declare, or an
// untyped handler's, is not checked (nil).
func (k *Checker) CheckAck(namespace, event string, args []any) error {
	ns := k.Namespace(namespace)
	if ns == nil {
		return nil
	}
	for _, rc := range ns.Receives {
		if rc.Event != event || rc.Ack == nil {
			continue
		}
		if err := k.validate(ns.Name+"\x00ack\x00"+event, ackTuple(rc), args); err != nil {
			return fmt.Errorf("contract: the ack of %q on %s does not match the contract: %w", event, namespace, err)
		}
	}
	return nil
}

// validate checks args against the schema cached under key.
func (k *Checker) validate(key string, s *Schema, args []any) error {
	sch, err := k.compiled(key, s)
	if err != nil {
		return err
	}
	inst, err := instance(args)
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

// instance turns decoded arguments into what the JSON Schema validator
// takes (binary as base64, as encoding/json writes []byte).
func instance(args []any) (any, error) {
	if args == nil {
		args = []any{}
	}
	raw, err := json.Marshal(args)
	if err != nil {
		return nil, fmt.Errorf("contract: arguments are not JSON: %w", err)
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(raw))
}

func (k *Checker) compiled(key string, s *Schema) (*jsonschema.Schema, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if sch, ok := k.cache[key]; ok {
		return sch, nil
	}
	body, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	// The schema with the contract's definitions beside it, so that its
	// references resolve.
	doc := append(body[:len(body)-1:len(body)-1], []byte(`,"$schema":"`+draft07+`","definitions":`)...)
	doc = append(append(doc, k.defs...), '}')
	parsed, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, err
	}
	comp := jsonschema.NewCompiler()
	if err := comp.AddResource("mem:///event.json", parsed); err != nil {
		return nil, err
	}
	sch, err := comp.Compile("mem:///event.json")
	if err != nil {
		return nil, fmt.Errorf("contract: schema of %q: %w", key, err)
	}
	k.cache[key] = sch
	return sch, nil
}
