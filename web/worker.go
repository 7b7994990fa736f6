package web

import (
	"io"

	"graphmetrics/web/render"
)

// RenderWorkerMain runs the hidden `graphmetrics render-worker` subcommand:
// it serves the render pool's requests on stdin/stdout until stdin closes.
// When stdout is the process's fd 1, the protocol moves to a duplicate and
// fd 1 is pointed at stderr (on Linux), so nothing librrd prints can
// corrupt it.
func RenderWorkerMain(stdin io.Reader, stdout io.Writer) error {
	out, err := protectStdout(stdout)
	if err != nil {
		return err
	}
	return render.WorkerMain(stdin, out)
}
