package graphite

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"graphmetrics/daemon/listen"
	"graphmetrics/parser/testwait"
	"graphmetrics/store"
	"graphmetrics/store/rrdfile"
)

// startInput runs an Input on loopback into a real RRD writer.
func startInput(t *testing.T, o Options) (*Input, *rrdfile.Writer, string) {
	t.Helper()
	dir := t.TempDir()
	w, err := rrdfile.NewWriter(rrdfile.WriterOptions{DataDir: dir, RRD: rrdfile.LibRRD{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(context.Background()) })
	o.Listen = listen.Options{UDP: []string{"127.0.0.1:0"}, TCP: []string{"127.0.0.1:0"}}
	o.Sink = w
	in, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(context.Background()) })
	return in, w, dir
}

// fetch reads rows with the rrdtool CLI; unknown values are NaN.
func fetch(t *testing.T, file, cf string, res, start, end int64) map[int64]float64 {
	t.Helper()
	out, err := exec.Command("rrdtool", "fetch", file, cf, "-r", strconv.FormatInt(res, 10),
		"-s", strconv.FormatInt(start, 10), "-e", strconv.FormatInt(end, 10)).CombinedOutput()
	if err != nil {
		t.Fatalf("rrdtool fetch %s: %v: %s", file, err, out)
	}
	rows := map[int64]float64{}
	for _, line := range strings.Split(string(out), "\n") {
		ts, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, err1 := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
		v, err2 := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err1 == nil && err2 == nil {
			rows[n] = v
		} else if err1 == nil {
			rows[n] = math.NaN()
		}
	}
	return rows
}

func send(t *testing.T, network string, addr net.Addr, payload string) {
	t.Helper()
	c, err := net.Dial(network, addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(payload)); err != nil {
		t.Fatal(err)
	}
}

// Lines over TCP and UDP land in rrd/metrics/graphite/<a>/<b>.rrd at the
// row of their timestamp; the last value of a row wins; schemas choose the
// step and archives of new files, in order.
func TestGraphiteIntoRRD(t *testing.T) {
	now := time.Unix(1_800_000_000, 0) // on a 60 s and a 10 s boundary
	schemas := []Schema{
		{Pattern: regexp.MustCompile(`^fast\.`), Step: 10 * time.Second,
			RRAs: []store.Archive{{CF: "AVERAGE", Step: 10 * time.Second, Span: time.Hour}}},
		{Pattern: regexp.MustCompile(`^fast\.never`), Step: time.Minute,
			RRAs: []store.Archive{{CF: "AVERAGE", Step: time.Minute, Span: time.Hour}}},
	}
	in, w, dir := startInput(t, Options{Schemas: schemas, Now: func() time.Time { return now }})
	addrs := in.Addrs()
	m := now.Unix()
	// TCP: one connection, several lines, a number-first name.
	send(t, "tcp", addrs[1], fmt.Sprintf("app.web1.load 1.5 %d\napp.web1.load 2.5 %d\n10.x 7 %d\n", m-120, m-60, m))
	// UDP: several lines per datagram, -1 and a missing timestamp are now.
	send(t, "udp", addrs[0], fmt.Sprintf("fast.never.q 1 %d\nfast.never.q 2 %d\nfast.never.q 3 -1\nfast.b 4\n", m-29, m-21))
	testwait.For(t, 10*time.Second, "6 points", func() bool { return in.Stats().Points == 7 })
	if err := in.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	load := filepath.Join(dir, "rrd/metrics/graphite/app/web1/load.rrd")
	if r := fetch(t, load, "AVERAGE", 60, m-180, m-60); r[m-120] != 1.5 || r[m-60] != 2.5 {
		t.Errorf("load rows %v", r)
	}
	if r := fetch(t, filepath.Join(dir, "rrd/metrics/graphite/10/x.rrd"), "AVERAGE", 60, m-60, m); r[m] != 7 {
		t.Errorf("10.x rows %v", r)
	}
	q := filepath.Join(dir, "rrd/metrics/graphite/fast/never/q.rrd")
	// Step 10 s from the first matching schema: rows (m-30,m-20] and (m-10, m].
	if r := fetch(t, q, "AVERAGE", 10, m-40, m); r[m-20] != 2 || r[m] != 3 {
		t.Errorf("q rows %v", r)
	}
	info, _ := exec.Command("rrdtool", "info", q).CombinedOutput()
	if !strings.Contains(string(info), "step = 10\n") || strings.Contains(string(info), "rra[1]") {
		t.Errorf("schema not applied: %s", info)
	}
	def, _ := exec.Command("rrdtool", "info", load).CombinedOutput()
	for _, want := range []string{"step = 60\n", "rra[0].rows = 20160", "rra[1].pdp_per_row = 60", "rra[1].rows = 17520"} {
		if !strings.Contains(string(def), want) {
			t.Errorf("default schema: info lacks %q", want)
		}
	}
	if st := in.Stats(); st.Series != 4 || st.Rejected[BadLine] != 0 {
		t.Errorf("stats %+v", st)
	}
}

// Hostile input costs only itself: a 4-byte packet, huge names, NaN and
// Inf, names that would climb out of data_dir, a million distinct names
// (bounded by MaxSeries); every file stays under rrd/metrics/graphite.
func TestGraphiteHostile(t *testing.T) {
	in, w, dir := startInput(t, Options{MaxSeries: 1000})
	addrs := in.Addrs()
	send(t, "udp", addrs[0], "abcd")
	send(t, "udp", addrs[0], strings.Repeat("n", 60000)+" 1\n")
	send(t, "udp", addrs[0], "a.nan NaN\na.inf +Inf\na.ninf -inf\n../../../etc/x 1\n..a 1\n/abs 1\nok.one 1\n")
	testwait.For(t, 10*time.Second, "udp lines", func() bool {
		r := in.Stats().Rejected
		return r[BadLine] == 1 && r[BadName] == 4 && r[BadValue] == 3 && in.Stats().Points == 1
	})

	c, err := net.Dial("tcp", addrs[1].String())
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(c, 1<<16)
	const n = 1_000_000
	for i := range n {
		fmt.Fprintf(bw, "many.s%d %d\n", i, i)
	}
	bw.WriteString(strings.Repeat("z", 1<<20) + " 1\n") // over max_message: dropped
	bw.WriteString("ok.two 2\n")
	bw.Flush()
	c.Close()
	testwait.For(t, 10*time.Second, "a million lines", func() bool { return in.Stats().Points+in.Stats().Rejected[MaxSeries] == n+2 })
	st := in.Stats()
	if st.Series != 1000 || st.Rejected[MaxSeries] != n-998 {
		t.Errorf("stats %+v: want 1000 series, %d refused for max_series", st, n-998)
	}
	if ls := in.Listeners(); ls[1].Oversize != 1 {
		t.Errorf("oversize %+v", ls[1])
	}
	in.Close(context.Background())
	w.Sync(context.Background())
	files := 0
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".rrd") {
			files++
			if !strings.HasPrefix(p, filepath.Join(dir, "rrd/metrics/graphite")+"/") {
				t.Errorf("file outside the graphite tree: %s", p)
			}
		}
		return nil
	})
	if files != 1000 {
		t.Errorf("%d files, want 1000", files)
	}
}
