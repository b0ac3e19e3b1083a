package nodeclient

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
)

// Report is one line the driver printed, e.g. {"type":"event","id":"a",…}.
type Report map[string]any

// Type returns r["type"].
func (r Report) Type() string { s, _ := r["type"].(string); return s }

// ID returns r["id"], the client the report is about.
func (r Report) ID() string { s, _ := r["id"].(string); return s }

// Driver is one Node process running any number of clients.
type Driver struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	mu     sync.Mutex
	lines  []Report
	done   chan struct{}
	stderr *lockedBuffer
}

// Dir returns the interop directory (with package.json and driver.js).
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "interop")
}

// Start runs the client driver (driver.js). It fails with instructions when
// Node or the npm packages are missing.
func Start() (*Driver, error) { return StartScript("driver.js") }

// StartScript runs another line-protocol script of interop/ with args, e.g.
// cluster-server.js (a Node socket.io server on the Redis adapter).
func StartScript(script string, args ...string) (*Driver, error) {
	dir := Dir()
	if _, err := exec.LookPath("node"); err != nil {
		return nil, fmt.Errorf("nodeclient: node is not installed (install Node.js 18+ and run `make deps`): %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "socket.io-client")); err != nil {
		return nil, fmt.Errorf("nodeclient: %s/node_modules is missing: run `make deps` (npm ci in interop/)", dir)
	}
	cmd := exec.Command("node", append([]string{filepath.Join(dir, script)}, args...)...)
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	d := &Driver{cmd: cmd, stdin: stdin, done: make(chan struct{}), stderr: &lockedBuffer{}}
	cmd.Stderr = d.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("nodeclient: start node: %w", err)
	}
	go func() {
		defer close(d.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		for sc.Scan() {
			var r Report
			if json.Unmarshal(sc.Bytes(), &r) != nil {
				r = Report{"type": "garbage", "line": sc.Text()}
			}
			d.mu.Lock()
			d.lines = append(d.lines, r)
			d.mu.Unlock()
		}
	}()
	return d, nil
}

// Send writes one command.
func (d *Driver) Send(cmd map[string]any) {
	b, _ := json.Marshal(cmd)
	d.mu.Lock()
	defer d.mu.Unlock()
	_, _ = d.stdin.Write(append(b, '\n'))
}

// Reports returns every report so far.
func (d *Driver) Reports() []Report {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Report(nil), d.lines...)
}

// Find returns the reports of one type about client id, in order.
func (d *Driver) Find(typ, id string) []Report {
	var out []Report
	for _, r := range d.Reports() {
		if r.Type() == typ && r.ID() == id {
			out = append(out, r)
		}
	}
	return out
}

// Events returns the names and arguments of the events client id received.
func (d *Driver) Events(id string) []Report { return d.Find("event", id) }

// Stderr returns what the driver wrote to stderr, for failure messages.
func (d *Driver) Stderr() string { return d.stderr.String() }

// Close ends the Node process and waits for it.
func (d *Driver) Close() {
	d.Send(map[string]any{"op": "exit"})
	_ = d.stdin.Close()
	<-d.done
	_ = d.cmd.Wait()
}

type lockedBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}
