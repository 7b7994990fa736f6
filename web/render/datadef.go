package render

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// withData writes g's Data series into RRD files of their own, in a
// private temporary directory (mode 0700), and adds a Def of each, so
// CDEFs, drawing and export read them as they read the server's files. The
// files are not under the worker's root: this runs after Validate, on the
// worker's own copy of the request. cleanup removes the directory.
func withData(g *Graph) (cleanup func(), err error) {
	if len(g.Data) == 0 {
		return func() {}, nil
	}
	dir, err := os.MkdirTemp("", "graphmetrics-defs-")
	if err != nil {
		return nil, fmt.Errorf("data series: %w", err)
	}
	cleanup = func() { os.RemoveAll(dir) }
	for i, s := range g.Data {
		path := filepath.Join(dir, strconv.Itoa(i)+".rrd")
		if err := writeData(path, s); err != nil {
			cleanup()
			return nil, err
		}
		g.Defs = append(g.Defs, Def{Name: s.Name, File: path, DS: "v", CF: "AVERAGE"})
	}
	g.Data = nil
	return cleanup, nil
}
