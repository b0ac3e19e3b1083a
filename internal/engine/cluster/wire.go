package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// The wire format is the one of Node's @socket.io/redis-adapter (v8) and
// @socket.io/redis-emitter (v5), so that Node servers, Node emitters and
// socketfx nodes share one cluster:
//
//	broadcast  PUBLISH <prefix>#<nsp>#[<room>#]  msgpack [uid, packet, opts]
//	request    PUBLISH <prefix>-request#<nsp>#   msgpack or JSON {uid, requestId, type, …}
//	response   PUBLISH <prefix>-response#<nsp>#[<uid>#]  msgpack or JSON {requestId, type, …}
//
// socketfx nodes also publish heartbeats on <prefix>-heartbeat#<nsp>#, a
// channel Node servers do not listen to.

// Request types, numbered as in Node's adapter (0, SOCKETS, is an old
// request socketfx neither sends nor answers).
const (
	reqAllRooms         = 1
	reqRemoteJoin       = 2
	reqRemoteLeave      = 3
	reqRemoteDisconnect = 4
	reqRemoteFetch      = 5
	reqServerSideEmit   = 6
	reqBroadcast        = 7
	reqBroadcastCount   = 8
	reqBroadcastAck     = 9
)

// Heartbeat types (socketfx nodes only).
const (
	beatInitial = 0 // a node joined the namespace: peers answer at once
	beatAlive   = 1
	beatGoodbye = 2 // a node left the namespace cleanly
)

type wireOpts struct {
	Rooms  []string       `json:"rooms" msgpack:"rooms"`
	Except []string       `json:"except" msgpack:"except"`
	Flags  map[string]any `json:"flags,omitempty" msgpack:"flags,omitempty"`
}

type wirePacket struct {
	Type int     `json:"type" msgpack:"type"`
	Data any     `json:"data,omitempty" msgpack:"data,omitempty"`
	Nsp  string  `json:"nsp" msgpack:"nsp"`
	ID   *uint64 `json:"id,omitempty" msgpack:"id,omitempty"`
}

// message is a request or a response; which fields are set depends on Type.
type message struct {
	UID         string       `json:"uid,omitempty" msgpack:"uid,omitempty"`
	RequestID   string       `json:"requestId,omitempty" msgpack:"requestId,omitempty"`
	Type        int          `json:"type" msgpack:"type"`
	Opts        *wireOpts    `json:"opts,omitempty" msgpack:"opts,omitempty"`
	Rooms       []string     `json:"rooms,omitempty" msgpack:"rooms,omitempty"`
	Close       bool         `json:"close,omitempty" msgpack:"close,omitempty"`
	Data        any          `json:"data,omitempty" msgpack:"data,omitempty"`
	Packet      any          `json:"packet,omitempty" msgpack:"packet,omitempty"`
	Args        []any        `json:"args,omitempty" msgpack:"args,omitempty"` // socketfx: every ack argument
	ClientCount *uint64      `json:"clientCount,omitempty" msgpack:"clientCount,omitempty"`
	Sockets     []wireSocket `json:"sockets,omitempty" msgpack:"sockets,omitempty"`
}

type wireSocket struct {
	ID        string            `json:"id" msgpack:"id"`
	Handshake *socket.Handshake `json:"handshake" msgpack:"handshake"`
	Rooms     []string          `json:"rooms" msgpack:"rooms"`
	Data      any               `json:"data" msgpack:"data"`
}

// remoteSocket gives a wireSocket the engine's SocketDetails methods.
type remoteSocket struct{ w wireSocket }

// Id implements the engine's SocketDetails, which names it so.
func (r remoteSocket) Id() socket.SocketId { //nolint:revive // see above
	return socket.SocketId(r.w.ID)
}

func (r remoteSocket) Handshake() *socket.Handshake {
	if r.w.Handshake == nil {
		return &socket.Handshake{}
	}
	return r.w.Handshake
}

func (r remoteSocket) Rooms() *types.Set[socket.Room] { return types.NewSet(toRooms(r.w.Rooms)...) }

func (r remoteSocket) Data() any { return r.w.Data }

type heartbeat struct {
	UID  string `msgpack:"uid"`
	Type int    `msgpack:"type"`
}

func encode(v any) ([]byte, error) { return msgpack.Marshal(v) }

// decodeMessage reads a request or response in msgpack or, when it starts
// with '{', JSON (Node sends both).
func decodeMessage(b []byte, m *message) error {
	if len(b) > 0 && b[0] == '{' {
		return json.Unmarshal(b, m)
	}
	return msgpack.Unmarshal(b, m)
}

// decodeBroadcast reads [uid, packet, opts].
func decodeBroadcast(b []byte) (uid string, p wirePacket, o wireOpts, err error) {
	dec := msgpack.NewDecoder(bytes.NewReader(b))
	n, err := dec.DecodeArrayLen()
	if err != nil {
		return "", p, o, err
	}
	if n != 3 {
		return "", p, o, fmt.Errorf("broadcast has %d elements, want 3", n)
	}
	if uid, err = dec.DecodeString(); err != nil {
		return "", p, o, err
	}
	if err = dec.Decode(&p); err != nil {
		return "", p, o, err
	}
	err = dec.Decode(&o)
	return uid, p, o, err
}

func encodeBroadcast(uid string, p wirePacket, o wireOpts) ([]byte, error) {
	return msgpack.Marshal([]any{uid, p, o})
}

// ToWire is toWire for the recovery stream (pkg/adapter).
func ToWire(v any) (any, error) { return toWire(v) }

// toWire turns an emitted value into what Node's msgpack codec would see:
// JSON-shaped values and []byte (msgpack bin, a Buffer in Node). Values of
// other Go types go through encoding/json, so that a remote client sees
// exactly what a local one does.
func toWire(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string, []byte,
		float64, float32, int, int8, int16, int32, int64,
		uint, uint8, uint16, uint32, uint64:
		return x, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			w, err := toWire(e)
			if err != nil {
				return nil, err
			}
			out[i] = w
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			w, err := toWire(e)
			if err != nil {
				return nil, err
			}
			out[k] = w
		}
		return out, nil
	case types.BufferInterface:
		return x.Bytes(), nil
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return nil, err
		}
		var out any
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, err
		}
		return out, nil
	}
}

func packetToWire(p *parser.Packet) (wirePacket, error) {
	data, err := toWire(p.Data)
	if err != nil {
		return wirePacket{}, err
	}
	t := int(p.Type)
	// Node encodes binary packets as EVENT/ACK; its parser finds the binary.
	switch p.Type {
	case parser.BINARY_EVENT:
		t = int(parser.EVENT)
	case parser.BINARY_ACK:
		t = int(parser.ACK)
	}
	return wirePacket{Type: t, Data: data, Nsp: p.Nsp, ID: p.Id}, nil
}

func (w wirePacket) packet(nsp string) *parser.Packet {
	return &parser.Packet{Type: parser.PacketType(w.Type), Data: w.Data, Nsp: nsp, Id: w.ID}
}

func optsToWire(o *socket.BroadcastOptions) wireOpts {
	w := wireOpts{Rooms: []string{}, Except: []string{}}
	if o == nil {
		return w
	}
	if o.Rooms != nil {
		w.Rooms = fromRooms(o.Rooms.Keys())
	}
	if o.Except != nil {
		w.Except = fromRooms(o.Except.Keys())
	}
	if f := o.Flags; f != nil {
		w.Flags = map[string]any{}
		if f.Volatile {
			w.Flags["volatile"] = true
		}
		if f.Compress != nil {
			w.Flags["compress"] = *f.Compress
		}
		if f.Timeout != nil {
			w.Flags["timeout"] = f.Timeout.Milliseconds()
		}
	}
	return w
}

func (w *wireOpts) options() *socket.BroadcastOptions {
	o := &socket.BroadcastOptions{
		Rooms:  types.NewSet(toRooms(w.Rooms)...),
		Except: types.NewSet(toRooms(w.Except)...),
		Flags:  &socket.BroadcastFlags{},
	}
	if v, ok := w.Flags["volatile"].(bool); ok {
		o.Flags.Volatile = v
	}
	if v, ok := w.Flags["compress"].(bool); ok {
		o.Flags.Compress = &v
	}
	return o
}

func toRooms(rooms []string) []socket.Room {
	out := make([]socket.Room, len(rooms))
	for i, r := range rooms {
		out[i] = socket.Room(r)
	}
	return out
}

func fromRooms(rooms []socket.Room) []string {
	out := make([]string, len(rooms))
	for i, r := range rooms {
		out[i] = string(r)
	}
	return out
}

// globEscape escapes the characters PSUBSCRIBE treats as special.
func globEscape(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func msgpackUnmarshal(b []byte, v any) error { return msgpack.Unmarshal(b, v) }

// remarshal converts a decoded msgpack value into a struct.
func remarshal(in any, out any) error {
	b, err := msgpack.Marshal(in)
	if err != nil {
		return err
	}
	return msgpack.Unmarshal(b, out)
}
