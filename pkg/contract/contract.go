package contract

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode"

	"github.com/socketfx/socketfx/pkg/socketservice"
)

// Contract is the wire contract of a server's services: for each
// namespace, the events clients send with their arguments and acks, the
// events the server sends with their payloads, and the named types they
// use. Build it with New or FromServer; write it with AsyncAPI,
// TypeScript and JSONSchema. A Contract is immutable once built and safe
// for concurrent use.
type Contract struct {
	Title       string
	Version     string
	Description string
	// Server is where clients connect (WithServerURL), "" if not given.
	Server *ServerInfo
	// Namespaces are sorted by name.
	Namespaces []Namespace
	// Definitions are the named types, sorted by name; schemas refer to
	// them as "#/definitions/<Name>".
	Definitions []Definition

	skip   []string             // WithoutNamespaces
	errors []socketservice.Code // WithErrors
}

// ServerInfo is where clients connect.
type ServerInfo struct {
	// Protocol is "ws" or "wss"; Host is host[:port]; Path the engine's
	// path ("/socket.io/").
	Protocol, Host, Path string
}

// Namespace is one service's namespace in the contract.
type Namespace struct {
	// Ident names the namespace in generated code (the TypeScript
	// namespace, the AsyncAPI channel): the service's Go type name.
	Ident   string
	Service string
	// Name is as registered ("/chat", "/tenant/{id:[0-9]+}", `/t-\d+`);
	// Address has route parameters as {name}.
	Name    string
	Kind    socketservice.NamespaceKind
	Address string
	Params  []socketservice.ParamDescription
	// Auth is the handshake auth's schema, nil if the service did not
	// declare it (Router.ExpectAuth).
	Auth *Schema
	// Receives are the client-to-server events, Sends the server-to-client
	// ones, sorted by name.
	Receives []Receive
	Sends    []Send

	order int // the service's place among the server's, for matching patterns
}

// Receive is a client-to-server event.
type Receive struct {
	Event string
	// Untyped is true for an untyped handler: Args, Result and Ack are
	// unknown (nil).
	Untyped bool
	Args    []*Schema
	// Result is the ack data's schema; Ack the schema of the ack's one
	// argument: the {status, data} envelope (or the result itself with
	// RawResponse) or the error envelope.
	Result      *Schema
	Ack         *Schema
	RawResponse bool
	// AckVariadic: the ack has any number of arguments (a handler with
	// WithRawResponse whose result is socketservice.Args); Ack is then the
	// schema of the whole argument list.
	AckVariadic bool
	// Errors are the codes of the error envelope.
	Errors []string
}

// Send is a server-to-client event.
type Send struct {
	Event string
	// Payload is the schema of the event's one argument, nil if unknown.
	Payload *Schema
	// From are the client events whose declared emits send it.
	From []string
}

// Definition is a named type.
type Definition struct {
	Name   string
	Schema *Schema
}

// Option configures a contract.
type Option interface{ apply(*Contract) }

type optionFunc func(*Contract)

func (f optionFunc) apply(c *Contract) { f(c) }

// WithTitle sets the contract's title (AsyncAPI info.title); the default
// is "socketfx service".
func WithTitle(title string) Option { return optionFunc(func(c *Contract) { c.Title = title }) }

// WithVersion sets the contract's version (AsyncAPI info.version); the
// default is "0.0.0".
func WithVersion(v string) Option { return optionFunc(func(c *Contract) { c.Version = v }) }

// WithDescription sets the contract's description.
func WithDescription(d string) Option {
	return optionFunc(func(c *Contract) { c.Description = d })
}

// WithServerURL says where clients connect, e.g. "wss://chat.example.com"
// (http and https are written ws and wss), for AsyncAPI's servers. The
// engine's path is taken from the server (FromServer), "/socket.io/"
// otherwise.
func WithServerURL(url string) Option {
	return optionFunc(func(c *Contract) {
		proto, host, ok := strings.Cut(url, "://")
		if !ok {
			proto, host = "ws", url
		}
		switch proto {
		case "http":
			proto = "ws"
		case "https":
			proto = "wss"
		}
		host, path, _ := strings.Cut(host, "/")
		info := &ServerInfo{Protocol: proto, Host: host, Path: "/socket.io/"}
		if path != "" {
			info.Path = "/" + strings.TrimSuffix(path, "/") + "/"
		}
		if c.Server != nil && path == "" {
			info.Path = c.Server.Path
		}
		c.Server = info
	})
}

// WithoutNamespaces leaves the namespaces of these names (as registered)
// out of the contract: operators' namespaces such as the Admin UI's
// "/admin", which frontend teams do not consume.
func WithoutNamespaces(names ...string) Option {
	return optionFunc(func(c *Contract) { c.skip = append(c.skip, names...) })
}

// WithErrors adds error codes that every event may be answered with: those
// of global middleware (socketservice.GlobalMiddleware: a rate limit, a
// timeout, a guard), which no handler declares. Codes of one handler are
// declared with socketservice.WithErrors.
func WithErrors(codes ...socketservice.Code) Option {
	return optionFunc(func(c *Contract) { c.errors = append(c.errors, codes...) })
}

// FromServer builds the contract of the services srv serves (see
// Server.Describe: on a server that has not started, their Register
// methods run to read what they declare).
func FromServer(srv *socketservice.Server, opts ...Option) (*Contract, error) {
	d, err := srv.Describe()
	if err != nil {
		return nil, err
	}
	path := srv.Config().Path
	if path == "" {
		path = "/socket.io"
	}
	pre := optionFunc(func(c *Contract) {
		c.Server = &ServerInfo{Path: strings.TrimSuffix(path, "/") + "/"}
	})
	c, err := New(d, append([]Option{pre}, opts...)...)
	if err != nil {
		return nil, err
	}
	if c.Server != nil && c.Server.Host == "" {
		c.Server = nil // a path without a host is no server
	}
	return c, nil
}

// New builds a contract from a description (socketservice.Describe).
func New(d socketservice.Description, opts ...Option) (*Contract, error) {
	c := &Contract{Title: "socketfx service", Version: "0.0.0"}
	for _, o := range opts {
		o.apply(c)
	}
	r := newReflector()
	for _, nd := range d.Namespaces {
		if slices.Contains(c.skip, nd.Name) {
			continue
		}
		ns := Namespace{
			Service: nd.Service, Name: nd.Name, Kind: nd.Kind, Address: nd.Address,
			Params: nd.Params, order: nd.Order,
		}
		if nd.Auth != nil {
			ns.Auth = r.of(nd.Auth)
		}
		for _, ev := range nd.Events {
			ns.Receives = append(ns.Receives, receive(r, ev, c.errors))
		}
		for _, e := range nd.Emits {
			s := Send{Event: e.Name, From: e.From}
			if e.Payload != nil {
				s.Payload = payload(r, e.Payload)
			}
			ns.Sends = append(ns.Sends, s)
		}
		c.Namespaces = append(c.Namespaces, ns)
	}
	c.name(r)
	return c, nil
}

var (
	noReplyType = reflect.TypeFor[socketservice.NoReply]()
	argsType    = reflect.TypeFor[socketservice.Args]()
)

// payload is the schema of a result or an emitted value: NoReply is sent
// as null.
func payload(r *reflector, t reflect.Type) *Schema {
	switch t {
	case noReplyType:
		return &Schema{Type: "null"}
	case argsType:
		return &Schema{Type: "array", Description: "the ack's arguments"}
	}
	return r.top(t)
}

func receive(r *reflector, ev socketservice.EventDescription, global []socketservice.Code) Receive {
	out := Receive{Event: ev.Name, Untyped: !ev.Typed, RawResponse: ev.RawResponse}
	for _, c := range append(append([]socketservice.Code(nil), ev.Errors...), global...) {
		out.Errors = append(out.Errors, string(c))
	}
	slices.Sort(out.Errors)
	out.Errors = slices.Compact(out.Errors)
	if !ev.Typed {
		return out
	}
	out.Args = []*Schema{}
	for _, t := range ev.Args {
		out.Args = append(out.Args, r.top(t))
	}
	out.Result = payload(r, ev.Result)
	errEnv := errorEnvelope(out.Errors)
	switch {
	case ev.RawResponse && ev.Result == argsType:
		// Args with WithRawResponse: the ack's arguments are the result's
		// elements, or the one error envelope.
		out.AckVariadic = true
		out.Ack = &Schema{Type: "array", Description: "the ack's arguments: the handler's Args, or one error envelope"}
	case ev.RawResponse:
		// anyOf, not oneOf: a result with no required property matches
		// the error envelope too.
		out.Ack = &Schema{AnyOf: []*Schema{out.Result, errEnv}}
	default:
		ok := &Schema{Type: "object", Properties: Properties{
			{Name: "status", Schema: &Schema{Const: "ok"}},
			{Name: "data", Schema: out.Result},
		}, Required: []string{"status", "data"}}
		out.Ack = &Schema{AnyOf: []*Schema{ok, errEnv}}
	}
	return out
}

// The definitions socketfx itself contributes: the error envelope's body.
const (
	errorBodyName   = "ErrorBody"
	errorDetailName = "ErrorDetail"
)

func errorEnvelope(codes []string) *Schema {
	enum := make([]any, len(codes))
	for i, c := range codes {
		enum[i] = c
	}
	body := &Schema{Type: "object", Properties: Properties{
		{Name: "code", Schema: &Schema{Type: "string", Enum: enum}},
		{Name: "message", Schema: &Schema{Type: "string"}},
		{Name: "details", Schema: &Schema{Type: "array", Items: &Schema{Ref: defRef(errorDetailName)}}},
	}, Required: []string{"code", "message"}}
	return &Schema{Type: "object", Properties: Properties{
		{Name: "status", Schema: &Schema{Const: "error"}},
		{Name: "error", Schema: body},
	}, Required: []string{"status", "error"}}
}

func builtinDefinitions() []Definition {
	return []Definition{
		{Name: errorDetailName, Schema: &Schema{
			Type: "object", Description: "one problem with one field of a payload",
			Properties: Properties{
				{Name: "field", Schema: &Schema{Type: "string"}},
				{Name: "rule", Schema: &Schema{Type: "string"}},
				{Name: "message", Schema: &Schema{Type: "string"}},
			},
			Required: []string{"field", "rule", "message"},
		}},
		{Name: errorBodyName, Schema: &Schema{
			Type: "object", Description: "the error of an error envelope; WithData adds keys",
			Properties: Properties{
				{Name: "code", Schema: &Schema{Type: "string"}},
				{Name: "message", Schema: &Schema{Type: "string"}},
				{Name: "details", Schema: &Schema{Type: "array", Items: &Schema{Ref: defRef(errorDetailName)}}},
			},
			Required: []string{"code", "message"},
		}},
	}
}

func defRef(name string) string { return "#/definitions/" + name }

// reservedNames are the names a definition or namespace may not take: those
// the generated TypeScript declares itself, TypeScript's keywords and
// primitive types, and the global types a declaration may refer to.
var reservedNames = []string{
	"Binary", "Ack", "RawAck", "ErrorEnvelope", "ServerToClientEvents", "ClientToServerEvents",
	"Handshake", "Name", "Route", "Pattern",
	"any", "unknown", "never", "void", "undefined", "null", "object", "string", "number",
	"boolean", "symbol", "bigint", "type", "interface", "namespace", "enum", "class",
	"Record", "Partial", "Required", "Readonly", "Pick", "Omit", "Exclude", "Extract",
	"NonNullable", "ReturnType", "Parameters", "Awaited", "Array", "ReadonlyArray",
	"ArrayBuffer", "ArrayBufferView", "SharedArrayBuffer", "DataView", "Uint8Array",
	"Int8Array", "Uint16Array", "Int16Array", "Uint32Array", "Int32Array", "Float32Array",
	"Float64Array", "BigInt64Array", "BigUint64Array", "Blob", "File", "Buffer",
	"Date", "Map", "Set", "WeakMap", "WeakSet", "Promise", "Object", "String", "Number",
	"Boolean", "Symbol", "BigInt", "Error", "Function", "JSON", "Math", "RegExp", "Socket",
}

// name gives every definition and namespace a name, and resolves the
// schemas' references.
func (c *Contract) name(r *reflector) {
	taken := map[string]bool{}
	for _, n := range reservedNames {
		taken[n] = true
	}
	builtin := builtinDefinitions()
	for _, d := range builtin {
		taken[d.Name] = true
	}
	names := map[refKey]string{}
	// Short names first; a name two types want gets their package's.
	short := map[string][]reflect.Type{}
	for _, t := range r.order {
		short[typeName(t)] = append(short[typeName(t)], t)
	}
	for _, t := range r.order {
		n := typeName(t)
		if len(short[n]) > 1 || taken[n] {
			n = pascal(pkgName(t.PkgPath())) + n
		}
		n = unique(n, taken)
		names[r.keyOf(t)] = n
	}
	c.Definitions = builtin
	for _, t := range r.order {
		c.Definitions = append(c.Definitions, Definition{Name: names[r.keyOf(t)], Schema: r.defs[t].schema})
	}
	slices.SortFunc(c.Definitions, func(a, b Definition) int { return strings.Compare(a.Name, b.Name) })
	visit := func(s *Schema) {
		walk(s, func(s *Schema) {
			if n, ok := names[refKey(s.Ref)]; ok {
				s.Ref = defRef(n)
			}
		})
	}
	for _, d := range c.Definitions {
		visit(d.Schema)
	}
	idents := make([]string, len(c.Namespaces))
	count := map[string]int{}
	for i := range c.Namespaces {
		ns := &c.Namespaces[i]
		visit(ns.Auth)
		for _, rc := range ns.Receives {
			for _, a := range rc.Args {
				visit(a)
			}
			visit(rc.Result)
			visit(rc.Ack)
		}
		for _, s := range ns.Sends {
			visit(s.Payload)
		}
		base := strings.TrimLeft(ns.Service, "*")
		_, n, _ := strings.Cut(base, ".")
		if n == "" {
			n = base
		}
		idents[i] = sanitize(n)
		count[idents[i]]++
	}
	for i := range c.Namespaces { // in name order, so that numbers are stable
		ns := &c.Namespaces[i]
		id := idents[i]
		if count[id] > 1 {
			pkg, _, _ := strings.Cut(strings.TrimLeft(ns.Service, "*"), ".")
			id = pascal(pkg) + id
		}
		if taken[id] {
			id += "Namespace"
		}
		ns.Ident = unique(id, taken)
	}
}

// walk calls fn on s and every schema inside it.
func walk(s *Schema, fn func(*Schema)) {
	if s == nil {
		return
	}
	fn(s)
	for _, p := range s.Properties {
		walk(p.Schema, fn)
	}
	walk(s.AdditionalProperties, fn)
	walk(s.Items, fn)
	for _, x := range s.PrefixItems {
		walk(x, fn)
	}
	for _, x := range s.OneOf {
		walk(x, fn)
	}
	for _, x := range s.AnyOf {
		walk(x, fn)
	}
}

func unique(n string, taken map[string]bool) string {
	out := n
	for i := 2; taken[out]; i++ {
		out = fmt.Sprintf("%s%d", n, i)
	}
	taken[out] = true
	return out
}

// typeName is a Go type's name as an identifier: Page[pkg.Item] is
// PageItem.
func typeName(t reflect.Type) string { return sanitize(t.Name()) }

// sanitize keeps the last path element of every qualified name in s and
// drops what is not a letter or digit.
func sanitize(s string) string {
	var b strings.Builder
	word := strings.FieldsFunc(s, func(r rune) bool { return r == '[' || r == ']' || r == ',' || r == ' ' || r == '*' })
	for _, w := range word {
		if i := strings.LastIndexAny(w, "/."); i >= 0 {
			w = w[i+1:]
		}
		for i, r := range w {
			if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' {
				if i == 0 && b.Len() > 0 {
					r = unicode.ToUpper(r)
				}
				b.WriteRune(r)
			}
		}
	}
	if b.Len() == 0 {
		return "Type"
	}
	return b.String()
}

func pkgName(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[i+1:]
	}
	return path
}

// pascal upper-cases the first letter of each run of letters and digits.
func pascal(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
