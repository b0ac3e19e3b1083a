package sockettest_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
)

// lobby joins a socket to a room and tells the room.
type lobby struct{}

func (lobby) Register(r *socketservice.Router) {
	r.Namespace("/lobby")
	r.Handle("join", socketservice.TypedSocket(func(ctx context.Context, s *socketservice.Socket, room string) (string, error) {
		s.Join(room)
		return room, s.To(room).Emit("joined", s.ID())
	}))
}

// An event served through the whole service without a network: the
// result, the rooms joined (besides the room of its own id) and what was
// emitted are recorded.
func ExampleNewEventContext() {
	ev := sockettest.NewEventContext("/lobby", "join")
	out, err := ev.Serve(lobby{}, "go")
	fmt.Println(out, err, slices.DeleteFunc(ev.Rooms(), func(r string) bool { return r == ev.Socket().ID() }))
	for _, e := range ev.Emits() {
		fmt.Println(e.Event, e.Rooms)
	}
	// Output:
	// go <nil> [go]
	// joined [go]
}
