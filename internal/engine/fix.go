package engine

import (
	"reflect"

	"github.com/zishang520/socket.io/servers/socket/v3"
)

// privateID returns a socket's private session id, which the engine keeps
// unexported (socketfx forgets the kept session of a socket that left
// cleanly, see Driver.discardSession), or "" if there is none or the
// layout changed.
func privateID(s *socket.Socket) string {
	if s == nil {
		return ""
	}
	f := reflect.ValueOf(s).Elem().FieldByName("pid")
	if !f.IsValid() || f.Kind() != reflect.String {
		return ""
	}
	return f.String()
}
