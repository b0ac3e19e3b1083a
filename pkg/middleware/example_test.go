package middleware_test

import (
	"context"
	"fmt"

	"github.com/socketfx/socketfx/pkg/middleware"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"github.com/socketfx/socketfx/pkg/testing/sockettest"
)

// admin serves one event that only admins may send.
type admin struct{}

func (admin) Register(r *socketservice.Router) {
	r.Namespace("/admin")
	r.Handle("purge", socketservice.Typed0(func(ctx context.Context) (string, error) { return "purged", nil }),
		socketservice.WithMiddleware(middleware.RequireRole("admin")))
}

// A guard on one handler: a user without the role gets FORBIDDEN, an admin
// gets through.
func ExampleRequireRole() {
	ev := sockettest.NewEventContext("/admin", "purge")
	ev.Socket().SetIdentity(socketservice.Identity{Subject: "ann", Roles: []string{"user"}})
	_, err := ev.Serve(admin{})
	fmt.Println(socketservice.CodeOf(err))

	ev = sockettest.NewEventContext("/admin", "purge")
	ev.Socket().SetIdentity(socketservice.Identity{Subject: "bob", Roles: []string{"admin"}})
	out, _ := ev.Serve(admin{})
	fmt.Println(out)
	// Output:
	// FORBIDDEN
	// purged
}
