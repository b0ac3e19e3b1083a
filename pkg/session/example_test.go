package session_test

import (
	"fmt"

	"github.com/socketfx/socketfx/pkg/session"
)

// Profile is a service's own state in a socket's session.
type Profile struct {
	Name  string   `json:"name"`
	Rooms []string `json:"rooms"`
}

// A service's state struct, changed under the session's lock and read back.
func ExampleUpdate() {
	s := session.New("session-1")
	_ = session.Update(s, func(p *Profile) { p.Name = "ann" })
	_ = session.Update(s, func(p *Profile) { p.Rooms = append(p.Rooms, "go") })
	p, err := session.Load[Profile](s)
	fmt.Println(p.Name, p.Rooms, err)
	// Output: ann [go] <nil>
}
