package statsd

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"graphmetrics/daemon/listen"
)

// Hostile input costs only itself: a 4-byte packet, huge names, NaN and
// Inf, names that would climb out of data_dir, a million distinct keys
// (bounded by max_series); files stay under rrd/metrics/graphite/stats.
func TestStatsdHostile(t *testing.T) {
	w, dir := newWriter(t)
	agg := NewAgg(1000)
	in, err := New(Options{Listen: listen.Options{UDP: []string{"127.0.0.1:0"}, TCP: []string{"127.0.0.1:0"}}, Agg: agg})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Start(); err != nil {
		t.Fatal(err)
	}
	defer in.Close(context.Background())
	udp, err := net.Dial("udp", in.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	for _, p := range []string{"abcd", strings.Repeat("k", 5000) + ":1|c", "a:NaN|c\nb:Inf|g\nc:-Infinity|ms",
		"../../../etc/passwd:1|c", "..:1|g", "a:1|c|#tag:x", "a:1|zz", "ok:1|c"} {
		udp.Write([]byte(p))
	}
	wait := func(what string, cond func(Stats) bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond(in.Stats()) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %+v", what, in.Stats())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	wait("udp packets", func(s Stats) bool { return s.Lines == 1 })
	r := in.Stats().Rejected
	if r[BadLine] != 1 || r[BadKey] != 3 || r[BadValue] != 3 || r[Tags] != 1 || r[UnknownType] != 1 {
		t.Errorf("rejected %v", r)
	}

	c, err := net.Dial("tcp", in.Addrs()[1].String())
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(c, 1<<16)
	const n = 1_000_000
	for i := range n {
		fmt.Fprintf(bw, "many.k%d:1|c\n", i)
	}
	bw.Flush()
	c.Close()
	wait("a million lines", func(s Stats) bool { return s.Lines+s.Rejected[MaxSeries] == n+1 })
	if k := agg.Keys(); k != 1000 {
		t.Errorf("%d keys, want 1000", k)
	}
	if got := in.Stats().Rejected[MaxSeries]; got != n-999 {
		t.Errorf("max_series refused %d, want %d", got, n-999)
	}
	f, err := NewFlusher(FlusherOptions{Agg: agg, FlushInterval: time.Second, Sink: w, Schemas: oneSecond})
	if err != nil {
		t.Fatal(err)
	}
	f.Flush(time.Now().Unix())
	w.Sync(context.Background())
	files := 0
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".rrd") {
			files++
			if !strings.HasPrefix(p, filepath.Join(dir, "rrd/metrics/graphite/stats")+"/") {
				t.Errorf("file outside the statsd tree: %s", p)
			}
		}
		return nil
	})
	// 1000 counters (rate, count), etsy's three own counters, numStats,
	// calculationtime, processing_time.
	if want := 2*1000 + 2*3 + 3; files != want {
		t.Errorf("%d files, want %d", files, want)
	}
}
