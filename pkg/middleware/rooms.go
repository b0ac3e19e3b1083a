package middleware

import (
	"context"
	"errors"
	"strings"

	"github.com/socketfx/socketfx/pkg/socketservice"
)

// RoomPolicy decides whether socket s may join room (Ignis's
// validateRoomFn). A nil error allows it; an error refuses it and is what
// the client is told: a *socketservice.Error keeps its code, anything else
// is FORBIDDEN "may not join <room>". It runs for every room of every
// request, and must be safe for concurrent use.
type RoomPolicy func(ctx context.Context, s *socketservice.Socket, room string) error

// RoomsConfig configures Rooms.
type RoomsConfig struct {
	// Policy decides each join; nil allows every room but the socket's
	// own id (see Rooms).
	Policy RoomPolicy
	// MaxRooms is the most rooms a socket may be in, its own id aside; a
	// join past it is refused with RATE_LIMITED. Zero is 64; negative is
	// no limit.
	MaxRooms int
	// MaxPerRequest is the most rooms one request may name; more is
	// VALIDATION_PAYLOAD_ERROR. Zero is 32.
	MaxPerRequest int
	// MaxNameLength is the longest room name, in bytes. Zero is 128.
	MaxNameLength int
}

// RoomsRequest is what the client sends to the join and leave handlers:
// {"rooms": ["a", "b"]}.
type RoomsRequest struct {
	Rooms []string `json:"rooms" validate:"required,min=1"`
}

// RoomsReply is the ack data of the join and leave handlers: the rooms
// joined (or left), and the ones refused, each with its error.
type RoomsReply struct {
	Joined  []string      `json:"joined,omitempty"`
	Left    []string      `json:"left,omitempty"`
	Refused []RoomRefusal `json:"refused,omitempty"`
}

// RoomRefusal is one room a join refused, with the error the policy gave.
type RoomRefusal struct {
	Room  string     `json:"room"`
	Error RoomReason `json:"error"`
}

// RoomReason is the error of a refused room, as in the error envelope.
type RoomReason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// RoomHandlers are the handlers Rooms builds; register them under the
// event names you want (Ignis's are "join" and "leave"):
//
//	rooms := middleware.Rooms(middleware.RoomsConfig{Policy: policy})
//	r.Handle("join", rooms.Join, socketservice.WithErrors(socketservice.CodeForbidden))
//	r.Handle("leave", rooms.Leave)
type RoomHandlers struct {
	Join  socketservice.Handler
	Leave socketservice.Handler
	// Check runs the policy and the limits for one room, for handlers of
	// your own (a chat:join that does more than join).
	Check RoomPolicy
}

// Rooms returns the stock join and leave handlers, with which clients ask
// to join and leave rooms and the server decides (Ignis's join/leave with
// validateRoomFn). Join takes RoomsRequest and acks RoomsReply: the rooms
// joined and those refused, each with its code and message; when every
// room of the request is refused, the ack is the error envelope of the
// first refusal. A socket can never join another socket's id (the room
// Socket.IO gives each socket), whatever the policy. Leave leaves the rooms
// the socket is in and acks those it left; it cannot leave its own id.
func Rooms(cfg RoomsConfig) RoomHandlers {
	if cfg.MaxRooms == 0 {
		cfg.MaxRooms = 64
	}
	if cfg.MaxPerRequest == 0 {
		cfg.MaxPerRequest = 32
	}
	if cfg.MaxNameLength == 0 {
		cfg.MaxNameLength = 128
	}
	rm := roomsHandler{cfg}
	return RoomHandlers{
		Join:  socketservice.TypedSocket(rm.join),
		Leave: socketservice.TypedSocket(rm.leave),
		Check: rm.check,
	}
}

type roomsHandler struct{ cfg RoomsConfig }

func (rm roomsHandler) check(ctx context.Context, s *socketservice.Socket, room string) error {
	switch {
	case strings.TrimSpace(room) == "":
		return socketservice.NewError(socketservice.CodeValidation, "a room name must not be blank")
	case len(room) > rm.cfg.MaxNameLength:
		return socketservice.Errorf(socketservice.CodeValidation, "a room name is at most %d bytes", rm.cfg.MaxNameLength)
	case room == s.ID() || isSocketID(ctx, s, room):
		return socketservice.Errorf(socketservice.CodeForbidden, "may not join %s", room)
	case rm.cfg.Policy == nil:
		return nil
	}
	err := rm.cfg.Policy(ctx, s, room)
	if err == nil {
		return nil
	}
	var se *socketservice.Error
	if errors.As(err, &se) {
		return se
	}
	return socketservice.Errorf(socketservice.CodeForbidden, "may not join %s", room).WithCause(err)
}

func (rm roomsHandler) join(ctx context.Context, s *socketservice.Socket, in RoomsRequest) (RoomsReply, error) {
	if len(in.Rooms) > rm.cfg.MaxPerRequest {
		return RoomsReply{}, socketservice.Errorf(socketservice.CodeValidation, "at most %d rooms per request", rm.cfg.MaxPerRequest)
	}
	var out RoomsReply
	var first error
	for _, room := range dedupe(in.Rooms) {
		err := rm.check(ctx, s, room)
		if err == nil && rm.cfg.MaxRooms > 0 && !inRoom(s, room) && len(s.Rooms())-1 >= rm.cfg.MaxRooms {
			err = socketservice.Errorf(socketservice.CodeRateLimited, "a socket may be in at most %d rooms", rm.cfg.MaxRooms)
		}
		if err == nil {
			s.Join(room)
			out.Joined = append(out.Joined, room)
			continue
		}
		if first == nil {
			first = err
		}
		var se *socketservice.Error
		errors.As(err, &se)
		out.Refused = append(out.Refused, RoomRefusal{Room: room, Error: RoomReason{Code: string(se.Code()), Message: se.Message()}})
	}
	if len(out.Joined) == 0 && first != nil {
		return RoomsReply{}, first
	}
	return out, nil
}

func (rm roomsHandler) leave(ctx context.Context, s *socketservice.Socket, in RoomsRequest) (RoomsReply, error) {
	if len(in.Rooms) > rm.cfg.MaxPerRequest {
		return RoomsReply{}, socketservice.Errorf(socketservice.CodeValidation, "at most %d rooms per request", rm.cfg.MaxPerRequest)
	}
	out := RoomsReply{Left: []string{}}
	for _, room := range dedupe(in.Rooms) {
		if room == s.ID() || !inRoom(s, room) {
			continue
		}
		s.Leave(room)
		out.Left = append(out.Left, room)
	}
	return out, nil
}

// isSocketID reports whether room is the id of another socket of the
// namespace, on any node (the room Socket.IO puts each socket in): joining
// it would receive that socket's private emits. Only names as long as a
// socket id are looked up.
func isSocketID(ctx context.Context, s *socketservice.Socket, room string) bool {
	if len(room) != len(s.ID()) {
		return false
	}
	socks, err := s.To(room).FetchSockets(ctx)
	if err != nil {
		return true // cannot tell: refuse
	}
	for _, rs := range socks {
		if rs.ID == room {
			return true
		}
	}
	return false
}

func inRoom(s *socketservice.Socket, room string) bool {
	for _, r := range s.Rooms() {
		if r == room {
			return true
		}
	}
	return false
}

func dedupe(rooms []string) []string {
	seen := make(map[string]bool, len(rooms))
	out := rooms[:0:0]
	for _, r := range rooms {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}
