package rrdfile

import (
	"fmt"

	"github.com/ziutek/rrd"
)

// HeaderSize is the length of the file's header: everything before the
// first data row (librrd's "header_size"). The Writer journals these bytes
// around every update (see journal.go).
func (LibRRD) HeaderSize(path string) (int64, error) {
	info, err := rrd.Info(path)
	if err != nil {
		return 0, fmt.Errorf("header size %s: %w", path, err)
	}
	n, ok := info["header_size"].(uint)
	if !ok || n == 0 {
		return 0, fmt.Errorf("header size %s: %w: no header_size", path, ErrCorrupt)
	}
	return int64(n), nil
}
