package export

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"graphmetrics/web/render"
	"graphmetrics/web/rpn"
)

// TestMain doubles as the render worker: the pool runs this test binary
// with render.EnvWorker set.
func TestMain(m *testing.M) {
	if os.Getenv(render.EnvWorker) == "1" {
		if err := render.WorkerMain(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// t0 is on a step boundary, so each update fills one whole step and the
// stored value is exactly the one written.
const t0 = 1700002800

// m1 is k at step k; m2 is unknown at steps 20..24 and k*k%7+10 elsewhere.
func m1(k int) float64 { return float64(k) }
func m2(k int) float64 {
	if k >= 20 && k < 25 {
		return math.NaN()
	}
	return float64(k*k%7 + 10)
}

// metricRRD makes a metric file as SPEC §4 describes (DS value, GAUGE,
// heartbeat 10 steps) with the rrdtool command.
func metricRRD(t testing.TB, file string, steps int, value func(int) float64) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "create", file, "--start", strconv.Itoa(t0), "--step", "60", "DS:value:GAUGE:600:U:U",
		"RRA:AVERAGE:0.5:1:20160", "RRA:MIN:0.5:1:20160", "RRA:MAX:0.5:1:20160",
		"RRA:AVERAGE:0.5:60:17520", "RRA:MIN:0.5:60:17520", "RRA:MAX:0.5:60:17520")
	args := []string{"update", file}
	for k := 1; k <= steps; k++ {
		v := "U"
		if x := value(k); !math.IsNaN(x) {
			v = strconv.FormatFloat(x, 'g', -1, 64)
		}
		args = append(args, fmt.Sprintf("%d:%s", t0+60*k, v))
	}
	run(t, args...)
}

func run(t testing.TB, args ...string) []byte {
	t.Helper()
	out, err := exec.Command("rrdtool", args...).Output()
	if err != nil {
		t.Fatalf("rrdtool %s: %v", args[0], err)
	}
	return out
}

type fixture struct {
	root, f1, f2 string
	pool         *render.Pool
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	root := t.TempDir()
	f := &fixture{root: root,
		f1: filepath.Join(root, "rrd/metrics/cimaa.metrics/host1.example.com/load/1m.rrd"),
		f2: filepath.Join(root, "rrd/metrics/cimaa.metrics/host2.example.com/load/1m.rrd")}
	metricRRD(t, f.f1, 300, m1)
	metricRRD(t, f.f2, 300, m2)
	p, err := render.NewPool(render.PoolOptions{Command: []string{os.Args[0]}, Workers: 1, Root: root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	f.pool = p
	return f
}

// graph is a /metrics chart of the two series: m1 alone, the custom
// expression a,b,+,2,/ over both, and their average.
func (f *fixture) graph(t *testing.T, start, end int64, step int, expr string) *render.Graph {
	t.Helper()
	toks, err := rpn.CompileTokens(expr, map[string]string{"a": "s0", "b": "s1"})
	if err != nil {
		t.Fatal(err)
	}
	return &render.Graph{Start: start, End: end, Step: step, Width: 400, Height: 200,
		Defs: []render.Def{{Name: "s0", File: f.f1, DS: "value", CF: "AVERAGE"}, {Name: "s1", File: f.f2, DS: "value", CF: "AVERAGE"}},
		CDefs: []render.CDef{{Name: "p0", RPN: []string{"s0"}}, {Name: "p1", RPN: toks},
			{Name: "p2", RPN: rpn.Average([]string{"s0", "s1"})}},
		Draws: []render.Draw{{Type: "LINE1", Name: "p0", Color: "1f77b4", Legend: "host1 load"},
			{Type: "LINE2", Name: "p1", Color: "ff7f0e", Legend: "(a+b)/2"},
			{Type: "LINE1", Name: "p2", Color: "2ca02c", Legend: "average", Dashed: true}},
	}
}

// direct runs `rrdtool xport` itself with DEF/CDEF written out here, not
// taken from the render package.
func (f *fixture) direct(t *testing.T, start, end int64, step int, expr string) (int64, int, [][]*float64) {
	t.Helper()
	out := run(t, "xport", "--json", "--start", strconv.FormatInt(start, 10), "--end", strconv.FormatInt(end, 10),
		"--step", strconv.Itoa(step),
		"DEF:a="+f.f1+":value:AVERAGE", "DEF:b="+f.f2+":value:AVERAGE", "CDEF:x="+expr, "CDEF:avg=a,b,2,AVG",
		"XPORT:a:one", "XPORT:x:expr", "XPORT:avg:avg")
	var x struct {
		Meta struct{ Start, Step int64 }
		Data [][]*float64
	}
	if err := json.Unmarshal(out, &x); err != nil {
		t.Fatalf("rrdtool xport output: %v\n%s", err, out)
	}
	return x.Meta.Start, int(x.Meta.Step), x.Data
}

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b))
}

// TestCustomExpressionMatchesRRDtool: the export of a custom expression
// over two metrics carries the values `rrdtool xport` computes directly,
// and the values the test wrote.
func TestCustomExpressionMatchesRRDtool(t *testing.T) {
	f := newFixture(t)
	start, end := int64(t0+5*60), int64(t0+40*60)
	g := f.graph(t, start, end, 60, "a,b,+,2,/")
	x, err := Run(context.Background(), f.pool, g, DefaultMaxPoints)
	if err != nil {
		t.Fatal(err)
	}
	dStart, dStep, rows := f.direct(t, start, end, 60, "a,b,+,2,/")
	if x.Start != dStart || x.Step != dStep || x.Step != g.XportStep() || x.Rows != len(rows) {
		t.Fatalf("export start %d step %d rows %d; rrdtool start %d step %d rows %d", x.Start, x.Step, x.Rows, dStart, dStep, len(rows))
	}
	if want := []string{"host1 load", "(a+b)/2", "average"}; strings.Join(x.Legends, "|") != strings.Join(want, "|") {
		t.Errorf("legends %q, want %q", x.Legends, want)
	}
	unknown := 0
	for i := range x.Rows {
		row := x.Row(i)
		for j := range row {
			if !near(row[j], deref(rows[i][j])) {
				t.Errorf("row %d series %d: export %v, rrdtool %v", i, j, row[j], deref(rows[i][j]))
			}
		}
		// Row i ends at x.Start + i×60 = t0 + 60k: the step of update k.
		k := int((x.Start + int64(i*x.Step) - t0) / 60)
		want := []float64{m1(k), (m1(k) + m2(k)) / 2, avg(m1(k), m2(k))}
		for j, w := range want {
			got := row[j]
			if math.IsNaN(w) != math.IsNaN(got) || !math.IsNaN(w) && math.Abs(w-got) > 1e-12 {
				t.Errorf("step %d series %d = %v, want %v", k, j, got, w)
			}
		}
		if math.IsNaN(row[1]) {
			unknown++
		}
	}
	if unknown != 5 {
		t.Errorf("%d unknown rows of the expression, want the 5 of the gap", unknown)
	}
}

func avg(a, b float64) float64 {
	switch {
	case math.IsNaN(a):
		return b
	case math.IsNaN(b):
		return a
	}
	return (a + b) / 2
}

func deref(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v
}

// TestShapes: CSV and JSON of a real export, byte for byte.
func TestShapes(t *testing.T) {
	f := newFixture(t)
	start := int64(t0 + 18*60)
	g := f.graph(t, start, start+3*60, 60, "a,b,+,2,/")
	x, err := Run(context.Background(), f.pool, g, DefaultMaxPoints)
	if err != nil {
		t.Fatal(err)
	}
	// Steps 19, 20 (m2 unknown) and 21: m1 = k, m2(19) = 361%7+10 = 14.
	var csvOut, jsonOut bytes.Buffer
	if err := CSV(&csvOut, x); err != nil {
		t.Fatal(err)
	}
	if err := JSON(&jsonOut, x); err != nil {
		t.Fatal(err)
	}
	t19, t20, t21 := t0+19*60, t0+20*60, t0+21*60
	wantCSV := fmt.Sprintf("time,host1 load,(a+b)/2,average\n%d,19,16.5,16.5\n%d,20,,20\n%d,21,,21\n", t19, t20, t21)
	if csvOut.String() != wantCSV {
		t.Errorf("CSV:\n%s\nwant:\n%s", csvOut.String(), wantCSV)
	}
	wantJSON := fmt.Sprintf(`[{"target":"host1 load","datapoints":[[19,%d],[20,%d],[21,%d]]},`+
		`{"target":"(a+b)/2","datapoints":[[16.5,%d],[null,%d],[null,%d]]},`+
		`{"target":"average","datapoints":[[16.5,%d],[20,%d],[21,%d]]}]`+"\n", t19, t20, t21, t19, t20, t21, t19, t20, t21)
	if jsonOut.String() != wantJSON {
		t.Errorf("JSON:\n%s\nwant:\n%s", jsonOut.String(), wantJSON)
	}
	var generic []struct {
		Target     string        `json:"target"`
		Datapoints [][2]*float64 `json:"datapoints"`
	}
	if err := json.Unmarshal(jsonOut.Bytes(), &generic); err != nil || len(generic) != 3 || len(generic[1].Datapoints) != 3 {
		t.Fatalf("JSON does not decode as Graphite's shape: %v", err)
	}
}

// TestInfinityIsUnknown: a division by zero in an expression yields
// infinity, which JSON cannot carry; the export marks it unknown instead of
// failing.
func TestInfinityIsUnknown(t *testing.T) {
	f := newFixture(t)
	start := int64(t0 + 30*60)
	g := f.graph(t, start, start+5*60, 60, "a,0,/")
	x, err := Run(context.Background(), f.pool, g, DefaultMaxPoints)
	if err != nil {
		t.Fatal(err)
	}
	if x.Rows != 5 {
		t.Fatalf("%d rows", x.Rows)
	}
	for i := range x.Rows {
		if row := x.Row(i); !math.IsNaN(row[1]) || row[0] != float64(31+i) {
			t.Errorf("row %d: %v %v", i, row[0], row[1])
		}
	}
	if g.CDefs[len(g.CDefs)-1].Name != "p2" || g.Draws[1].Name != "p1" {
		t.Error("Run modified the caller's graph")
	}
}

func TestEncodeEdgeCases(t *testing.T) {
	x := &render.Xport{Start: 1000, Step: 10, Legends: []string{`a "quoted", legend: x`, "=cmd()", "-5xx", "ünï"},
		Rows: 2, Values: []float64{1.5, -0.25, 1e21, math.Inf(1), math.NaN(), 0, 1e-7, math.NaN()}}
	var c, j bytes.Buffer
	if err := CSV(&c, x); err != nil {
		t.Fatal(err)
	}
	wantCSV := "time,\"a \"\"quoted\"\", legend: x\",'=cmd(),'-5xx,ünï\n1000,1.5,-0.25,1e+21,\n1010,,0,1e-07,\n"
	if c.String() != wantCSV {
		t.Errorf("CSV:\n%q\nwant\n%q", c.String(), wantCSV)
	}
	if err := JSON(&j, x); err != nil {
		t.Fatal(err)
	}
	wantJSON := `[{"target":"a \"quoted\", legend: x","datapoints":[[1.5,1000],[null,1010]]},` +
		`{"target":"=cmd()","datapoints":[[-0.25,1000],[0,1010]]},` +
		`{"target":"-5xx","datapoints":[[1e+21,1000],[1e-07,1010]]},` +
		`{"target":"ünï","datapoints":[[null,1000],[null,1010]]}]` + "\n"
	if j.String() != wantJSON {
		t.Errorf("JSON:\n%s\nwant\n%s", j.String(), wantJSON)
	}
	if !json.Valid(j.Bytes()) {
		t.Error("invalid JSON")
	}
	var empty bytes.Buffer
	if err := JSON(&empty, &render.Xport{}); err != nil || empty.String() != "[]\n" {
		t.Errorf("empty export: %q %v", empty.String(), err)
	}
}

func TestErrors(t *testing.T) {
	f := newFixture(t)
	g := f.graph(t, t0, t0+3600, 60, "a,b,+")
	g.Defs[1].File = filepath.Join(f.root, "rrd/metrics/missing.rrd")
	_, err := Run(context.Background(), f.pool, g, DefaultMaxPoints)
	var we *render.WorkerError
	if !errors.As(err, &we) {
		t.Fatalf("missing file: %v; want a *render.WorkerError", err)
	}
	g = f.graph(t, t0-800*86400+3600, t0, 1, "a,b,+")
	if _, err := Run(context.Background(), f.pool, g, DefaultMaxPoints); !errors.Is(err, ErrTooBig) {
		t.Fatalf("69M rows: %v", err)
	}
	// The limit counts rows × series: 61 rows of 3 series is 183 values.
	g = f.graph(t, t0, t0+3600, 60, "a,b,+")
	if _, err := Run(context.Background(), f.pool, g, 182); !errors.Is(err, ErrTooBig) || !strings.Contains(err.Error(), "max_export_points") {
		t.Fatalf("183 values with a limit of 182: %v", err)
	}
	if _, err := Run(context.Background(), f.pool, g, 183); err != nil {
		t.Fatalf("183 values with a limit of 183: %v", err)
	}
	g.Draws = nil
	if _, err := Run(context.Background(), f.pool, g, DefaultMaxPoints); err == nil {
		t.Fatal("export of nothing accepted")
	}
}

// fakeRunner answers with a canned payload, for checks of the answer.
type fakeRunner struct{ payload string }

func (r fakeRunner) Do(context.Context, *render.Request) ([]byte, error) {
	return []byte(r.payload), nil
}

// payload makes a worker answer: the JSON head, then the values.
func payload(head string, values ...float64) string {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(head)))
	b = append(b, head...)
	for _, v := range values {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return string(b)
}

func TestBadWorkerAnswers(t *testing.T) {
	g := &render.Graph{Start: t0, End: t0 + 600, Step: 60, Width: 400, Height: 200,
		Defs:  []render.Def{{Name: "a", File: "/x/a.rrd", DS: "value", CF: "AVERAGE"}},
		Draws: []render.Draw{{Type: "LINE1", Name: "a", Color: "000000"}}}
	for _, p := range []string{`not json`, payload(`not json`), payload(`{"step":60,"legends":[],"rows":0}`),
		payload(`{"step":0,"legends":["x"],"rows":0}`), payload(`{"step":60,"legends":["x"],"rows":1}`, 1, 2),
		payload(`{"step":60,"legends":["x"],"rows":2}`, 1), payload(`{"step":60,"legends":["x"],"rows":-1}`)} {
		if _, err := Run(context.Background(), fakeRunner{p}, g, DefaultMaxPoints); err == nil {
			t.Errorf("answer %q accepted", p)
		}
	}
	x, err := Run(context.Background(), fakeRunner{payload(`{"start":60,"step":60,"legends":["x"],"rows":1}`, 1)}, g, DefaultMaxPoints)
	if err != nil || x.Legends[0] != "series 1" {
		t.Errorf("unnamed series: %v %v", x, err)
	}
}

// An export longer than librrd's default of 400 rows keeps the chart's step
// instead of silently coarsening it.
func TestLongExportKeepsStep(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "rrd/metrics/s/long.rrd")
	metricRRD(t, file, 1440, m1)
	p, err := render.NewPool(render.PoolOptions{Command: []string{os.Args[0]}, Workers: 1, Root: root})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	g := &render.Graph{Start: t0, End: t0 + 1440*60, Step: 60, Width: 400, Height: 200,
		Defs:  []render.Def{{Name: "s0", File: file, DS: "value", CF: "AVERAGE"}},
		CDefs: []render.CDef{{Name: "p0", RPN: []string{"s0"}}},
		Draws: []render.Draw{{Type: "LINE1", Name: "p0", Color: "1f77b4", Legend: "long"}}}
	x, err := Run(context.Background(), p, g, DefaultMaxPoints)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := CSV(&buf, x); err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(buf.String()), "\n")[1:]
	if len(rows) < 1440 {
		t.Fatalf("%d rows, want 1440 at step 60", len(rows))
	}
	// The row ending at t0+60k holds value k.
	want := fmt.Sprintf("%d,%d", t0+60*700, 700)
	if !slices.Contains(rows, want) {
		t.Errorf("no row %q", want)
	}
}
