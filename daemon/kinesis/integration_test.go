//go:build cgo

// The kinesalite tests write real RRD files (store/rrdfile, librrd).

package kinesis

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"graphmetrics/daemon/kinesis/kinesalitetest"
	"graphmetrics/parser/testwait"
	"graphmetrics/store"
)

// recentBase is a whole hour a few hours back: RRD files keep 14 days at
// 1 step, and the timestamps are not in the future.
func recentBase() int64 { return time.Now().Add(-6 * time.Hour).Truncate(time.Hour).Unix() }

func isoTime(t int64, variant int) string {
	tm := time.Unix(t, 0).UTC()
	switch variant % 3 {
	case 0:
		return tm.Format("2006-01-02T15:04:05.000000") // CIMAA's own
	case 1:
		return tm.Format("2006-01-02T15:04:05Z")
	}
	return tm.Add(123 * time.Millisecond).Format("2006-01-02T15:04:05.000Z")
}

// End to end: a 2-shard stream, CIMAA records for 12 series, consumed into
// a real rrdfile.Writer; every RRD file holds exactly the values put.
func TestKinesaliteEndToEnd(t *testing.T) {
	k := startKinesalite(t)
	k.CreateStream(t, "cimaa.metrics", 2)
	base := recentBase()
	const points = 30
	metrics := []string{"disk/root#free", "cpu#load", "mem/swap#used"}
	want := map[string]map[int64]float64{} // file -> point time -> value
	var es []kinesalitetest.Entry
	for h := range 4 {
		host := fmt.Sprintf("host%d.example.com", h)
		for m, metric := range metrics {
			file := filepath.Join("rrd", "metrics", "cimaa.metrics", host, strings.ReplaceAll(strings.ReplaceAll(metric, "#", "/"), "/", string(filepath.Separator))+".rrd")
			want[file] = map[int64]float64{}
			for i := range points {
				ts := base + int64(i)*60
				v := float64(h*100+m*10) + float64(i)*0.25
				es = append(es, kinesalitetest.Entry{Key: host, Data: fmt.Sprintf(`{"timestamp": %q, "name": "//%s/%s", "value": %v, "units": "GB"}`, isoTime(ts, i), host, metric, v)})
				want[file][ts] = v
			}
		}
	}
	// Two records in one second of one series: both reach the store, which
	// keeps the later one.
	ts := base + 5*60
	es = append(es, kinesalitetest.Entry{Key: "host0.example.com", Data: fmt.Sprintf(`{"timestamp": %q, "name": "//host0.example.com/cpu#load", "value": 77.5}`, isoTime(ts, 0))})
	want[filepath.Join("rrd", "metrics", "cimaa.metrics", "host0.example.com", "cpu", "load.rrd")][ts] = 77.5
	k.Put(t, "cimaa.metrics", es)

	dataDir := t.TempDir()
	w := newStoreWriter(t, dataDir)
	o := kinesaliteOpts(t, k, w, Stream{Name: "cimaa.metrics"})
	o.StateDir = filepath.Join(dataDir, "state")
	c := startConsumer(t, o)
	testwait.For(t, 30*time.Second, "all records", func() bool { return c.Stats().Records == uint64(len(es)) })
	st := c.Stats()
	if s := st.Streams["cimaa.metrics"]; s.Reading != 2 || s.Records != uint64(len(es)) {
		t.Errorf("stream stats %+v", s)
	}
	closeConsumer(t, c)
	closeWriter(t, w)
	for file, pts := range want {
		checkRRD(t, filepath.Join(dataDir, file), base-60, base+points*60, pts)
	}
	var files int
	filepath.WalkDir(filepath.Join(dataDir, "rrd"), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".rrd") {
			files++
		}
		return nil
	})
	if files != len(want) {
		t.Errorf("%d RRD files, want %d", files, len(want))
	}
	for _, shard := range []string{"shardId-000000000000", "shardId-000000000001"} {
		if cp, ok := readCheckpoint(t, o.StateDir, "cimaa.metrics", shard); !ok || cp.Sequence == "" {
			t.Errorf("%s: checkpoint %+v", shard, cp)
		}
	}
}

// Restart: stop, put more, start again: the new records arrive and nothing
// is written twice (points handed to the store = records put).
func TestKinesaliteRestart(t *testing.T) {
	k := startKinesalite(t)
	k.CreateStream(t, "m", 2)
	base := recentBase()
	batch := func(from, n int) []kinesalitetest.Entry {
		var es []kinesalitetest.Entry
		for i := from; i < from+n; i++ {
			for s := range 3 {
				es = append(es, kinesalitetest.Entry{Key: fmt.Sprint("k", s), Data: fmt.Sprintf(`{"timestamp":%q,"name":"//h%d/x#v","value":%d}`, isoTime(base+int64(i)*60, i), s, i)})
			}
		}
		return es
	}
	dataDir := t.TempDir()
	sink := &countSink{}
	run := func(want uint64) {
		sink.w = newStoreWriter(t, dataDir)
		o := kinesaliteOpts(t, k, sink, Stream{Name: "m"})
		o.StateDir = filepath.Join(dataDir, "state")
		c := startConsumer(t, o)
		testwait.For(t, 30*time.Second, fmt.Sprint(want, " records"), func() bool { return c.Stats().Records == want })
		time.Sleep(300 * time.Millisecond) // time for anything extra to show up
		closeConsumer(t, c)
		closeWriter(t, sink.w)
		if got := c.Stats().Records; got != want {
			t.Fatalf("records %d, want %d", got, want)
		}
	}
	k.Put(t, "m", batch(0, 20))
	run(60)
	k.Put(t, "m", batch(20, 25))
	run(75)
	if sink.count() != 135 {
		t.Fatalf("%d points written for 135 records", sink.count())
	}
	for s := range 3 {
		want := map[int64]float64{}
		for i := range 45 {
			want[base+int64(i)*60] = float64(i)
		}
		checkRRD(t, filepath.Join(dataDir, "rrd", "metrics", "m", fmt.Sprint("h", s), "x", "v.rrd"), base-60, base+45*60, want)
	}
}

// Reshard while records flow: SplitShard in the middle; every series
// arrives whole and in order (parent before children), none twice.
func TestKinesaliteSplitShard(t *testing.T) {
	k := startKinesalite(t)
	k.CreateStream(t, "rs", 1)
	sink := newRecSink()
	o := kinesaliteOpts(t, k, sink, Stream{Name: "rs"})
	o.RecordsPerGet = 20 // the parent takes a while, so children have data waiting
	c := startConsumer(t, o)
	const series, n = 8, 120
	put := func(i int) {
		var es []kinesalitetest.Entry
		for s := range series {
			es = append(es, kinesalitetest.Entry{Key: fmt.Sprint("key-", s), Data: rec(fmt.Sprintf("//s%d#m", s), testBase+int64(i)*60, float64(i))})
		}
		k.Put(t, "rs", es)
	}
	for i := range n / 3 {
		put(i)
	}
	k.SplitShard(t, "rs", "shardId-000000000000")
	for i := n / 3; i < n; i++ {
		put(i)
		if i%10 == 0 {
			time.Sleep(20 * time.Millisecond) // records keep flowing while the consumer works
		}
	}
	testwait.For(t, 60*time.Second, "all records", func() bool { return c.Stats().Records == series*n })
	testwait.For(t, 10*time.Second, "the parent finished, both children read", func() bool {
		st := c.Stats().Streams["rs"]
		return st.Finished == 1 && st.Reading == 2
	})
	st := c.Stats().Streams["rs"]
	closeConsumer(t, c)
	for s := range series {
		checkSeries(t, sink, fmt.Sprintf("rs/s%d/m", s), 0, n)
	}
	if st.Finished != 1 || st.Reading != 2 {
		t.Errorf("stream stats %+v", st)
	}
	if cp, _ := readCheckpoint(t, o.StateDir, "rs", "shardId-000000000000"); !cp.Closed {
		t.Errorf("parent checkpoint %+v", cp)
	}
	for _, child := range []string{"shardId-000000000001", "shardId-000000000002"} {
		if cp, _ := readCheckpoint(t, o.StateDir, "rs", child); cp.Sequence == "" {
			t.Errorf("child %s read nothing: %+v", child, cp)
		}
	}
}

// Bad records mixed with good ones: the good all land, the bad are
// counted by reason, the shard goes on.
func TestKinesaliteBadRecords(t *testing.T) {
	k := startKinesalite(t)
	k.CreateStream(t, "b", 2)
	bad := map[string][]string{
		BadNotJSON:   {`not json`, `{"timestamp":`, `[]`},
		BadMissing:   {`{"name":"//h/x#m","value":1}`, `{"timestamp":"2026-03-01T12:00:00","name":"//h/x#m"}`},
		BadValue:     {`{"timestamp":"2026-03-01T12:00:00","name":"//h/x#m","value":"12"}`, `{"timestamp":"2026-03-01T12:00:00","name":"//h/x#m","value":NaN}`},
		BadTimestamp: {`{"timestamp":"13/12/2014","name":"//h/x#m","value":1}`},
		BadName:      {`{"timestamp":"2026-03-01T12:00:00","name":"//../../etc#passwd","value":1}`, `{"timestamp":"2026-03-01T12:00:00","name":"//h/x","value":1}`, `{"timestamp":"2026-03-01T12:00:00","name":"//h/x\u0000#m","value":1}`},
	}
	var es []kinesalitetest.Entry
	for i := range 40 {
		es = append(es, kinesalitetest.Entry{Key: fmt.Sprint("k", i%4), Data: rec("//h/good#m", testBase+int64(i)*60, float64(i))})
		for _, list := range bad {
			if i < len(list) {
				es = append(es, kinesalitetest.Entry{Key: fmt.Sprint("k", i%4), Data: list[i]})
			}
		}
	}
	// One key only: the good series stays in one shard, in order.
	for i := range es {
		es[i].Key = "same"
	}
	k.Put(t, "b", es)
	sink := newRecSink()
	c := startConsumer(t, kinesaliteOpts(t, k, sink, Stream{Name: "b"}))
	nBad := uint64(0)
	for _, list := range bad {
		nBad += uint64(len(list))
	}
	testwait.For(t, 30*time.Second, "good and bad records", func() bool {
		st := c.Stats()
		var counted uint64
		for _, n := range st.Bad {
			counted += n
		}
		return st.Records == 40 && counted == nBad
	})
	closeConsumer(t, c)
	checkSeries(t, sink, "b/h/good/m", 0, 40)
	st := c.Stats()
	for reason, list := range bad {
		if st.Bad[reason] != uint64(len(list)) {
			t.Errorf("bad[%s] = %d, want %d", reason, st.Bad[reason], len(list))
		}
	}
	if len(sink.series) != 1 {
		t.Errorf("series %v", sink.series)
	}
}

// A stream with a fixed metric name takes records with only timestamp
// and value.
func TestKinesaliteFixedMetric(t *testing.T) {
	k := startKinesalite(t)
	k.CreateStream(t, "fixed", 1)
	var es []kinesalitetest.Entry
	for i := range 10 {
		es = append(es, kinesalitetest.Entry{Key: "k", Data: fmt.Sprintf(`{"timestamp":%q,"value":%d}`, time.Unix(testBase+int64(i)*60, 0).UTC().Format(time.RFC3339), i)})
	}
	k.Put(t, "fixed", es)
	sink := newRecSink()
	c := startConsumer(t, kinesaliteOpts(t, k, sink, Stream{Name: "fixed", Metric: "web/load"}))
	testwait.For(t, 30*time.Second, "records", func() bool { return c.Stats().Records == 10 })
	closeConsumer(t, c)
	checkSeries(t, sink, "fixed/web/load", 0, 10)
}

// Debian's awscli (/usr/bin/aws), a real AWS client, and any other aws
// on PATH, each put a record that lands in RRD.
func TestKinesaliteAWSCLI(t *testing.T) {
	var clis []string
	for _, name := range []string{"/usr/bin/aws", "aws"} {
		if p, err := exec.LookPath(name); err == nil && !slices.Contains(clis, p) {
			clis = append(clis, p)
		}
	}
	if len(clis) == 0 {
		t.Fatal("awscli is not installed (Debian package awscli; make deps)")
	}
	k := startKinesalite(t)
	k.CreateStream(t, "cli", 1)
	dataDir := t.TempDir()
	w := newStoreWriter(t, dataDir)
	o := kinesaliteOpts(t, k, w, Stream{Name: "cli"})
	o.StateDir = filepath.Join(dataDir, "state")
	c := startConsumer(t, o)
	base := recentBase()
	want := map[int64]float64{}
	for i, cli := range clis {
		ts, v := base+int64(i)*60, 42.5+float64(i)
		want[ts] = v
		data := fmt.Sprintf(`{"timestamp": %q, "name": "//cli.example.com/disk/root#free", "value": %v, "units": "GB"}`, isoTime(ts, 0), v)
		args := []string{"kinesis", "put-record", "--endpoint-url", k.URL, "--no-verify-ssl",
			"--stream-name", "cli", "--partition-key", "cli", "--data", data}
		version, _ := exec.Command(cli, "--version").CombinedOutput()
		t.Logf("%s: %s", cli, bytes.TrimSpace(version))
		if strings.HasPrefix(string(version), "aws-cli/2") {
			args = append(args, "--cli-binary-format", "raw-in-base64-out") // v2 reads blobs as base64
		}
		cmd := exec.Command(cli, args...)
		cmd.Env = append(os.Environ(), "AWS_DEFAULT_REGION=us-east-1", "AWS_PAGER=")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s kinesis put-record: %v: %s", cli, err, out)
		}
		testwait.For(t, 30*time.Second, "the record of "+strings.TrimSpace(string(version)), func() bool { return c.Stats().Records == uint64(i+1) })
	}
	closeConsumer(t, c)
	closeWriter(t, w)
	checkRRD(t, store.MetricFile(dataDir, []string{"cli", "cli.example.com", "disk", "root", "free"}),
		base-60, base+int64(len(clis))*60, want)
}
