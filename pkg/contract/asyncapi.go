package contract

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
)

// The AsyncAPI document, in AsyncAPI 3.0's field order. The application it
// describes is the server: client-to-server events are operations of
// action "receive" (their ack is the operation's reply), server-to-client
// events are "send". AsyncAPI has no Socket.IO bindings; the websocket
// binding describes the handshake, and x-socketio-* extensions carry what
// only Socket.IO has (namespaces, events, the auth payload).
type aaDoc struct {
	AsyncAPI           string                  `json:"asyncapi"`
	Info               aaInfo                  `json:"info"`
	DefaultContentType string                  `json:"defaultContentType"`
	Servers            map[string]aaServer     `json:"servers,omitempty"`
	Channels           map[string]*aaChannel   `json:"channels"`
	Operations         map[string]*aaOperation `json:"operations"`
	Components         aaComponents            `json:"components"`
}

type aaInfo struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}

type aaServer struct {
	Host        string `json:"host"`
	Protocol    string `json:"protocol"`
	Pathname    string `json:"pathname,omitempty"`
	Description string `json:"description,omitempty"`
}

type aaChannel struct {
	Address     *string                `json:"address"`
	Title       string                 `json:"title,omitempty"`
	Description string                 `json:"description,omitempty"`
	Messages    map[string]*aaMessage  `json:"messages"`
	Parameters  map[string]aaParameter `json:"parameters,omitempty"`
	Bindings    map[string]any         `json:"bindings,omitempty"`
	Namespace   aaNamespace            `json:"x-socketio-namespace"`
	Auth        *Schema                `json:"x-socketio-auth,omitempty"`
}

type aaNamespace struct {
	Kind    string   `json:"kind"`
	Name    string   `json:"name"`
	Service string   `json:"service"`
	Params  []string `json:"params,omitempty"`
}

type aaParameter struct {
	Description string `json:"description,omitempty"`
}

type aaMessage struct {
	Name    string   `json:"name"`
	Title   string   `json:"title,omitempty"`
	Summary string   `json:"summary,omitempty"`
	Payload *Schema  `json:"payload"`
	Event   string   `json:"x-socketio-event"`
	Ack     bool     `json:"x-socketio-ack,omitempty"`
	Errors  []string `json:"x-socketio-error-codes,omitempty"`
}

type aaOperation struct {
	Action   string   `json:"action"`
	Channel  aaRef    `json:"channel"`
	Summary  string   `json:"summary,omitempty"`
	Messages []aaRef  `json:"messages"`
	Reply    *aaReply `json:"reply,omitempty"`
}

type aaReply struct {
	Channel  aaRef   `json:"channel"`
	Messages []aaRef `json:"messages"`
}

type aaRef struct {
	Ref string `json:"$ref"`
}

type aaComponents struct {
	Schemas map[string]*Schema `json:"schemas"`
}

var idUnsafe = regexp.MustCompile(`[^A-Za-z0-9_.\-]`)

// AsyncAPI returns the contract as an AsyncAPI 3.0.0 document (JSON).
// Each namespace is a channel whose messages are its events, each
// message's payload the event's arguments as a tuple; named types are in
// components.schemas.
func (c *Contract) AsyncAPI() ([]byte, error) {
	doc := aaDoc{
		AsyncAPI:           "3.0.0",
		Info:               aaInfo{Title: c.Title, Version: c.Version, Description: c.Description},
		DefaultContentType: "application/json",
		Channels:           map[string]*aaChannel{},
		Operations:         map[string]*aaOperation{},
		Components:         aaComponents{Schemas: map[string]*Schema{}},
	}
	if c.Server != nil {
		doc.Servers = map[string]aaServer{"default": {
			Host: c.Server.Host, Protocol: c.Server.Protocol, Pathname: c.Server.Path,
			Description: "Socket.IO v4 (Engine.IO 4) over websocket or HTTP long-polling",
		}}
	}
	for _, d := range c.Definitions {
		doc.Components.Schemas[d.Name] = d.Schema
	}
	opTaken := map[string]bool{}
	for _, ns := range c.Namespaces {
		chID := ns.Ident
		ch := channelOf(ns)
		taken := map[string]bool{}
		chRef := aaRef{"#/channels/" + chID}
		msgRef := func(id string) aaRef { return aaRef{"#/channels/" + chID + "/messages/" + id} }
		for _, rc := range ns.Receives {
			id := unique(idUnsafe.ReplaceAllString(rc.Event, "_"), taken)
			m := &aaMessage{Name: rc.Event, Event: rc.Event, Payload: tuple(rc.Args)}
			op := &aaOperation{Action: "receive", Channel: chRef, Messages: []aaRef{msgRef(id)}}
			if rc.Untyped {
				m.Summary = "an untyped handler: its arguments and ack are not declared"
			} else {
				ackID := unique(id+".ack", taken)
				ch.Messages[ackID] = &aaMessage{
					Name: rc.Event + " ack", Title: "the acknowledgement of " + rc.Event,
					Payload: ackTuple(rc), Event: rc.Event, Ack: true, Errors: rc.Errors,
				}
				op.Reply = &aaReply{Channel: chRef, Messages: []aaRef{msgRef(ackID)}}
			}
			ch.Messages[id] = m
			doc.Operations[opID(ns.Ident, "receive", rc.Event, opTaken)] = op
		}
		for _, s := range ns.Sends {
			id := unique(idUnsafe.ReplaceAllString(s.Event, "_"), taken)
			var args []*Schema
			m := &aaMessage{Name: s.Event, Event: s.Event}
			if s.Payload != nil {
				args = []*Schema{s.Payload}
				m.Payload = tuple(args)
			} else {
				m.Payload = &Schema{Type: "array"}
				m.Summary = "the payload of an untyped handler's declared emit is not declared"
			}
			if len(s.From) > 0 {
				m.Title = "sent after " + strings.Join(s.From, ", ")
			}
			ch.Messages[id] = m
			doc.Operations[opID(ns.Ident, "send", s.Event, opTaken)] = &aaOperation{
				Action: "send", Channel: chRef, Messages: []aaRef{msgRef(id)},
			}
		}
		doc.Channels[chID] = ch
	}
	raw, err := indentJSON(doc)
	if err != nil {
		return nil, err
	}
	raw = bytes.ReplaceAll(raw, []byte(`"$ref": "#/definitions/`), []byte(`"$ref": "#/components/schemas/`))
	return raw, nil
}

// indentJSON writes v indented, without encoding/json's HTML escapes, with
// a final newline.
func indentJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// channelOf is a namespace's channel, without its messages.
func channelOf(ns Namespace) *aaChannel {
	ch := &aaChannel{
		Title:    ns.Ident,
		Messages: map[string]*aaMessage{},
		Bindings: map[string]any{"ws": map[string]any{
			"method": "GET",
			"query": map[string]any{"type": "object", "properties": map[string]any{
				"EIO":       map[string]any{"const": "4"},
				"transport": map[string]any{"enum": []string{"websocket", "polling"}},
			}},
			"bindingVersion": "0.1.0",
		}},
		Namespace: aaNamespace{Kind: string(ns.Kind), Name: ns.Name, Service: ns.Service},
		Auth:      ns.Auth,
	}
	switch ns.Kind {
	case "pattern":
		ch.Description = "Every namespace whose name matches the regular expression " + ns.Name + "."
		for _, p := range ns.Params {
			ch.Namespace.Params = append(ch.Namespace.Params, p.Name)
		}
	default:
		addr := ns.Address
		ch.Address = &addr
		ch.Description = "The Socket.IO namespace " + ns.Name + "."
		for _, p := range ns.Params {
			if ch.Parameters == nil {
				ch.Parameters = map[string]aaParameter{}
			}
			ch.Parameters[p.Name] = aaParameter{Description: "matches " + p.Pattern}
			ch.Namespace.Params = append(ch.Namespace.Params, p.Name)
		}
	}
	return ch
}

func opID(ns, action, event string, taken map[string]bool) string {
	return unique(ns+"."+action+"."+idUnsafe.ReplaceAllString(event, "_"), taken)
}

// tuple is the schema of an event's positional arguments.
func tuple(args []*Schema) *Schema {
	if args == nil {
		return &Schema{Type: "array", Description: "any arguments"}
	}
	n := len(args)
	if n == 0 {
		return &Schema{Type: "array", Description: "no arguments", MaxItems: &n}
	}
	return &Schema{Type: "array", PrefixItems: args, MinItems: &n, MaxItems: ptr(n)}
}
