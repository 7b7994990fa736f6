//go:build !linux

package render

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
