package embeddedpg

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrNoBinaries is returned by FindBinaries and Start when no
// PostgreSQL server binaries can be found.
var ErrNoBinaries = errors.New("embeddedpg: PostgreSQL server binaries (postgres, initdb) not found " +
	"on PATH or under /usr/lib/postgresql/<major>/bin; install them (Debian: apt-get install postgresql) " +
	"or set DATABASE_URL to use an existing server")

// debianRoot is where Debian and Ubuntu install the server binaries, one
// directory per major version. A variable so tests can point elsewhere.
var debianRoot = "/usr/lib/postgresql"

// FindBinaries returns the directory holding the postgres and initdb
// executables. It prefers a directory on PATH that holds both; otherwise it
// picks the newest /usr/lib/postgresql/<major>/bin (Debian's layout, which is
// not on PATH). It returns ErrNoBinaries when neither exists.
func FindBinaries() (dir string, err error) {
	if dir, ok := binariesOnPath(); ok {
		return dir, nil
	}

	entries, err := os.ReadDir(debianRoot)
	if err != nil {
		return "", ErrNoBinaries
	}
	var best string
	var bestVersion []int
	for _, e := range entries {
		v, ok := parseVersion(e.Name())
		if !ok {
			continue
		}
		bin := filepath.Join(debianRoot, e.Name(), "bin")
		if !isExecutable(filepath.Join(bin, "postgres")) || !isExecutable(filepath.Join(bin, "initdb")) {
			continue
		}
		if best == "" || versionLess(bestVersion, v) {
			best, bestVersion = bin, v
		}
	}
	if best == "" {
		return "", ErrNoBinaries
	}
	return best, nil
}

// binariesOnPath returns the directory of postgres and initdb found on
// PATH: the directory the two resolve to when they are symlinks into the
// same one (Debian's /usr/lib/postgresql/<major>/bin), else the PATH entry
// holding both.
func binariesOnPath() (string, bool) {
	pg, err := exec.LookPath("postgres")
	if err != nil {
		return "", false
	}
	initdb, err := exec.LookPath("initdb")
	if err != nil {
		return "", false
	}
	pgReal, err1 := filepath.EvalSymlinks(pg)
	initReal, err2 := filepath.EvalSymlinks(initdb)
	if err1 == nil && err2 == nil && filepath.Dir(pgReal) == filepath.Dir(initReal) {
		if dir, err := filepath.Abs(filepath.Dir(pgReal)); err == nil {
			return dir, true
		}
	}
	if filepath.Dir(pg) == filepath.Dir(initdb) {
		if dir, err := filepath.Abs(filepath.Dir(pg)); err == nil {
			return dir, true
		}
	}
	return "", false
}

// parseVersion parses a directory name such as "15" or "9.6".
func parseVersion(name string) ([]int, bool) {
	parts := strings.Split(name, ".")
	v := make([]int, 0, len(parts))
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, false
		}
		v = append(v, n)
	}
	return v, true
}

// versionLess reports whether version a sorts before version b.
func versionLess(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
