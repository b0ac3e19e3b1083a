package contracttest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/socketfx/socketfx/internal/nodeclient"
)

const asyncAPIID = "http://asyncapi.com/definitions/3.0.0/asyncapi.json"

// AsyncAPISchema compiles the AsyncAPI 3.0.0 schema of
// interop/node_modules/@asyncapi/specs (make deps installs it).
func AsyncAPISchema() (*jsonschema.Schema, error) {
	f, err := os.Open(filepath.Join(nodeclient.Dir(), "node_modules", "@asyncapi", "specs", "schemas", "3.0.0.json"))
	if err != nil {
		return nil, fmt.Errorf("the AsyncAPI schema is missing (run make deps): %w", err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(asyncAPIID, doc); err != nil {
		return nil, err
	}
	return c.Compile(asyncAPIID)
}

// ValidateAsyncAPI validates an AsyncAPI document.
func ValidateAsyncAPI(sch *jsonschema.Schema, doc []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

// ErrTypeErrors is returned by CompileTS when tsc reports errors.
var ErrTypeErrors = errors.New("tsc reported errors")

// CompileTS type-checks main (a TypeScript file's text) with tsc --strict,
// next to dts written as socketfx.d.ts, in a temporary directory under
// interop (so that socket.io-client's types resolve). It returns tsc's
// output, and ErrTypeErrors when tsc found errors.
func CompileTS(dts []byte, main string) (string, error) {
	dir, out, err := BuildTS(dts, main, false)
	_ = os.RemoveAll(dir)
	return out, err
}

// BuildTS is CompileTS that, with emit, also writes the JavaScript: main.js
// in the directory it returns, which the caller removes.
func BuildTS(dts []byte, main string, emit bool) (dir, output string, err error) {
	dir, err = os.MkdirTemp(nodeclient.Dir(), "tsc-")
	if err != nil {
		return "", "", err
	}
	config := fmt.Sprintf(`{"compilerOptions": {"strict": true, "noEmit": %t, "target": "es2020", "lib": ["es2020", "dom"],
  "module": "nodenext", "moduleResolution": "nodenext", "types": []}, "files": ["main.ts"]}`, !emit)
	for name, text := range map[string][]byte{"socketfx.d.ts": dts, "main.ts": []byte(main), "tsconfig.json": []byte(config)} {
		if err := os.WriteFile(filepath.Join(dir, name), text, 0o600); err != nil {
			return dir, "", err
		}
	}
	tsc := filepath.Join(nodeclient.Dir(), "node_modules", "typescript", "bin", "tsc")
	if _, err := os.Stat(tsc); err != nil {
		return dir, "", fmt.Errorf("tsc is missing (run make deps): %w", err)
	}
	out, err := exec.Command("node", tsc, "-p", dir).CombinedOutput()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return dir, string(out), ErrTypeErrors
	}
	return dir, string(out), err
}
