//go:build unix && !linux

package main

import "syscall"

// childProcAttr puts the courier in its own process group, so a Ctrl-C
// reaches only the bench, which then stops it in order. Only Linux has a
// parent-death signal: elsewhere a killed bench leaves the courier running.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
