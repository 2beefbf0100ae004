// Package archtest checks the module's import rules (STYLE.md §3) against
// an allow-list kept in imports.txt beside it. Only its own test uses it.
//
// The list has one rule a line, "#" starting a comment:
//
//	PKG: PATTERN…          what PKG (module-relative, e.g. internal/postgres;
//	                       X/... for every package below X) may import
//	PKG: except PATTERN…   a real exception to STYLE.md, allowed; each must still be used
//	testonly: PATTERN…     packages that only _test.go files (or other test-only
//	                       packages) may import
//
// A PKG may have several lines. Patterns name module packages relative to
// the module (shipment, internal/apperr) and others by their full path:
//
//	std        any standard-library package
//	*          anything
//	X/...      X and every package below it
//	.../GLOB   a package whose last element matches GLOB (e.g. .../*sim)
//	GLOB       path.Match on the whole name
//	!PATTERN   refused even when another pattern allows it
package archtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path"
	"slices"
	"sort"
	"strings"
)

// Package is one package of the module as `go list` describes it: its
// non-test imports only.
type Package struct {
	Path    string // module-relative ("." for the module's root package)
	Imports []Import
}

// Import is one import: Name is module-relative for the module's own
// packages, the full import path otherwise.
type Import struct {
	Name     string
	Standard bool
}

// Rules is a parsed imports.txt.
type Rules struct {
	allow    map[string][]string // package → patterns (deny patterns start with !)
	except   map[string][]string // package → exception patterns
	testOnly []string
}

// Parse reads an allow-list.
func Parse(r io.Reader) (*Rules, error) {
	rs := &Rules{allow: map[string][]string{}, except: map[string][]string{}}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		pkg, rest, ok := strings.Cut(line, ":")
		pkg = strings.TrimSpace(pkg)
		if !ok || pkg == "" || strings.ContainsAny(pkg, " \t") {
			return nil, fmt.Errorf("line %d: want \"package: patterns\", have %q", n, line)
		}
		pats := strings.Fields(rest)
		exception := len(pats) > 0 && pats[0] == "except"
		if exception {
			pats = pats[1:]
		}
		if len(pats) == 0 {
			return nil, fmt.Errorf("line %d: %s lists no pattern", n, pkg)
		}
		for _, p := range pats {
			if _, err := path.Match(strings.TrimPrefix(strings.TrimPrefix(p, "!"), ".../"), ""); err != nil {
				return nil, fmt.Errorf("line %d: pattern %q: %v", n, p, err)
			}
			if exception && strings.HasPrefix(p, "!") {
				return nil, fmt.Errorf("line %d: an exception cannot refuse (%s)", n, p)
			}
		}
		switch {
		case pkg == "testonly":
			rs.testOnly = append(rs.testOnly, pats...)
		case exception:
			rs.except[pkg] = append(rs.except[pkg], pats...)
		default:
			rs.allow[pkg] = append(rs.allow[pkg], pats...)
		}
	}
	return rs, sc.Err()
}

// match tells whether pattern p (without !) matches imp.
func match(p string, imp Import) bool {
	switch {
	case p == "std":
		return imp.Standard
	case p == "*":
		return true
	case strings.HasSuffix(p, "/..."):
		base := strings.TrimSuffix(p, "/...")
		return imp.Name == base || strings.HasPrefix(imp.Name, base+"/")
	case strings.HasPrefix(p, ".../"):
		ok, _ := path.Match(strings.TrimPrefix(p, ".../"), path.Base(imp.Name))
		return ok
	}
	ok, _ := path.Match(p, imp.Name)
	return ok
}

func matchAny(pats []string, imp Import) bool {
	return slices.ContainsFunc(pats, func(p string) bool { return match(p, imp) })
}

func (rs *Rules) isTestOnly(name string, standard bool) bool {
	return matchAny(rs.testOnly, Import{Name: name, Standard: standard})
}

// lookup returns the patterns of pkg's rules: its own, and those of every
// "X/..." key above it. It marks the keys it used in seen.
func (rs *Rules) lookup(m map[string][]string, pkg string, seen map[string]bool) []string {
	var out []string
	for k, pats := range m {
		base, tree := strings.CutSuffix(k, "/...")
		if k == pkg || (tree && (pkg == base || strings.HasPrefix(pkg, base+"/"))) {
			out = append(out, pats...)
			seen[k] = true
		}
	}
	return out
}

// Check returns every import the rules do not allow, every package
// without a rule, every rule for a package that does not exist, and every
// exception no import uses any more.
func (rs *Rules) Check(pkgs []Package) []string {
	var out []string
	seen := map[string]bool{} // rule keys that name a package
	for _, p := range pkgs {
		allow, except := rs.lookup(rs.allow, p.Path, seen), rs.lookup(rs.except, p.Path, seen)
		if len(allow) == 0 && len(except) == 0 {
			out = append(out, fmt.Sprintf("%s has no rule in the allow-list: add a line \"%s: …\"", p.Path, p.Path))
			continue
		}
		var deny, ok []string
		for _, a := range allow {
			if d, isDeny := strings.CutPrefix(a, "!"); isDeny {
				deny = append(deny, d)
			} else {
				ok = append(ok, a)
			}
		}
		pTestOnly := rs.isTestOnly(p.Path, false)
		used := map[string]bool{}
		for _, imp := range p.Imports {
			if rs.isTestOnly(imp.Name, imp.Standard) && !pTestOnly {
				out = append(out, fmt.Sprintf("%s imports %s, which only tests may import", p.Path, imp.Name))
				continue
			}
			if matchAny(deny, imp) {
				out = append(out, fmt.Sprintf("%s imports %s, which its rule refuses", p.Path, imp.Name))
				continue
			}
			if matchAny(ok, imp) {
				continue
			}
			if i := slices.IndexFunc(except, func(e string) bool { return match(e, imp) }); i >= 0 {
				used[except[i]] = true
				continue
			}
			out = append(out, fmt.Sprintf("%s imports %s, which the allow-list does not allow", p.Path, imp.Name))
		}
		for _, e := range except {
			if !used[e] {
				out = append(out, fmt.Sprintf("%s: exception %s is not used any more: remove it", p.Path, e))
			}
		}
	}
	for _, m := range []map[string][]string{rs.allow, rs.except} {
		for pkg := range m {
			if !seen[pkg] {
				out = append(out, fmt.Sprintf("the allow-list has a rule for %s, which is not a package of the module", pkg))
				seen[pkg] = true
			}
		}
	}
	sort.Strings(out)
	return out
}

// List runs `go list -deps` on the module in dir and returns its packages
// with their non-test imports.
func List(goCmd, dir string) ([]Package, error) {
	cmd := exec.Command(goCmd, "list", "-e", "-deps", "-json=ImportPath,Standard,Imports,Module,Error", "./...")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v: %s", err, stderr.String())
	}
	type listed struct {
		ImportPath string
		Standard   bool
		Imports    []string
		Module     *struct {
			Path string
			Main bool
		}
		Error *struct{ Err string }
	}
	var all []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var l listed
		if err := dec.Decode(&l); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list: %w", err)
		}
		all = append(all, l)
	}
	mod := ""
	standard := map[string]bool{}
	for _, l := range all {
		if l.Module != nil && l.Module.Main {
			mod = l.Module.Path
		}
		standard[l.ImportPath] = l.Standard
	}
	if mod == "" {
		return nil, errors.New("go list: no package of the main module")
	}
	rel := func(p string) string {
		if p == mod {
			return "."
		}
		if r, ok := strings.CutPrefix(p, mod+"/"); ok {
			return r
		}
		return p
	}
	var pkgs []Package
	for _, l := range all {
		if l.Module == nil || !l.Module.Main {
			continue
		}
		if l.Error != nil {
			return nil, fmt.Errorf("go list %s: %s", l.ImportPath, l.Error.Err)
		}
		p := Package{Path: rel(l.ImportPath)}
		for _, i := range l.Imports {
			p.Imports = append(p.Imports, Import{Name: rel(i), Standard: standard[i]})
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}
