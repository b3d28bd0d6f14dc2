//go:build !linux

package testenv

import (
	"os"
	"syscall"
)

// childProcAttr returns nil: servers started by a test are killed by its
// cleanups only.
func childProcAttr() *syscall.SysProcAttr { return nil }

// pauseSignal and resumeSignal are nil: RedisServer.Pause and Resume are
// supported on Linux only.
var pauseSignal, resumeSignal os.Signal
