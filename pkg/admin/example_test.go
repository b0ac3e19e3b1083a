package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/socketfx/socketfx/pkg/admin"
	"github.com/socketfx/socketfx/pkg/socketservice"
	"go.uber.org/fx"
)

// Under fx, UIModule serves the Admin UI's protocol on the namespace
// /admin, next to your services. The password is checked against its
// bcrypt hash (here from the environment).
func ExampleUIModule() {
	hash := os.Getenv("ADMIN_PASSWORD_BCRYPT") // e.g. htpasswd -bnBC 10 "" pw | tr -d ':\n'
	if hash == "" {
		hash = passwordHash
	}
	app := fx.New(
		fx.NopLogger,
		socketservice.Module,
		fx.Supply(socketservice.Config{Addr: "127.0.0.1:0"}),
		socketservice.AsService(func() chat { return chat{} }),
		admin.UIModule(admin.WithBasicAuth("admin", hash), admin.WithUIReadOnly()),
	)
	if err := app.Start(context.Background()); err != nil {
		panic(err)
	}
	defer app.Stop(context.Background()) //nolint:errcheck // an example
	fmt.Println("admin UI on /admin")
	// Output: admin UI on /admin
}

// NewAPI is an http.Handler; mount it under a prefix with
// http.StripPrefix, behind your own authorization.
func ExampleNewAPI() {
	srv, err := socketservice.New(socketservice.Config{Addr: "127.0.0.1:0"}, socketservice.WithServices(chat{}))
	if err != nil {
		panic(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		panic(err)
	}
	defer srv.Stop(context.Background()) //nolint:errcheck // an example

	api, err := admin.NewAPI(srv, func(r *http.Request, access admin.Access) error {
		if r.Header.Get("Authorization") != "Bearer "+os.Getenv("ADMIN_TOKEN") {
			return admin.ErrUnauthorized
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/admin/api/", http.StripPrefix("/admin/api", api))

	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/admin/api/info?nsp=/chat", nil))
	fmt.Println(rec.Code, rec.Body.String())
	// Output: 401 {"error":{"code":"unauthorized","message":"authentication required"}}
}
