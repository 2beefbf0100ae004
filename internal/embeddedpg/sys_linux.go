//go:build linux

package embeddedpg

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// sysProcAttr returns the process attributes for initdb and postgres: run as
// acct when non-nil, and receive SIGINT (fast shutdown) when the thread that
// started them exits, so a killed parent does not leave a server behind.
func sysProcAttr(acct *account) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Pdeathsig: syscall.SIGINT}
	if acct != nil {
		attr.Credential = &syscall.Credential{Uid: uint32(acct.uid), Gid: uint32(acct.gid), NoSetGroups: true}
	}
	return attr
}

// isPostgresProcess reports whether pid runs the postgres executable. It
// guards against a pid from a stale postmaster.pid that now belongs to an
// unrelated process. When it cannot tell, it says yes.
func isPostgresProcess(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err != nil {
		return true
	}
	name := strings.TrimSpace(string(b))
	return name == "postgres" || name == "postmaster"
}
