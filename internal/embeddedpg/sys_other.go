//go:build unix && !linux

package embeddedpg

import "syscall"

// sysProcAttr returns the process attributes for initdb and postgres: run as
// acct when non-nil. Only Linux has a parent-death signal.
func sysProcAttr(acct *account) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{}
	if acct != nil {
		attr.Credential = &syscall.Credential{Uid: uint32(acct.uid), Gid: uint32(acct.gid), NoSetGroups: true}
	}
	return attr
}

// isPostgresProcess reports whether pid runs the postgres executable; without
// /proc it cannot tell, and says yes.
func isPostgresProcess(pid int) bool { return true }
