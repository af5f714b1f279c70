// Package console serves the operations console and GraphiQL from the
// embedded bundle: same origin as the API, nothing loaded from elsewhere.
package console

import (
	"bytes"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// Policy is the pages' Content-Security-Policy: everything from this origin
// only (the websocket included), nothing inline, never framed. Images and
// fonts may also be data: URLs (GraphiQL's stylesheet inlines its icons and
// fonts). The one inline style allowed, by its hash, is the rule Cytoscape
// adds to the page: ".__________cytoscape_container { position: relative; }".
const Policy = "default-src 'none'; script-src 'self'; style-src 'self' 'sha256-pgvDUBa4IjFA2yuSJ2cqcyxmNYJMborsd0ORcRv9vw8='; " +
	"img-src 'self' data:; font-src 'self' data:; " +
	"connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves the console: a file of the bundle when the path names one,
// else index.html, so the single-page app's own routes survive a reload.
// A path that looks like a file (it has an extension) and is missing is a
// 404, not the page: a broken asset link must fail loudly.
func Handler(dist fs.FS) http.Handler {
	index := mustRead(dist, "index.html")
	files := http.FileServerFS(dist)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" || name == "index.html" || name == "playground.html" {
			servePage(w, r, index)
			return
		}
		if info, err := fs.Stat(dist, name); err == nil && !info.IsDir() {
			// Bundle file names carry their content hash: cache them for good.
			if strings.HasPrefix(name, "assets/") {
				w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			}
			files.ServeHTTP(w, r)
			return
		}
		if path.Ext(name) != "" {
			http.NotFound(w, r)
			return
		}
		servePage(w, r, index)
	})
}

// Playground serves GraphiQL's page from the bundle.
func Playground(dist fs.FS) http.Handler {
	page := mustRead(dist, "playground.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { servePage(w, r, page) })
}

func servePage(w http.ResponseWriter, r *http.Request, body []byte) {
	w.Header().Set("Content-Security-Policy", Policy)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	http.ServeContent(w, r, "index.html", time.Time{}, bytes.NewReader(body))
}

func mustRead(dist fs.FS, name string) []byte {
	b, err := fs.ReadFile(dist, name)
	if err != nil {
		panic("console bundle incomplete: " + err.Error()) // embedded at compile time
	}
	return b
}
