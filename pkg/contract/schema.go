package contract

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Schema is a JSON Schema (draft-07, the dialect AsyncAPI 3.0's default
// schema format extends). It is written in a fixed key order, so that
// generated documents are stable from run to run.
type Schema struct {
	Ref                  string     `json:"$ref,omitempty"`
	Title                string     `json:"title,omitempty"`
	Description          string     `json:"description,omitempty"`
	Type                 any        `json:"type,omitempty"` // a string, or []string with "null"
	Format               string     `json:"format,omitempty"`
	ContentEncoding      string     `json:"contentEncoding,omitempty"`
	Const                any        `json:"const,omitempty"`
	Enum                 []any      `json:"enum,omitempty"`
	Pattern              string     `json:"pattern,omitempty"`
	MinLength            *int       `json:"minLength,omitempty"`
	MaxLength            *int       `json:"maxLength,omitempty"`
	Minimum              *float64   `json:"minimum,omitempty"`
	Maximum              *float64   `json:"maximum,omitempty"`
	ExclusiveMinimum     *float64   `json:"exclusiveMinimum,omitempty"`
	ExclusiveMaximum     *float64   `json:"exclusiveMaximum,omitempty"`
	Properties           Properties `json:"properties,omitempty"`
	Required             []string   `json:"required,omitempty"`
	AdditionalProperties *Schema    `json:"additionalProperties,omitempty"`
	MinProperties        *int       `json:"minProperties,omitempty"`
	MaxProperties        *int       `json:"maxProperties,omitempty"`
	// Items is the element schema of an array; PrefixItems (written as
	// draft-07's array form of "items") the positional schemas of a tuple.
	Items       *Schema   `json:"-"`
	PrefixItems []*Schema `json:"-"`
	MinItems    *int      `json:"minItems,omitempty"`
	MaxItems    *int      `json:"maxItems,omitempty"`
	OneOf       []*Schema `json:"oneOf,omitempty"`
	AnyOf       []*Schema `json:"anyOf,omitempty"`
	// GoType names the Go type the schema was built from (x-go-type).
	GoType string `json:"x-go-type,omitempty"`
	// False makes the schema the boolean schema false (nothing matches).
	False bool `json:"-"`
}

// Properties are an object's properties, in the order of the Go struct's
// fields.
type Properties []Property

// Property is one property of an object schema.
type Property struct {
	Name   string
	Schema *Schema
}

// MarshalJSON writes the properties as an object, in order.
func (p Properties) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, prop := range p {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(prop.Name)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(prop.Schema)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// schemaJSON is Schema without its methods, to marshal the plain fields.
type schemaJSON Schema

// MarshalJSON writes the schema, with draft-07's items and
// additionalItems for arrays and tuples.
func (s *Schema) MarshalJSON() ([]byte, error) {
	if s.False {
		return []byte("false"), nil
	}
	plain, err := json.Marshal((*schemaJSON)(s))
	if err != nil {
		return nil, err
	}
	var items any
	switch {
	case s.PrefixItems != nil:
		items = s.PrefixItems
	case s.Items != nil:
		items = s.Items
	default:
		return plain, nil
	}
	extra, err := json.Marshal(items)
	if err != nil {
		return nil, err
	}
	out := append(plain[:len(plain)-1:len(plain)-1], []byte(`,"items":`)...)
	if len(plain) == 2 { // "{}"
		out = append(plain[:1:1], []byte(`"items":`)...)
	}
	out = append(out, extra...)
	if s.PrefixItems != nil {
		out = append(out, []byte(`,"additionalItems":false`)...)
	}
	return append(out, '}'), nil
}

// nullable reports whether the schema's type admits null.
func (s *Schema) nullable() bool {
	if ts, ok := s.Type.([]string); ok {
		for _, t := range ts {
			if t == "null" {
				return true
			}
		}
	}
	return false
}

// orNull returns s admitting null as well.
func orNull(s *Schema) *Schema {
	if s.Ref != "" {
		return &Schema{AnyOf: []*Schema{s, {Type: "null"}}}
	}
	if t, ok := s.Type.(string); ok {
		c := *s
		c.Type = []string{t, "null"}
		return &c
	}
	return s // no type: admits null already
}

// reflector builds schemas from Go types. Named struct types become
// definitions, referenced by name; everything else is written inline.
type reflector struct {
	defs  map[reflect.Type]*definition
	order []reflect.Type
}

// keyOf is the placeholder $ref of the definition of t, replaced by the
// definition's name once every name is known (see Contract.name). It is
// unique per type, local types of one name included.
func (r *reflector) keyOf(t reflect.Type) refKey {
	return refKey("\x00" + strconv.Itoa(slices.Index(r.order, t)))
}

type definition struct {
	schema *Schema
}

var (
	timeType      = reflect.TypeFor[time.Time]()
	durationType  = reflect.TypeFor[time.Duration]()
	rawType       = reflect.TypeFor[json.RawMessage]()
	numberType    = reflect.TypeFor[json.Number]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	textType      = reflect.TypeFor[encoding.TextMarshaler]()
)

func newReflector() *reflector { return &reflector{defs: map[reflect.Type]*definition{}} }

// top is the schema of a whole argument or payload: there a []byte is sent
// as a binary attachment, not as base64.
func (r *reflector) top(t reflect.Type) *Schema {
	if t == nil {
		return &Schema{}
	}
	if t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8 && !implements(t) {
		return &Schema{Type: "string", Format: "binary", Description: "binary attachment"}
	}
	return r.of(t)
}

// implements reports whether t encodes itself. Only value-receiver methods
// count: encoding/json does not call a pointer receiver's on the values
// handlers return and emit.
func implements(t reflect.Type) bool {
	return t.Implements(marshalerType) || t.Implements(textType)
}

// of returns the schema of t, as a field or element.
func (r *reflector) of(t reflect.Type) *Schema {
	switch t {
	case timeType:
		return &Schema{Type: "string", Format: "date-time"}
	case durationType:
		return &Schema{Type: "integer", Description: "a duration in nanoseconds"}
	case rawType:
		return &Schema{}
	case numberType:
		return &Schema{Type: "number"}
	}
	if t.Kind() == reflect.Pointer {
		return orNull(r.of(t.Elem()))
	}
	if t.Implements(marshalerType) {
		return &Schema{Description: "custom JSON encoding (" + t.String() + ")", GoType: t.String()}
	}
	if t.Implements(textType) {
		return &Schema{Type: "string", GoType: t.String()}
	}
	switch t.Kind() {
	case reflect.Bool:
		return &Schema{Type: "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return &Schema{Type: "integer"}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return &Schema{Type: "integer", Minimum: ptr(0.0)}
	case reflect.Float32, reflect.Float64:
		return &Schema{Type: "number"}
	case reflect.String:
		return &Schema{Type: "string"}
	case reflect.Interface:
		return &Schema{}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return orNull(&Schema{Type: "string", ContentEncoding: "base64"})
		}
		return orNull(&Schema{Type: "array", Items: r.of(t.Elem())})
	case reflect.Array:
		n := t.Len()
		return &Schema{Type: "array", Items: r.of(t.Elem()), MinItems: &n, MaxItems: &n}
	case reflect.Map:
		return orNull(&Schema{Type: "object", AdditionalProperties: r.of(t.Elem())})
	case reflect.Struct:
		if t.NumField() == 0 {
			return &Schema{Type: "object"}
		}
		if t.Name() == "" {
			return r.object(t)
		}
		return r.ref(t)
	}
	// chan, func, complex, unsafe pointers: encoding/json cannot send them.
	return &Schema{Description: "not JSON-encodable (" + t.String() + ")"}
}

// ref registers the named struct t as a definition and refers to it.
func (r *reflector) ref(t reflect.Type) *Schema {
	if _, ok := r.defs[t]; !ok {
		d := &definition{}
		r.defs[t] = d
		r.order = append(r.order, t)
		d.schema = r.object(t) // after registering: t may refer to itself
		d.schema.GoType = t.String()
	}
	return &Schema{Ref: string(r.keyOf(t))}
}

// refKey is a placeholder $ref (see reflector.keyOf).
type refKey string

// object is the schema of a struct's fields, with encoding/json's rules:
// json tags, "-", omitempty, ",string", embedded structs promoted.
func (r *reflector) object(t reflect.Type) *Schema {
	s := &Schema{Type: "object"}
	for _, f := range jsonFields(t) {
		fs, optional := r.field(f.field, f.opts)
		s.Properties = append(s.Properties, Property{Name: f.name, Schema: fs})
		if !optional && !f.viaPointer {
			s.Required = append(s.Required, f.name)
		}
	}
	return s
}

// jsonField is a field encoding/json writes for a struct.
type jsonField struct {
	name   string
	opts   string
	field  reflect.StructField
	index  []int // the path of field indexes, for encoding/json's order
	tagged bool
	// viaPointer: promoted through an embedded pointer, left out when the
	// pointer is nil.
	viaPointer bool
}

// jsonFields lists the fields encoding/json writes for struct t, in its
// order: a breadth-first walk of embedded structs, where for each name the
// shallowest field wins, a tagged one among several at that depth, and
// none when that leaves a tie.
func jsonFields(t reflect.Type) []jsonField {
	var found []jsonField
	visited := map[reflect.Type]bool{}
	for current := []fieldLevel{{t: t}}; len(current) > 0; {
		var next []fieldLevel
		for _, lv := range current {
			if !visited[lv.t] {
				visited[lv.t] = true
				next = lv.scan(next, &found)
			}
		}
		current = next
	}
	byName := map[string][]jsonField{}
	for _, f := range found {
		byName[f.name] = append(byName[f.name], f)
	}
	var out []jsonField
	for _, f := range found {
		if winner, ok := dominant(byName[f.name]); ok && sameIndex(winner.index, f.index) {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b jsonField) int { return slices.Compare(a.index, b.index) })
	return out
}

// fieldLevel is a struct met in the walk of jsonFields: the top one, or
// one embedded at index.
type fieldLevel struct {
	t          reflect.Type
	index      []int
	viaPointer bool
}

// scan adds lv's own fields to found and returns next with the structs it
// embeds without a name.
func (lv fieldLevel) scan(next []fieldLevel, found *[]jsonField) []fieldLevel {
	for i := range lv.t.NumField() {
		f := lv.t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		index := append(append([]int(nil), lv.index...), i)
		if f.Anonymous && name == "" {
			et, ptr := f.Type, false
			if et.Kind() == reflect.Pointer {
				et, ptr = et.Elem(), true
			}
			if et.Kind() == reflect.Struct {
				next = append(next, fieldLevel{t: et, index: index, viaPointer: lv.viaPointer || ptr})
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		tagged := name != ""
		if !tagged {
			name = f.Name
		}
		*found = append(*found, jsonField{name: name, opts: opts, field: f, index: index, tagged: tagged, viaPointer: lv.viaPointer})
	}
	return next
}

// dominant picks the field encoding/json writes among those of one name:
// the shallowest, or the one tagged among the shallowest; none on a tie.
func dominant(fs []jsonField) (jsonField, bool) {
	depth := len(fs[0].index)
	for _, f := range fs {
		depth = min(depth, len(f.index))
	}
	var top []jsonField
	for _, f := range fs {
		if len(f.index) == depth {
			top = append(top, f)
		}
	}
	if len(top) == 1 {
		return top[0], true
	}
	var tagged []jsonField
	for _, f := range top {
		if f.tagged {
			tagged = append(tagged, f)
		}
	}
	if len(tagged) == 1 {
		return tagged[0], true
	}
	return jsonField{}, false
}

func sameIndex(a, b []int) bool { return slices.Equal(a, b) }

// field is the schema of a struct field whose json tag options are opts,
// and whether the field may be left out.
func (r *reflector) field(f reflect.StructField, opts string) (fs *Schema, optional bool) {
	ft := f.Type
	switch {
	case hasOpt(opts, "string") && isScalar(ft):
		fs = &Schema{Type: "string"}
	case hasOpt(opts, "string") && ft.Kind() == reflect.Pointer && isScalar(ft.Elem()):
		fs = &Schema{Type: []string{"string", "null"}}
	default:
		fs = r.of(ft)
	}
	rules := f.Tag.Get("validate")
	own, _ := splitDive(rules)
	jsonOmits := hasOpt(opts, "omitempty") || hasOpt(opts, "omitzero")
	optional = jsonOmits || hasRule(own, "omitempty") || hasRule(own, "omitnil")
	if hasRule(own, "required") {
		optional = false
	}
	if jsonOmits {
		// omitempty leaves out nil pointers, slices and maps: present
		// means set.
		fs = notNull(fs)
	}
	fs = applyRules(fs, ft, rules)
	if d := f.Tag.Get("doc"); d != "" {
		fs = withDescription(fs, d)
	}
	return fs, optional
}

// splitDive splits validator rules at their first "dive": the rules of
// the field itself, and those of its elements.
func splitDive(rules string) (own, elem string) {
	parts := strings.Split(rules, ",")
	for i, p := range parts {
		if p == "dive" {
			return strings.Join(parts[:i], ","), strings.Join(parts[i+1:], ",")
		}
	}
	return rules, ""
}

// hasRule reports whether rules (one level, no dive) hold rule, with or
// without a parameter.
func hasRule(rules, rule string) bool {
	for _, r := range strings.Split(rules, ",") {
		if r == rule || strings.HasPrefix(r, rule+"=") {
			return true
		}
	}
	return false
}

func withDescription(s *Schema, d string) *Schema {
	if s.Ref != "" {
		return &Schema{Description: d, AnyOf: []*Schema{s}}
	}
	c := *s
	c.Description = d
	return &c
}

func notNull(s *Schema) *Schema {
	if len(s.AnyOf) == 2 && s.AnyOf[1].Type == "null" && s.Description == "" {
		return s.AnyOf[0]
	}
	if ts, ok := s.Type.([]string); ok && len(ts) == 2 {
		c := *s
		c.Type = ts[0]
		return &c
	}
	return s
}

func isScalar(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.String:
		return true
	}
	return false
}

func hasOpt(opts, want string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == want {
			return true
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }

// applyRules adds what the go-playground/validator rules of a field say
// (the default InputValidator reads them) to its schema: lengths, bounds,
// enums (oneof) and formats. Rules after "dive" apply to the elements.
// Rules it does not know are left to the server, which still checks them.
func applyRules(s *Schema, t reflect.Type, rules string) *Schema {
	own, elem := splitDive(rules)
	dive := own != rules
	if rules == "" || s.Ref != "" && !dive {
		return s
	}
	c := *s
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for _, rule := range strings.Split(own, ",") {
		if rule == "" || strings.Contains(rule, "|") {
			continue // alternatives: not expressible simply, left to the server
		}
		key, val, _ := strings.Cut(rule, "=")
		applyRule(&c, t, key, val)
	}
	if dive && c.Items != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		c.Items = applyRules(c.Items, t.Elem(), elem)
	}
	if dive && c.AdditionalProperties != nil && t.Kind() == reflect.Map {
		c.AdditionalProperties = applyRules(c.AdditionalProperties, t.Elem(), elem)
	}
	return &c
}

func applyRule(s *Schema, t reflect.Type, key, val string) {
	kind := t.Kind()
	num, numErr := strconv.ParseFloat(val, 64)
	isNum := numErr == nil
	switch key {
	case "min", "gte", "max", "lte", "len", "gt", "lt":
		if isNum {
			applyBound(s, t, key, num)
		}
	case "oneof":
		var enum []any
		for _, v := range strings.Fields(val) {
			if kind == reflect.String {
				enum = append(enum, strings.Trim(v, "'"))
				continue
			}
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return
			}
			enum = append(enum, f)
		}
		if s.nullable() {
			enum = append(enum, nil)
		}
		s.Enum = enum
	case "eq":
		if kind == reflect.String {
			s.Const = val
		} else if isNum {
			s.Const = num
		}
	case "email":
		s.Format = "email"
	case "url", "uri", "http_url":
		s.Format = "uri"
	case "uuid", "uuid3", "uuid4", "uuid5", "uuid_rfc4122":
		s.Format = "uuid"
	case "hostname", "hostname_rfc1123", "fqdn":
		s.Format = "hostname"
	case "ipv4", "ip4_addr":
		s.Format = "ipv4"
	case "ipv6", "ip6_addr":
		s.Format = "ipv6"
	case "datetime":
		s.Format = "date-time"
	case "alpha":
		s.Pattern = "^[a-zA-Z]*$"
	case "alphanum":
		s.Pattern = "^[a-zA-Z0-9]*$"
	case "numeric":
		s.Pattern = `^[-+]?[0-9]+(?:\.[0-9]+)?$`
	case "number":
		s.Pattern = "^[0-9]+$"
	case "lowercase":
		s.Pattern = "^[^A-Z]*$"
	case "uppercase":
		s.Pattern = "^[^a-z]*$"
	case "startswith":
		s.Pattern = "^" + regexp.QuoteMeta(val)
	case "endswith":
		s.Pattern = regexp.QuoteMeta(val) + "$"
	case "contains":
		s.Pattern = regexp.QuoteMeta(val)
	}
}

// applyBound applies a size or bound rule (min, max, len, gt, gte, lt,
// lte): a length for strings, a size for slices, arrays and maps, a bound
// for numbers, as the validator reads them.
func applyBound(s *Schema, t reflect.Type, key string, num float64) {
	kind := t.Kind()
	n := int(num)
	switch {
	case kind == reflect.String:
		switch key {
		case "min", "gte":
			s.MinLength = &n
		case "max", "lte":
			s.MaxLength = &n
		case "len":
			s.MinLength, s.MaxLength = &n, ptr(n)
		case "gt":
			s.MinLength = ptr(n + 1)
		case "lt":
			s.MaxLength = ptr(n - 1)
		}
	case kind == reflect.Slice || kind == reflect.Array:
		switch key {
		case "min", "gte":
			s.MinItems = &n
		case "max", "lte":
			s.MaxItems = &n
		case "len":
			s.MinItems, s.MaxItems = &n, ptr(n)
		case "gt":
			s.MinItems = ptr(n + 1)
		case "lt":
			s.MaxItems = ptr(n - 1)
		}
	case kind == reflect.Map:
		switch key {
		case "min", "gte":
			s.MinProperties = &n
		case "max", "lte":
			s.MaxProperties = &n
		case "len":
			s.MinProperties, s.MaxProperties = &n, ptr(n)
		}
	case isScalar(t):
		switch key {
		case "min", "gte":
			s.Minimum = &num
		case "max", "lte":
			s.Maximum = &num
		case "len":
			s.Minimum, s.Maximum = &num, ptr(num)
		case "gt":
			s.ExclusiveMinimum = &num
		case "lt":
			s.ExclusiveMaximum = &num
		}
	}
}
