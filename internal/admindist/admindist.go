package admindist

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"time"
)

//go:embed all:dist
var files embed.FS

// Available reports whether `make client` copied the UI in.
func Available() bool {
	_, err := fs.Stat(files, "dist/index.html")
	return err == nil
}

// cdnLinks are the stylesheets the UI's index.html loads from CDNs, and
// what the served page loads instead: the icon font from the binary, the
// web font left to the browser's fallback (sans-serif).
var cdnLinks = [][2]string{
	{`<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto:100,300,400,500,700,900">`, ``},
	{`https://cdn.jsdelivr.net/npm/@mdi/font@latest/css/materialdesignicons.min.css`, `mdi/css/materialdesignicons.min.css`},
}

// Handler serves the UI's files (mount it with http.StripPrefix). Without
// the copied files it answers 404 with the command that copies them.
func Handler() http.Handler {
	dist, _ := fs.Sub(files, "dist")
	index, err := fs.ReadFile(dist, "index.html")
	if err == nil {
		for _, l := range cdnLinks {
			index = bytes.ReplaceAll(index, []byte(l[0]), []byte(l[1]))
		}
	}
	static := http.FileServerFS(dist)
	started := time.Now()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if index == nil {
			http.Error(w, "the Admin UI is not built in: run `make client`", http.StatusNotFound)
			return
		}
		if r.URL.Path == "" || r.URL.Path == "/" || r.URL.Path == "/index.html" {
			w.Header().Set("Cache-Control", "no-cache")
			http.ServeContent(w, r, "index.html", started, bytes.NewReader(index))
			return
		}
		if r.URL.Path == "/README.md" {
			http.NotFound(w, r)
			return
		}
		static.ServeHTTP(w, r)
	})
}
