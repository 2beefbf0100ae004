package archtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

func rules(t *testing.T) *Rules {
	t.Helper()
	f, err := os.Open("imports.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs, err := Parse(f)
	if err != nil {
		t.Fatalf("imports.txt: %v", err)
	}
	return rs
}

var listed = sync.OnceValues(func() ([]Package, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	return List(goCmd, filepath.Join("..", ".."))
})

func modulePackages(t *testing.T) []Package {
	t.Helper()
	pkgs, err := listed()
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 10 {
		t.Fatalf("only %d packages listed", len(pkgs))
	}
	return pkgs
}

// Every non-test import of every package of the module is one its rule in
// imports.txt allows.
func TestImportsFollowTheRules(t *testing.T) {
	for _, v := range rules(t).Check(modulePackages(t)) {
		t.Error(v)
	}
}

// with returns a copy of pkgs where pkg also imports imp (pkg is added
// when it is not there).
func with(pkgs []Package, pkg string, imp Import) []Package {
	out := slices.Clone(pkgs)
	for i, p := range out {
		if p.Path == pkg {
			out[i].Imports = append(slices.Clone(p.Imports), imp)
			return out
		}
	}
	return append(out, Package{Path: pkg, Imports: []Import{imp}})
}

// without returns a copy of pkgs where pkg no longer imports anything
// under prefix.
func without(pkgs []Package, pkg, prefix string) []Package {
	out := slices.Clone(pkgs)
	for i, p := range out {
		if p.Path == pkg {
			out[i].Imports = slices.DeleteFunc(slices.Clone(p.Imports), func(x Import) bool { return strings.HasPrefix(x.Name, prefix) })
		}
	}
	return out
}

// The rules catch each kind of violation, added one at a time to the real
// import graph.
func TestRulesCatchViolations(t *testing.T) {
	rs := rules(t)
	real := modulePackages(t)
	std := func(p string) Import { return Import{Name: p, Standard: true} }
	mod := func(p string) Import { return Import{Name: p} }
	for _, c := range []struct {
		name string
		pkgs []Package
		want string // "" = no violation
	}{
		{"domain imports apperr", with(real, "shipment", mod("internal/apperr")), ""},
		{"domain imports strings", with(real, "tracking", std("strings")), ""},
		{"cmd wires the adapter", with(real, "cmd/courier", mod("internal/postgres")), ""},
		{"a test-only package imports another", with(real, "internal/openapitest", mod("internal/pgtest")), `internal/openapitest imports internal/pgtest, which the allow-list does not allow`},

		{"web imports the adapter", with(real, "web", mod("internal/postgres")), "web imports internal/postgres, which the allow-list does not allow"},
		{"web imports pgx", with(real, "web", mod("github.com/jackc/pgx/v5")), "web imports github.com/jackc/pgx/v5"},
		{"web imports an integration", with(real, "web", mod("integrations/manual")), "web imports integrations/manual"},
		{"domain imports net/http", with(real, "shipment", std("net/http")), "shipment imports net/http, which its rule refuses"},
		{"domain logs", with(real, "labels", std("log/slog")), "labels imports log/slog, which its rule refuses"},
		{"domain imports Fiber", with(real, "tracking", mod("github.com/gofiber/fiber/v2")), "tracking imports github.com/gofiber/fiber/v2"},
		{"tracking imported by shipment", with(real, "shipment", mod("tracking")), "shipment imports tracking"},
		{"adapter imports web", with(real, "internal/postgres", mod("web")), "internal/postgres imports web"},
		{"adapter imports jobs", with(real, "internal/postgres", mod("internal/jobs")), "internal/postgres imports internal/jobs"},
		{"adapter imports an integration", with(real, "internal/postgres", mod("integrations/manual")), "internal/postgres imports integrations/manual"},
		{"the harness outside tests", with(real, "internal/jobs", mod("internal/pgtest")), "internal/jobs imports internal/pgtest, which only tests may import"},
		{"a simulator outside tests", with(real, "cmd/courier", mod("integrations/sfexpress/sfexpresssim")), "cmd/courier imports integrations/sfexpress/sfexpresssim, which only tests may import"},
		{"testing outside tests", with(real, "internal/postgres", std("testing")), "internal/postgres imports testing, which only tests may import"},
		{"a package with no rule", with(real, "internal/newthing", std("fmt")), "internal/newthing has no rule"},
		{"an integration under the tree rule", with(real, "integrations/sfexpress", mod("internal/postgres")), "integrations/sfexpress imports internal/postgres"},
		{"a stale exception", without(real, "internal/jobs", "github.com/riverqueue/river"), "internal/jobs: exception github.com/riverqueue/river/... is not used any more"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := rs.Check(c.pkgs)
			switch {
			case c.want == "" && len(got) > 0:
				t.Fatalf("violations: %v", got)
			case c.want != "" && len(got) != 1:
				t.Fatalf("want one violation %q, got %q", c.want, got)
			case c.want != "" && !strings.Contains(got[0], c.want):
				t.Fatalf("violation %q, want %q", got[0], c.want)
			}
		})
	}
}

func TestParseRefusesBadLines(t *testing.T) {
	for _, line := range []string{"no colon here", "web:", "web: except !net/http", "a b: std", "web: [", "web: except"} {
		if _, err := Parse(strings.NewReader(line)); err == nil {
			t.Errorf("%q parsed", line)
		}
	}
}
