package decode

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// Binary is implemented by the engine's binary buffers.
type Binary interface{ Bytes() []byte }

// Error explains why an argument could not be decoded. Its message is meant
// for clients: it names the argument and the field, never Go internals.
type Error struct {
	Arg     int    // 1-based position of the argument
	Field   string // dotted JSON path inside the argument, "" for the argument itself
	Problem string // what is wrong, e.g. "expected number, got string"
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("argument %d: %s", e.Arg, e.Problem)
	}
	return fmt.Sprintf("argument %d: field %q: %s", e.Arg, e.Field, e.Problem)
}

// Arg decodes args[i] into a T. A missing argument, or null for a type that
// cannot be nil, is an error.
func Arg[T any](args []any, i int) (T, error) {
	var out T
	if i >= len(args) {
		return out, &Error{Arg: i + 1, Problem: "missing"}
	}
	err := Into(args[i], &out)
	if err != nil {
		var de *Error
		if errors.As(err, &de) {
			de.Arg = i + 1
		}
	}
	return out, err
}

// Count checks that exactly want arguments were sent.
func Count(args []any, want int) error {
	if len(args) > want {
		return &Error{Arg: want + 1, Problem: fmt.Sprintf("unexpected argument (the event takes %d)", want)}
	}
	return nil
}

// Into decodes v into the value dst points to.
func Into[T any](v any, dst *T) error {
	if t, ok := v.(T); ok {
		*dst = t
		return nil
	}
	switch d := any(dst).(type) {
	case *[]byte:
		switch b := v.(type) {
		case Binary:
			*d = b.Bytes()
			return nil
		case nil:
			*d = nil
			return nil
		}
	case *any:
		*d = Normalize(v)
		return nil
	}
	if v == nil {
		if nillable(reflect.TypeFor[T]()) {
			var zero T
			*dst = zero
			return nil
		}
		return &Error{Problem: "must not be null"}
	}
	raw, err := json.Marshal(Normalize(v))
	if err != nil {
		return &Error{Problem: "cannot be encoded"}
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return translate(err)
	}
	return nil
}

// Normalize replaces binary buffers with []byte, recursively, so that
// encoding/json and user code see ordinary Go values. Containers with no
// binary inside are returned as they are, not copied.
func Normalize(v any) any {
	n, _ := normalize(v)
	return n
}

// normalize also reports whether anything changed.
func normalize(v any) (any, bool) {
	switch x := v.(type) {
	case Binary:
		return x.Bytes(), true
	case []any:
		var out []any
		for i, e := range x {
			n, changed := normalize(e)
			if !changed {
				continue
			}
			if out == nil {
				out = append(make([]any, 0, len(x)), x...)
			}
			out[i] = n
		}
		if out == nil {
			return x, false
		}
		return out, true
	case map[string]any:
		var out map[string]any
		for k, e := range x {
			n, changed := normalize(e)
			if !changed {
				continue
			}
			if out == nil {
				out = make(map[string]any, len(x))
				for k2, e2 := range x {
					out[k2] = e2
				}
			}
			out[k] = n
		}
		if out == nil {
			return x, false
		}
		return out, true
	}
	return v, false
}

func nillable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice:
		return true
	}
	return false
}

func translate(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &Error{Field: te.Field, Problem: fmt.Sprintf("expected %s, got %s", kindName(te.Type), te.Value)}
	}
	// Errors from a user's UnmarshalJSON and the like: keep the first line,
	// without the package prefix Go adds.
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return &Error{Problem: msg}
}

// kindName names a Go type the way a JavaScript developer would.
func kindName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return "binary or base64 string"
		}
		return "array"
	case reflect.Map, reflect.Struct:
		return "object"
	}
	return t.String()
}
