// Package testrrd makes tracelog RRD files in the SPEC §4 layout for the web
// tests and benchmarks, with the rrdtool command, independently of the store
// package's writer.
package testrrd

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"graphmetrics/store/sampletest"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"graphmetrics/store"
)

// Create makes an empty tracelog RRD at path (creating directories) that
// accepts updates after start.
func Create(path string, start int64) error {
	return CreateArchives(path, start, store.DefaultTracelogArchives())
}

// CreateArchives is Create with other archives (benchmarks with thousands
// of files keep them small).
func CreateArchives(path string, start int64, archives []store.Archive) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	args := []string{"create", path, "--start", strconv.FormatInt(start-1, 10), "--step", "1"}
	for _, ds := range store.DataSources {
		args = append(args, "DS:"+ds+":GAUGE:5:U:U")
	}
	args = append(args, rraArgs(archives, time.Second)...)
	return run(args)
}

// rraArgs are rrdcreate's RRA arguments of archives in a file of step.
func rraArgs(archives []store.Archive, step time.Duration) []string {
	var out []string
	for _, a := range archives {
		out = append(out, fmt.Sprintf("RRA:%s:0.5:%d:%d", a.CF, max(a.Step/step, 1), max(a.Span/a.Step, 1)))
	}
	return out
}

// Update writes buckets (sorted by time): the bucket of second t is the
// update at t+1.
func Update(path string, bs []store.Bucket) error {
	const batch = 2000
	for i := 0; i < len(bs); i += batch {
		args := []string{"update", path}
		for _, b := range bs[i:min(i+batch, len(bs))] {
			args = append(args, fmt.Sprintf("%d:%d:%d:%g:%d:%d:%d:%d:%d", b.Time+1,
				b.Requests, b.Errors, b.AppSum, b.AppN, b.Waiting, b.Busy, b.Starts, b.Hung))
		}
		if err := run(args); err != nil {
			return err
		}
	}
	return nil
}

func run(args []string) error {
	out, err := exec.Command("rrdtool", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("rrdtool %s: %v: %s", args[0], err, out)
	}
	return nil
}

// Make creates path and fills it with bs.
func Make(path string, bs []store.Bucket) error {
	if len(bs) == 0 {
		return fmt.Errorf("no buckets for %s", path)
	}
	if err := Create(path, bs[0].Time); err != nil {
		return err
	}
	return Update(path, bs)
}

// Synthetic returns n seconds of plausible traffic from start.
func Synthetic(start int64, n int, seed uint64) []store.Bucket {
	r := rand.New(rand.NewPCG(seed, seed))
	bs := make([]store.Bucket, n)
	for i := range bs {
		req := uint32(r.IntN(20))
		bs[i] = store.Bucket{Time: start + int64(i), Requests: req, Errors: uint32(r.IntN(2) * r.IntN(2)),
			AppSum: float64(req) * 0.05 * (1 + r.Float64()), AppN: req,
			Waiting: int32(r.IntN(4)), Busy: int32(r.IntN(4))}
		if i%7200 == 0 {
			bs[i].Starts = 1
		}
	}
	return bs
}

type ridState struct {
	input, app bool
	c          int64
}

// SampleBuckets computes the SPEC §3 buckets of a plain trace.log (one
// instance), reading timestamps in loc: a small reference aggregator kept
// independent of the store package on purpose.
func SampleBuckets(r io.Reader, loc *time.Location) ([]store.Bucket, error) {
	rids := map[string]*ridState{}
	var out []store.Bucket
	var cur store.Bucket
	started := false
	level := func() {
		cur.Waiting, cur.Busy = 0, 0
		for _, s := range rids {
			if s.input && s.c == 0 {
				cur.Waiting++
			}
			if s.app {
				cur.Busy++
			}
		}
	}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), " ", 5)
		if len(f) < 4 {
			continue
		}
		t, err := time.ParseInLocation("2006-01-02 15:04:05.999999", f[2]+" "+f[3], loc)
		if err != nil {
			return nil, fmt.Errorf("line %q: %w", sc.Text(), err)
		}
		sec, us := t.Unix(), t.UnixMicro()
		if !started {
			cur, started = store.Bucket{Time: sec}, true
		}
		for cur.Time < sec {
			level()
			out = append(out, cur)
			cur = store.Bucket{Time: cur.Time + 1}
		}
		data := ""
		if len(f) == 5 {
			data = f[4]
		}
		s := rids[f[1]]
		switch f[0] {
		case "B", "I":
			if s == nil || f[0] == "B" {
				s = &ridState{}
				rids[f[1]] = s
			}
			s.input = s.input || f[0] == "I"
		case "C":
			if s != nil {
				s.c, s.app = us, true
			}
		case "A":
			cur.Requests++
			if strings.HasPrefix(data, "5") || strings.HasPrefix(data, "Error:") {
				cur.Errors++
			}
			if s != nil && s.c != 0 {
				cur.AppSum += float64(us-s.c) / 1e6
				cur.AppN++
			}
			if s != nil {
				s.app = false
			}
		case "E":
			delete(rids, f[1])
		case "S", "X":
			clear(rids)
			if f[0] == "S" {
				cur.Starts++
			}
		}
	}
	if started {
		level()
		out = append(out, cur)
	}
	return out, sc.Err()
}

// Xport runs `rrdtool xport` with args and returns the rows as time → values.
func Xport(args []string) (map[int64][]float64, error) {
	out, err := exec.Command("rrdtool", append([]string{"xport", "--json"}, args...)...).Output()
	if err != nil {
		return nil, fmt.Errorf("rrdtool xport: %w", err)
	}
	return parseXportJSON(bytes.TrimSpace(out))
}

// parseXportJSON reads rrdtool's JSON: row i ends at meta.start + i×step.
func parseXportJSON(b []byte) (map[int64][]float64, error) {
	var x struct {
		Meta struct {
			Start, Step int64
		}
		Data [][]*float64
	}
	if err := json.Unmarshal(b, &x); err != nil {
		return nil, fmt.Errorf("rrdtool xport output: %w", err)
	}
	rows := map[int64][]float64{}
	for i, row := range x.Data {
		vs := make([]float64, len(row))
		for j, v := range row {
			vs[j] = math.NaN()
			if v != nil {
				vs[j] = *v
			}
		}
		rows[x.Meta.Start+int64(i)*x.Meta.Step] = vs
	}
	return rows, nil
}

// MakeMetric creates a metric RRD at path as the store makes them (SPEC
// §4: one GAUGE "value", heartbeat 10 steps) and writes values[i] as the
// update at start+(i+1)×step, so the row ending there holds it. NaN is
// written as unknown.
func MakeMetric(path string, step int64, start int64, values []float64) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	s := strconv.FormatInt(step, 10)
	args := []string{"create", path, "--start", strconv.FormatInt(start, 10), "--step", s,
		"DS:value:GAUGE:" + strconv.FormatInt(10*step, 10) + ":U:U"}
	d := time.Duration(step) * time.Second
	args = append(args, rraArgs(store.MetricArchives(d), d)...)
	if err := run(args); err != nil {
		return err
	}
	// In chunks: the argument list of one command is bounded.
	for from := 0; from < len(values); from += 10000 {
		up := []string{"update", path}
		for i := from; i < min(from+10000, len(values)); i++ {
			val := "U"
			if v := values[i]; !math.IsNaN(v) {
				val = strconv.FormatFloat(v, 'g', -1, 64)
			}
			up = append(up, strconv.FormatInt(start+int64(i+1)*step, 10)+":"+val)
		}
		if err := run(up); err != nil {
			return err
		}
	}
	return nil
}

// Sample is SampleBuckets of the shared sample log, read as UTC.
func Sample(t testing.TB) []store.Bucket {
	t.Helper()
	f, err := os.Open(sampletest.Path(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bs, err := SampleBuckets(f, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	return bs
}
