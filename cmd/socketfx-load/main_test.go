package main

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/socketfx/socketfx/internal/sioclient"
	"go.uber.org/goleak"
)

// The load tool runs both targets, counts round trips without errors and
// reports them. (It measures; it asserts nothing about speed.)
func TestCompare(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent(),
		// the bare engine's own leaks (docs/engine.md) are not ours to fix here
		goleak.IgnoreTopFunction("github.com/zishang520/socket.io/v3/pkg/queue.(*Queue).get"),
		goleak.IgnoreTopFunction("sync.runtime_notifyListWait"),
		goleak.IgnoreTopFunction("github.com/zishang520/socket.io/v3/pkg/utils.SetTimeout.func1"))
	results, err := Compare(context.Background(), Options{Clients: 4, Duration: 300 * time.Millisecond, Namespace: "/", Event: "echo", Transport: sioclient.WebSocket})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 || results[0].Name != "socketfx" || results[1].Name != "bare" {
		t.Fatalf("results: %+v", results)
	}
	for _, r := range results {
		if r.RoundTrips == 0 || r.P50 <= 0 || r.P99 < r.P50 {
			t.Fatalf("%s: %+v", r.Name, r)
		}
	}
	// socketfx answers every request. The bare engine can close a
	// connection whose first event follows its CONNECT too closely
	// (docs/engine.md, row 5): its errors are reported, not a failure.
	if results[0].Errors != 0 {
		t.Fatalf("socketfx: %+v", results[0])
	}
	if results[1].Errors != 0 {
		t.Logf("bare engine: %d errors (docs/engine.md, row 5)", results[1].Errors)
	}
	var out bytes.Buffer
	Report(&out, results)
	if !bytes.Contains(out.Bytes(), []byte("socketfx / bare throughput:")) {
		t.Fatalf("report:\n%s", out.String())
	}
}

// The load tool links the protocol client, not the test kit: no Gomega,
// no Ginkgo, nothing under pkg/testing.
func TestNoTestKitDeps(t *testing.T) {
	gobin, err := exec.LookPath("go") // go test puts GOROOT/bin first on PATH
	if err != nil {
		t.Fatal("the go command is needed to list the load tool's dependencies:", err)
	}
	out, err := exec.Command(gobin, "list", "-deps", ".").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list -deps: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.Contains(pkg, "gomega") || strings.Contains(pkg, "ginkgo") || strings.Contains(pkg, "/pkg/testing") {
			t.Errorf("socketfx-load depends on %s", pkg)
		}
	}
}
