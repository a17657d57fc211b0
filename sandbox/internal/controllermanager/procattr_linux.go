//go:build linux

package controllermanager

import "syscall"

func sysProcAttr() *syscall.SysProcAttr {
	// Own process group: terminal signals go to the sandbox, which stops
	// the child in order.
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
