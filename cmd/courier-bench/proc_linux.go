//go:build linux

package main

import "syscall"

// childProcAttr puts the courier in its own process group (so a Ctrl-C
// reaches only the bench, which then stops it in order) and has the kernel
// kill it when the bench dies. The parent-death signal fires when the
// forking thread exits; the bench never locks goroutines to threads, so
// that only happens when the process exits.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
