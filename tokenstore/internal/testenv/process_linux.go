package testenv

import (
	"os"
	"syscall"
)

// childProcAttr makes a server started by a test die with the test binary
// (SIGKILL when its parent exits), even if the test panics before its
// cleanups run.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// pauseSignal and resumeSignal stop and continue a process.
var pauseSignal, resumeSignal os.Signal = syscall.SIGSTOP, syscall.SIGCONT
