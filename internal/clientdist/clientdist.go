package clientdist

import (
	"embed"
	"encoding/json"
	"io/fs"
	"path"
)

//go:embed dist
var files embed.FS

// Lookup returns the content of a dist file such as "socket.io.min.js".
func Lookup(name string) ([]byte, bool) {
	if name != path.Base(name) {
		return nil, false
	}
	b, err := fs.ReadFile(files, "dist/"+name)
	return b, err == nil
}

// Version returns the embedded client's version, or "" when none is.
func Version() string {
	b, err := fs.ReadFile(files, "dist/package.json")
	if err != nil {
		return ""
	}
	var p struct {
		Version string `json:"version"`
	}
	if json.Unmarshal(b, &p) != nil {
		return ""
	}
	return p.Version
}
