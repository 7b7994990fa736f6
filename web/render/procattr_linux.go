package render

import "syscall"

// sysProcAttr makes a worker die with the daemon, so a crashed daemon
// leaves no render processes behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
