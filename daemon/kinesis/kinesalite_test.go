package kinesis

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"graphmetrics/store"
)

// kinesalite is a running kinesalite server (contrib/kinesalite/run.js) on
// a free loopback port, with a producer client.
type kinesalite struct {
	URL    string
	Client *awskinesis.Client
	pid    int
}

// cpu is the CPU time the server has used (user + system), from /proc.
func (k *kinesalite) cpu(t testing.TB) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", k.pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name (which is in parentheses): utime and
	// stime are the 12th and 13th, in clock ticks (100 per second).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	var ut, st int64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// startKinesalite runs the server for the test. It is a hard requirement,
// not a skip: `make deps` (contrib/kinesalite/install.sh) installs it.
func startKinesalite(t testing.TB) *kinesalite {
	t.Helper()
	root := repoRoot(t)
	if _, err := os.Stat(filepath.Join(root, ".deps", "kinesalite", "node_modules", "kinesalite", "index.js")); err != nil {
		t.Fatalf("kinesalite is not installed: run contrib/kinesalite/install.sh (make deps): %v", err)
	}
	cmd := exec.Command("node", filepath.Join(root, "contrib", "kinesalite", "run.js"),
		"--createStreamMs", "0", "--deleteStreamMs", "0", "--updateStreamMs", "0", "--shardLimit", "50",
		"--exit-on-stdin-close")
	cmd.Stderr = os.Stderr
	// The server exits when this pipe closes, so a test binary that is
	// killed does not leave it running.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start kinesalite: %v", err)
	}
	t.Cleanup(func() {
		stdin.Close() // also keeps the pipe referenced (a collected one would close)
		cmd.Process.Kill()
		cmd.Wait()
	})
	port := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		port <- strings.TrimSpace(line)
		// Keep draining so the server never blocks on a full pipe.
		bufio.NewReader(out).WriteTo(discard{})
	}()
	var p string
	select {
	case p = <-port:
	case <-time.After(15 * time.Second):
		t.Fatal("kinesalite did not report its port")
	}
	if p == "" {
		t.Fatal("kinesalite exited without a port")
	}
	k := &kinesalite{URL: "http://127.0.0.1:" + p, pid: cmd.Process.Pid}
	k.Client = awskinesis.New(awskinesis.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(k.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	// The daemon's client uses the standard chain: give it dummy keys
	// through the environment, and nothing from this machine's files.
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return k
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func (k *kinesalite) createStream(t testing.TB, name string, shards int32) {
	t.Helper()
	ctx := context.Background()
	if _, err := k.Client.CreateStream(ctx, &awskinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatalf("create stream: %v", err)
	}
	k.waitActive(t, name)
}

func (k *kinesalite) waitActive(t testing.TB, name string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := k.Client.DescribeStreamSummary(context.Background(), &awskinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s not active: %v", name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type entry struct {
	key, data string
}

// put writes entries in order (PutRecords, 500 at a time), retrying any
// that fail; entries with one key keep their order.
func (k *kinesalite) put(t testing.TB, stream string, es []entry) {
	t.Helper()
	for len(es) > 0 {
		n := min(len(es), 500)
		in := &awskinesis.PutRecordsInput{StreamName: aws.String(stream)}
		for _, e := range es[:n] {
			in.Records = append(in.Records, types.PutRecordsRequestEntry{PartitionKey: aws.String(e.key), Data: []byte(e.data)})
		}
		out, err := k.Client.PutRecords(context.Background(), in)
		if err != nil {
			t.Fatalf("put records: %v", err)
		}
		if aws.ToInt32(out.FailedRecordCount) > 0 {
			t.Fatalf("put records: %d failed", aws.ToInt32(out.FailedRecordCount))
		}
		es = es[n:]
	}
}

func kinesaliteOpts(t testing.TB, k *kinesalite, sink Sink, streams ...Stream) Options {
	o := fastOpts(t, nil, sink, streams...)
	o.Region, o.Endpoint = "us-east-1", k.URL
	o.IdleInterval, o.MinInterval = 50*time.Millisecond, 20*time.Millisecond
	o.ListInterval = 200 * time.Millisecond
	return o
}

// countSink passes everything to a store.Writer and counts the points,
// so a test can tell a replay from a record read once.
type countSink struct {
	w  *store.Writer
	mu sync.Mutex
	n  int
}

func (c *countSink) WriteMetric(path []string, step time.Duration, pts []store.Point) error {
	c.mu.Lock()
	c.n += len(pts)
	c.mu.Unlock()
	return c.w.WriteMetric(path, step, pts)
}

func (c *countSink) Sync(ctx context.Context) error { return c.w.Sync(ctx) }

func (c *countSink) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func newStoreWriter(t testing.TB, dataDir string) *store.Writer {
	t.Helper()
	w, err := store.NewWriter(store.WriterOptions{DataDir: dataDir, RRD: store.LibRRD{}, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	return w
}

func closeWriter(t testing.TB, w *store.Writer) {
	t.Helper()
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// fetch returns the AVERAGE rows of a metric file at 60 s resolution, read
// with the rrdtool CLI (independent of the librrd binding that wrote it).
func fetch(t testing.TB, file string, start, end int64) map[int64]string {
	t.Helper()
	out, err := exec.Command("rrdtool", "fetch", file, "AVERAGE", "-r", "60",
		"-s", fmt.Sprint(start), "-e", fmt.Sprint(end)).CombinedOutput()
	if err != nil {
		t.Fatalf("rrdtool fetch %s: %v: %s", file, err, out)
	}
	rows := map[int64]string{}
	for _, line := range strings.Split(string(out), "\n") {
		ts, v, ok := strings.Cut(line, ":")
		var tm int64
		if !ok || func() bool { _, err := fmt.Sscan(ts, &tm); return err != nil }() {
			continue
		}
		rows[tm] = strings.TrimSpace(v)
	}
	return rows
}

// checkRRD fails unless file holds exactly want (time of the point ->
// value) in [from, to): the row of the step after each point holds its
// value, and every other row is unknown.
func checkRRD(t testing.TB, file string, from, to int64, want map[int64]float64) {
	t.Helper()
	rows := fetch(t, file, from, to)
	for ts := from + 60; ts <= to; ts += 60 {
		got, ok := rows[ts]
		if !ok {
			t.Errorf("%s: no row %d", file, ts)
			continue
		}
		v, has := want[ts-60]
		var gv float64
		_, err := fmt.Sscan(got, &gv)
		switch {
		case !has && !strings.Contains(strings.ToLower(got), "nan"):
			t.Errorf("%s: row %d = %s, want unknown", file, ts, got)
		case has && (err != nil || gv != v):
			t.Errorf("%s: row %d = %s, want %v", file, ts, got, v)
		}
	}
}
