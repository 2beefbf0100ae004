package web

import (
	"io/fs"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/changchun-gov/courier/internal/i18n"
)

// Every translation key a page's template or handler names is in the
// catalogs (which hold the same keys in both languages): a page never
// shows a bare key.
func TestPagesUseOnlyKeysTheCatalogsHave(t *testing.T) {
	t.Parallel()
	cat := i18n.MustLoad()
	keys := map[string]string{} // key → where
	tplKey := regexp.MustCompile(`\bt \$?\.T "([^"]+)"`)
	err := fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFS.ReadFile(p)
		if err != nil {
			return err
		}
		for _, m := range tplKey.FindAllStringSubmatch(string(b), -1) {
			keys[m[1]] = p
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	goKey := regexp.MustCompile(`(?:\.T\(|view\(c, |Key: |, )"((?:page|scan|auth|counter)\.[a-z_]+)"`)
	for _, f := range []string{"pages.go", "desk.go", "counter.go", "hall.go"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range goKey.FindAllStringSubmatch(string(src), -1) {
			keys[m[1]] = f
		}
	}
	for _, m := range menu {
		keys[m.key] = "menu"
	}
	if len(keys) < 20 {
		t.Fatalf("found only %d keys: the patterns no longer match the templates", len(keys))
	}
	for k, where := range keys {
		if !cat.Has(k) {
			t.Errorf("%s uses %q, which the catalogs lack", where, k)
		}
		if strings.Contains(cat.T(i18n.English, k, nil), "{{") {
			t.Errorf("%s uses %q, which takes arguments a page does not give", where, k)
		}
	}
}

// Each static file is served under its content's hash, cached for a year;
// an unknown name is 404.
func TestStaticFilesAreHashedAndCached(t *testing.T) {
	t.Parallel()
	a, err := loadAssets()
	if err != nil {
		t.Fatal(err)
	}
	u, err := a.URL("app.css")
	if err != nil || !regexp.MustCompile(`^/static/app\.[0-9a-f]{12}\.css$`).MatchString(u) {
		t.Fatalf("app.css is served as %q (%v)", u, err)
	}
	if _, err := a.URL("nothing.js"); err == nil {
		t.Fatal("an unknown static file has a URL")
	}
}
