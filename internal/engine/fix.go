package engine

import (
	"bytes"
	"reflect"
	"sync/atomic"
	"unsafe"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/v3/pkg/types"

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

// finishPollingClose ends the orderly close that a polling transport
// buffers when it is closed with no poll pending: it keeps the close
// packet for the next poll, with a 30 s timer (the engine's
// DefaultPollingCloseTimeout) in a goroutine of its own. Once the session
// itself has closed (a ping timeout between two polls), no poll of it is
// served again ("Session ID unknown"), so the timer would only hold its
// goroutine for 30 s; this runs the close at once instead. The callback is
// unexported in v3.0.6: a changed layout leaves the timer to run out.
func finishPollingClose(tr any) {
	v := reflect.ValueOf(tr)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return
	}
	f := v.Elem().FieldByName("shouldClose")
	if !f.IsValid() || f.Type() != reflect.TypeFor[atomic.Pointer[types.Callable]]() || !f.CanAddr() {
		return
	}
	pending := (*atomic.Pointer[types.Callable])(unsafe.Pointer(f.UnsafeAddr())) //nolint:gosec // the field's own type, checked above
	// A poll arriving at this moment may run the callback too (the engine
	// loads it, runs it, then clears it): it stops a stopped timer and
	// closes a closed transport, which do nothing the second time.
	if fn := pending.Swap(nil); fn != nil && *fn != nil {
		(*fn)()
	}
}

// invalidNamespace is how the engine encodes the body of its refusal of a
// namespace nothing serves (a CONNECT_ERROR in an engine MESSAGE:
// "4/name,{…}"); it has no
// data, where every other refusal carries {code}.
var invalidNamespace = []byte(`{"message":"Invalid namespace"}`)

// tagInvalidNamespace adds Options.InvalidNamespaceData to the engine's
// refusal of an unknown namespace as it is queued, keeping the message the
// Socket.IO protocol suites expect.
func (d *Driver) tagInvalidNamespace(p *packet.Packet) {
	if p.Type != packet.MESSAGE {
		return
	}
	sb, ok := p.Data.(*types.StringBuffer)
	if !ok || sb == nil || sb.Buffer == nil {
		return
	}
	b := sb.Bytes()
	if len(b) <= len(invalidNamespace) || b[0] != '4' || !bytes.HasSuffix(b, invalidNamespace) {
		return
	}
	p.Data = types.NewStringBufferString(string(b[:len(b)-1]) + `,"data":` + d.invalidNSData + `}`)
}
