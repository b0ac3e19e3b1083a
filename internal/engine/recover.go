package engine

import (
	"bytes"
	"encoding/json"

	"github.com/socketfx/socketfx/internal/engine/recovery"
	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// presentNoOffset rewrites the CONNECT packet of a client that has a
// private session id but no offset (it never received a packet), so that
// the engine tries to recover it too: it gets every packet since it first
// connected (see internal/recovery).
func presentNoOffset(p *packet.Packet) {
	buf, ok := p.Data.(*types.StringBuffer)
	if !ok {
		return
	}
	b := buf.Bytes()
	i := bytes.IndexByte(b, '{')
	if i < 0 || !bytes.Contains(b[i:], []byte(`"pid"`)) {
		return
	}
	var auth map[string]any
	if json.Unmarshal(b[i:], &auth) != nil {
		return
	}
	if pid, ok := auth["pid"].(string); !ok || pid == "" {
		return
	}
	if offset, ok := auth["offset"].(string); ok && offset != "" {
		return
	}
	auth["offset"] = recovery.NoOffset
	out, err := json.Marshal(auth)
	if err != nil {
		return
	}
	rewritten := append(append([]byte(nil), b[:i]...), out...)
	buf.Reset()
	_, _ = buf.Write(rewritten)
}

// sessionValues turns a socket's data into what FetchSockets shows.
func sessionValues(data any) any {
	d, ok := data.(*recovery.SocketData)
	if !ok {
		return data
	}
	snap, err := d.Session.Snapshot()
	if err != nil {
		return nil
	}
	out := make(map[string]any, len(snap))
	for k, v := range snap {
		var x any
		_ = json.Unmarshal(v, &x)
		out[k] = x
	}
	return out
}
