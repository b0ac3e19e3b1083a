package health_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/socketfx/socketfx/pkg/health"
)

// A node whose Redis is away is still ready (it serves its own clients):
// degraded, with 200.
func ExampleReadyz() {
	h := health.Readyz(health.Check{Name: "redis", Degrades: true, Check: func(context.Context) error {
		return errors.New("connection refused")
	}})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz?verbose", nil))
	fmt.Print(rec.Code, " ", rec.Body.String())
	// Output: 200 {"status":"degraded","checks":[{"name":"redis","status":"degraded","error":"connection refused"}]}
}
