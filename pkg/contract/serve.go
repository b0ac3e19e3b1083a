package contract

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"

	"github.com/socketfx/socketfx/pkg/socketservice"
	"go.uber.org/fx"
)

// Format is one of the generators' outputs.
type Format string

// The formats.
const (
	// AsyncAPI is the AsyncAPI 3.0 document (JSON).
	AsyncAPI Format = "asyncapi"
	// TypeScript is the TypeScript declarations (a .d.ts module).
	TypeScript Format = "typescript"
	// JSONSchema is the JSON Schema bundle (draft-07).
	JSONSchema Format = "jsonschema"
)

// Render returns the contract in format f, with its media type.
func (c *Contract) Render(f Format) (body []byte, contentType string, err error) {
	switch f {
	case AsyncAPI:
		body, err = c.AsyncAPI()
		return body, "application/json; charset=utf-8", err
	case TypeScript:
		return c.TypeScript(), "application/typescript; charset=utf-8", nil
	case JSONSchema:
		body, err = c.JSONSchema()
		return body, "application/schema+json; charset=utf-8", err
	}
	return nil, "", fmt.Errorf("contract: unknown format %q (asyncapi, typescript or jsonschema)", f)
}

// Handler serves the contract of the services srv serves in format f,
// e.g. mux.Handle("GET /asyncapi.json", contract.Handler(srv,
// contract.AsyncAPI)). The contract is built on the first request, from
// the routers the server built at start, and then served from memory; a
// request before the server started builds it from the services'
// declarations. A contract that cannot be built is a 500 that says why,
// never a partial document.
func Handler(srv *socketservice.Server, f Format, opts ...Option) http.Handler {
	var (
		mu   sync.Mutex
		body []byte
		ct   string
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		var err error
		if body == nil { // an error is not kept: the next request tries again
			var c *Contract
			if c, err = FromServer(srv, opts...); err == nil {
				body, ct, err = c.Render(f)
			}
		}
		b, t := body, ct
		mu.Unlock()
		if err != nil {
			http.Error(w, "contract: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", t)
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	})
}

// Command is the body of a contract generator: it builds the fx app of
// options app without starting it (constructors and invokes run, start
// hooks do not: nothing listens, nothing dials), takes its
// *socketservice.Server, and writes the contract of its services. args are
// the command line after the program name:
//
//	-format asyncapi|typescript|jsonschema   (default asyncapi)
//	-o FILE                                  (default standard output)
//	-title, -version, -server URL            (the contract's options)
//
// A go:generate program or an app's "contract" subcommand is then:
//
//	if err := contract.Command(os.Args[2:], os.Stdout, app.Module); err != nil { … }
func Command(args []string, stdout io.Writer, app fx.Option, opts ...Option) error {
	fs := flag.NewFlagSet("contract", flag.ContinueOnError)
	fs.SetOutput(stdout)
	format := fs.String("format", string(AsyncAPI), "asyncapi, typescript or jsonschema")
	out := fs.String("o", "", "write to this file instead of standard output")
	title := fs.String("title", "", "the contract's title")
	version := fs.String("version", "", "the contract's version")
	server := fs.String("server", "", "where clients connect, e.g. wss://chat.example.com")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("contract: unexpected argument %q", fs.Arg(0))
	}
	if *title != "" {
		opts = append(opts, WithTitle(*title))
	}
	if *version != "" {
		opts = append(opts, WithVersion(*version))
	}
	if *server != "" {
		opts = append(opts, WithServerURL(*server))
	}
	var srv *socketservice.Server
	a := fx.New(app, fx.NopLogger, fx.Populate(&srv))
	if err := a.Err(); err != nil {
		return fmt.Errorf("contract: building the app: %w", err)
	}
	if srv == nil {
		return errors.New("contract: the app has no *socketservice.Server")
	}
	c, err := FromServer(srv, opts...)
	if err != nil {
		return err
	}
	body, _, err := c.Render(Format(*format))
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = stdout.Write(body)
		return err
	}
	return os.WriteFile(*out, body, 0o644) //nolint:gosec // a generated source file, readable like any other
}
