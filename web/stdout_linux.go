package web

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

func protectStdout(w io.Writer) (io.Writer, error) {
	f, ok := w.(*os.File)
	if !ok || f.Fd() != 1 {
		return w, nil
	}
	fd, err := unix.Dup(1)
	if err != nil {
		return nil, fmt.Errorf("render worker: dup stdout: %w", err)
	}
	if err := unix.Dup3(2, 1, 0); err != nil {
		return nil, fmt.Errorf("render worker: redirect stdout: %w", err)
	}
	return os.NewFile(uintptr(fd), "render-protocol"), nil
}
