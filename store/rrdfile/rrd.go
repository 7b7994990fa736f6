package rrdfile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"graphmetrics/store"
)

// RRD is the part of librrd the Writer uses. LibRRD is the real one; tests
// of everything else use a fake. Implementations need not be safe for
// concurrent use on one file: the Writer gives every file one owner.
type RRD interface {
	// Create makes a new file that accepts updates after start (Unix s).
	// args are rrdcreate DS:... and RRA:... arguments.
	Create(path string, step time.Duration, start int64, args []string) error
	// Update applies rows ("T:v1:v2:...", T strictly increasing) in order.
	Update(path string, rows []string) error
	// Info reads a file's last update, step and data sources. A missing
	// file's error wraps os.ErrNotExist; a file that is there and readable
	// but not a whole RRD file (truncated, garbage) gives an error wrapping
	// ErrCorrupt; anything else (I/O, permissions) is neither.
	Info(path string) (FileInfo, error)
}

// FileInfo is what the Writer needs to know about an existing file.
type FileInfo struct {
	Last int64         // last update, Unix s
	Step time.Duration // the file's step
	DS   []string      // data source names in file order
}

// ErrCorrupt marks a file that librrd cannot use although the OS can read
// it: the Writer moves such a file aside and starts a new one.
var ErrCorrupt = errors.New("corrupt RRD file")

func validRRAs(rras []store.Archive, step time.Duration) error {
	for _, r := range rras {
		switch r.CF {
		case "AVERAGE", "MIN", "MAX", "LAST":
		default:
			return fmt.Errorf("rra %q: unknown consolidation function", r.CF)
		}
		if r.Step < step || r.Step%step != 0 {
			return fmt.Errorf("rra %s step %s: not a multiple of %s", r.CF, r.Step, step)
		}
		if r.Span < r.Step {
			return fmt.Errorf("rra %s keep %s: shorter than its step %s", r.CF, r.Span, r.Step)
		}
	}
	return nil
}

// rraArgs renders archives as rrdcreate arguments.
func rraArgs(rras []store.Archive, step time.Duration) []string {
	out := make([]string, 0, len(rras))
	for _, r := range rras {
		pdp := max(int64(r.Step/step), 1)
		rows := max(int64(r.Span/r.Step), 1)
		out = append(out, "RRA:"+r.CF+":0.5:"+strconv.FormatInt(pdp, 10)+":"+strconv.FormatInt(rows, 10))
	}
	return out
}

// tracelogArgs are the DS and RRA arguments of a tracelog file.
func tracelogArgs(heartbeat time.Duration, rras []store.Archive) []string {
	hb := strconv.FormatInt(int64(heartbeat/time.Second), 10)
	args := make([]string, 0, len(store.DataSources)+len(rras))
	for _, ds := range store.DataSources {
		args = append(args, "DS:"+ds+":GAUGE:"+hb+":0:U")
	}
	return append(args, rraArgs(rras, time.Second)...)
}

// metricArgs: one GAUGE "value", heartbeat 10 steps; rras nil are
// store.MetricArchives(step).
func metricArgs(step time.Duration, rras []store.Archive) []string {
	if rras == nil {
		rras = store.MetricArchives(step)
	}
	hb := strconv.FormatInt(int64(10*step/time.Second), 10)
	return append([]string{"DS:value:GAUGE:" + hb + ":U:U"}, rraArgs(rras, step)...)
}

// ValidMetricRRAs checks archives for metric files of the given step (each
// a multiple of it, kept at least one row), as WriteMetricRRAs needs them.
func ValidMetricRRAs(rras []store.Archive, step time.Duration) error {
	if len(rras) == 0 {
		return errors.New("no archives")
	}
	return validRRAs(rras, step)
}

// appendBucketRow renders the update of bucket b: time b.Time+1 (RRD's
// update at T covers (T−step, T]), values in DataSources order.
func appendBucketRow(dst []byte, b *store.Bucket) []byte {
	dst = strconv.AppendInt(dst, b.Time+1, 10)
	dst = append(dst, ':')
	dst = strconv.AppendUint(dst, uint64(b.Requests), 10)
	dst = append(dst, ':')
	dst = strconv.AppendUint(dst, uint64(b.Errors), 10)
	dst = append(dst, ':')
	dst = strconv.AppendFloat(dst, b.AppSum, 'g', -1, 64)
	dst = append(dst, ':')
	dst = strconv.AppendUint(dst, uint64(b.AppN), 10)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, int64(b.Waiting), 10)
	dst = append(dst, ':')
	dst = strconv.AppendInt(dst, int64(b.Busy), 10)
	dst = append(dst, ':')
	dst = strconv.AppendUint(dst, uint64(b.Starts), 10)
	dst = append(dst, ':')
	return strconv.AppendInt(dst, int64(b.Hung), 10)
}

// unknownRow marks (previous update, t] unknown: without it a GAUGE would
// spread the next second's counts over a gap shorter than the heartbeat.
func zeroRow(t int64) string {
	return strconv.FormatInt(t, 10) + strings.Repeat(":0", len(store.DataSources))
}

func unknownRow(t int64) string {
	s := strconv.FormatInt(t, 10)
	for range store.DataSources {
		s += ":U"
	}
	return s
}

// CreateTracelog makes an empty tracelog file at path as the Writer would
// (1 s step, heartbeat, archives rras) with last update start: for
// graphmetrics import-legacy, which fills its rows before start. A zero
// heartbeat is the Writer's default.
func CreateTracelog(r RRD, path string, heartbeat time.Duration, rras []store.Archive, start int64) error {
	if heartbeat == 0 {
		heartbeat = 5 * time.Second
	}
	if err := validRRAs(rras, time.Second); err != nil {
		return err
	}
	return r.Create(path, time.Second, start, tracelogArgs(heartbeat, rras))
}
