package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"github.com/changchun-gov/courier/shipment"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/changchun-gov/courier/internal/apperr"
)

// The pages' static files (styles, scripts, vendored libraries), embedded,
// each served under a name that carries a hash of its content, so that a
// browser keeps it for a year and a new release is fetched at once.
//
//go:embed static
var staticFS embed.FS

// assets maps a file's path under static/ to its hashed URL, and back.
type assets struct {
	url  map[string]string // "app.css" → "/static/app.3f2a1b9c0d4e.css"
	file map[string]asset  // "app.3f2a1b9c0d4e.css" → the file
}

type asset struct {
	body []byte
	typ  string
}

func loadAssets() (*assets, error) {
	a := &assets{url: map[string]string{}, file: map[string]asset{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(body)
		ext := path.Ext(rel)
		// The hashed name is flat: directories become dots.
		name := strings.ReplaceAll(strings.TrimSuffix(rel, ext), "/", ".") + "." + hex.EncodeToString(sum[:6]) + ext
		typ := mime.TypeByExtension(ext)
		switch ext {
		case ".wasm":
			typ = "application/wasm"
		case ".js":
			typ = "text/javascript; charset=utf-8"
		case ".webmanifest":
			typ = "application/manifest+json"
		}
		if typ == "" {
			typ = "application/octet-stream"
		}
		a.url[rel] = "/static/" + name
		a.file[name] = asset{body: body, typ: typ}
		return nil
	})
	return a, err
}

// URL is the hashed address of a static file; an unknown one stops the
// template that asks for it (so at start, by the templates' test).
func (a *assets) URL(rel string) (string, error) {
	u, ok := a.url[rel]
	if !ok {
		return "", fmt.Errorf("web: no static file %q", rel)
	}
	return u, nil
}

func (s *server) static(c *fiber.Ctx) error {
	if c.Params("name") == "divisions.json" {
		// The national division codes the address forms choose from
		// (shipment's bundled copy, the one the service checks against).
		c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
		c.Set(fiber.HeaderContentType, "application/json")
		return c.Send(shipment.DivisionsJSON())
	}
	f, ok := s.assets.file[c.Params("name")]
	if !ok {
		return apperr.New(apperr.NotFound, "request.not_found")
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	c.Set(fiber.HeaderContentType, f.typ)
	return c.Send(f.body)
}

// serviceWorker serves the scan station's service worker at the root, so
// that its scope covers the pages (it is never cached long: a new release
// must replace it).
func (s *server) serviceWorker(c *fiber.Ctx) error {
	body, err := staticFS.ReadFile("static/sw.js")
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderContentType, "text/javascript; charset=utf-8")
	c.Set("Service-Worker-Allowed", "/")
	return c.Send(body)
}
