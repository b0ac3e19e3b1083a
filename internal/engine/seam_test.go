package engine_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// Only internal/engine and its subpackages import the zishang520 engine
// (tests aside): the rest of the module talks to it through the seam.
func TestOnlyTheEngineImportsZishang520(t *testing.T) {
	gobin, err := exec.LookPath("go") // go test puts GOROOT/bin first on PATH
	if err != nil {
		t.Fatal("the go command is needed to list the module's imports:", err)
	}
	out, err := exec.Command(gobin, "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "github.com/socketfx/socketfx/...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	const engine = "github.com/socketfx/socketfx/internal/engine"
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		checked++
		if pkg == engine || strings.HasPrefix(pkg, engine+"/") {
			continue
		}
		for _, imp := range imports {
			if strings.HasPrefix(imp, "github.com/zishang520/") {
				t.Errorf("%s imports %s: only %s/... may import the engine", pkg, imp, engine)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("go list found only %d packages:\n%s", checked, out)
	}
}
