package embeddedpg

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	// socketName is the file name of the server's unix socket (port 5432).
	socketName = ".s.PGSQL.5432"
	// maxSocketPath is the longest socket path PostgreSQL accepts
	// (sizeof(sun_path) - 1 on Linux).
	maxSocketPath = 107
	// ownerFile, in the cluster directory, holds the pid of the process that
	// called Start. RemoveStale keeps directories whose owner is alive.
	ownerFile = "owner.pid"
	// staleGrace is how long RemoveStale spares a directory that has no pid
	// file yet: it may be one another process is still setting up.
	staleGrace = time.Minute
	// fallbackParent holds the fallback cluster directories of ReachableDir.
	fallbackParent = "/var/tmp"
)

// account is the unprivileged user the server runs as when we are root.
type account struct {
	uid, gid int
}

// postgresAccount looks up the "postgres" system user.
func postgresAccount() (account, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return account{}, fmt.Errorf("embeddedpg: running as root needs the postgres system user "+
			"(Debian: apt-get install postgresql): %w", err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return account{}, fmt.Errorf("embeddedpg: postgres uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return account{}, fmt.Errorf("embeddedpg: postgres gid %q: %w", u.Gid, err)
	}
	return account{uid: uid, gid: gid}, nil
}

// isRoot reports whether the process runs with effective uid 0.
func isRoot() bool { return os.Geteuid() == 0 }

// ReachableDir checks that preferred can serve as a cluster directory and
// otherwise returns a fallback. The checks are: the socket path
// <dir>/.s.PGSQL.5432 fits in 107 bytes, and, when running as root, the
// postgres user can traverse every existing ancestor of preferred.
//
// The fallback is /var/tmp/courier-pg-<first 12 hex digits of the SHA-256 of
// the absolute preferred path>, the same at every start, so a durable cluster
// is found again. ReachableDir creates it with mode 0700 (owned by the
// postgres user when root). When it moves, moved is true and reason says why,
// for a log line.
func ReachableDir(preferred string) (dir string, moved bool, reason string) {
	abs, err := filepath.Abs(preferred)
	if err != nil {
		abs = filepath.Clean(preferred)
	}

	var why string
	if n := len(filepath.Join(abs, socketName)); n > maxSocketPath {
		why = fmt.Sprintf("its socket path would be %d bytes, over PostgreSQL's limit of %d", n, maxSocketPath)
	} else if isRoot() {
		if acct, err := postgresAccount(); err == nil {
			if blocked := unreachableAncestor(abs, acct); blocked != "" {
				why = fmt.Sprintf("the postgres user cannot enter %s (every parent directory needs the x bit for it)", blocked)
			}
		}
		// Without a postgres user no directory helps; Start reports that.
	}
	if why == "" {
		return abs, false, ""
	}

	sum := sha256.Sum256([]byte(abs))
	fallback := filepath.Join(fallbackParent, "courier-pg-"+hex.EncodeToString(sum[:])[:12])
	reason = fmt.Sprintf("cluster directory %s is unusable: %s; using %s instead", abs, why, fallback)
	if err := prepareFallback(fallback); err != nil {
		reason += fmt.Sprintf(" (preparing it failed: %v)", err)
	}
	return fallback, true, reason
}

// unreachableAncestor returns the first existing ancestor of path that the
// account cannot traverse, or "" when all can be.
func unreachableAncestor(path string, acct account) string {
	// Resolve symlinks in the existing part: what must be traversable is the
	// real path.
	existing, rest := path, ""
	for {
		if _, err := os.Lstat(existing); err == nil {
			break
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			break
		}
		rest = filepath.Join(filepath.Base(existing), rest)
		existing = parent
	}
	if real, err := filepath.EvalSymlinks(existing); err == nil {
		path = filepath.Join(real, rest)
	}

	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		fi, err := os.Stat(dir)
		if err == nil && !canTraverse(fi, acct) {
			return dir
		}
		if dir == filepath.Dir(dir) {
			return ""
		}
	}
}

// canTraverse applies the Unix permission rule (owner, else group, else
// other) for the execute bit of a directory.
func canTraverse(fi fs.FileInfo, acct account) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	perm := fi.Mode().Perm()
	switch {
	case !ok:
		return perm&0o001 != 0
	case int(st.Uid) == acct.uid:
		return perm&0o100 != 0
	case int(st.Gid) == acct.gid:
		return perm&0o010 != 0
	default:
		return perm&0o001 != 0
	}
}

// prepareFallback creates dir with mode 0700, owned by the postgres user when
// root. /var/tmp is world-writable, so a directory (or symlink) of that name
// owned by anybody else is removed first rather than trusted.
func prepareFallback(dir string) error {
	owner := account{uid: os.Geteuid(), gid: os.Getegid()}
	if isRoot() {
		acct, err := postgresAccount()
		if err != nil {
			return err
		}
		owner = acct
	}
	if fi, err := os.Lstat(dir); err == nil {
		st, ok := fi.Sys().(*syscall.Stat_t)
		trusted := ok && fi.IsDir() && (int(st.Uid) == owner.uid || int(st.Uid) == os.Geteuid())
		if !trusted {
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
		}
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	if isRoot() {
		if err := os.Lchown(dir, owner.uid, owner.gid); err != nil {
			return err
		}
	}
	return os.Chmod(dir, 0o700)
}

// mkdirOwned creates dir and any missing parents (parents with mode 0755,
// dir itself with perm) and, when acct is non-nil, chowns every directory it
// created to acct.
func mkdirOwned(dir string, perm fs.FileMode, acct *account) error {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			break
		}
		missing = append(missing, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		mode := fs.FileMode(0o755)
		if i == 0 {
			mode = perm
		}
		if err := os.Mkdir(missing[i], mode); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		if acct != nil {
			if err := os.Lchown(missing[i], acct.uid, acct.gid); err != nil {
				return err
			}
		}
	}
	return nil
}

// RemoveStale removes the directories parent/prefix* that no live cluster
// uses, such as the test clusters a killed test binary left on /dev/shm. A
// directory is kept while the process that started its cluster (the pid in
// <dir>/owner.pid, written by Start) or its postmaster (the pid in
// <dir>/data/postmaster.pid) is alive, and, when it has neither file yet,
// for a minute after it was last modified, as another process may be setting
// it up. Symlinks and plain files are never touched. The error joins the
// failures to remove.
func RemoveStale(parent, prefix string) error {
	entries, err := os.ReadDir(parent)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	var errs []error
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		fi, err := os.Lstat(dir)
		if err != nil || !fi.IsDir() {
			continue
		}
		if clusterInUse(dir, fi) {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// clusterInUse reports whether the cluster directory dir may still be in use.
func clusterInUse(dir string, fi fs.FileInfo) bool {
	found := false
	for _, f := range []string{filepath.Join(dir, ownerFile), filepath.Join(dir, "data", "postmaster.pid")} {
		pid, err := readPid(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		found = true
		if err == nil && pidAlive(pid) {
			return true
		}
	}
	return !found && time.Since(fi.ModTime()) < staleGrace
}

// readPid reads the process id on the first line of a pid file.
func readPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("embeddedpg: %s: no pid on the first line", path)
	}
	return pid, nil
}

// pidAlive reports whether a process with this pid exists.
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
