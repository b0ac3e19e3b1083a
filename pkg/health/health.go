package health

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"time"

	"github.com/socketfx/socketfx/pkg/socketservice"
	"go.uber.org/fx"
)

// CheckGroup is the fx value group Module reads readiness checks from.
const CheckGroup = "socketfx.health"

// Check is one readiness check.
type Check struct {
	// Name is how the check is listed, e.g. "socket-server" or "redis".
	Name string
	// Check returns nil when the dependency is fine. It gets a context
	// bounded by Timeout.
	Check func(ctx context.Context) error
	// Degrades makes a failure report "degraded" with 200 instead of 503:
	// for a dependency without which the node still serves its own
	// clients (the cluster's Redis).
	Degrades bool
}

// Timeout bounds each readiness check.
const Timeout = 2 * time.Second

// Result is one check's outcome in a verbose answer.
type Result struct {
	Name   string `json:"name"`
	Status string `json:"status"` // "ok", "degraded" or "failed"
	Error  string `json:"error,omitempty"`
}

// Answer is the JSON body of /livez and /readyz.
type Answer struct {
	Status string   `json:"status"` // "ok", "degraded" or "unavailable"
	Checks []Result `json:"checks,omitempty"`
}

// Livez answers 200 {"status":"ok"} while the process serves HTTP.
func Livez() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		write(w, r, http.StatusOK, Answer{Status: "ok"}, nil)
	})
}

// Readyz runs the checks on every request: 200 {"status":"ok"} when all
// pass, 200 {"status":"degraded"} when only checks that Degrade failed,
// 503 {"status":"unavailable"} otherwise. ?verbose adds each check's
// result.
func Readyz(checks ...Check) http.Handler {
	checks = append([]Check(nil), checks...)
	sort.SliceStable(checks, func(i, j int) bool { return checks[i].Name < checks[j].Name })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ans, code := Answer{Status: "ok"}, http.StatusOK
		results := make([]Result, 0, len(checks))
		for _, c := range checks {
			ctx, cancel := context.WithTimeout(r.Context(), Timeout)
			err := c.Check(ctx)
			cancel()
			res := Result{Name: c.Name, Status: "ok"}
			switch {
			case err == nil:
			case c.Degrades:
				res.Status, res.Error = "degraded", err.Error()
				if ans.Status == "ok" {
					ans.Status = "degraded"
				}
			default:
				res.Status, res.Error = "failed", err.Error()
				ans.Status, code = "unavailable", http.StatusServiceUnavailable
			}
			results = append(results, res)
		}
		write(w, r, code, ans, results)
	})
}

func write(w http.ResponseWriter, r *http.Request, code int, ans Answer, results []Result) {
	if _, verbose := r.URL.Query()["verbose"]; verbose {
		ans.Checks = results
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(ans)
}

// ServerCheck is the readiness of the socket server: it fails before Start
// and from the moment Stop begins.
func ServerCheck(srv *socketservice.Server) Check {
	return Check{Name: "socket-server", Check: func(context.Context) error { return srv.Ready() }}
}

// AsCheck adds a readiness check to the fx group Module reads.
func AsCheck(constructor any) fx.Option {
	return fx.Provide(fx.Annotate(constructor, fx.ResultTags(`group:"`+CheckGroup+`"`)))
}

type params struct {
	fx.In

	Server *socketservice.Server
	Checks []Check `group:"socketfx.health"`
}

// Module serves GET /livez and GET /readyz (the socket server's readiness
// and every Check in CheckGroup) on the socket server's own listener
// (Config.Addr). With your own router (socketservice.AsHTTPHandler or your
// own server), mount Livez and Readyz instead.
var Module = fx.Module("health",
	socketservice.AsHTTPRoute(func() socketservice.HTTPRoute { return socketservice.NewHTTPRoute("GET /livez", Livez()) }),
	socketservice.AsHTTPRoute(func(p params) socketservice.HTTPRoute {
		return socketservice.NewHTTPRoute("GET /readyz", Readyz(append([]Check{ServerCheck(p.Server)}, p.Checks...)...))
	}),
)
