package engine

import (
	"bytes"
	"reflect"

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
