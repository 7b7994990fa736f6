package metlog

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"graphmetrics/daemon/listen"
	"graphmetrics/daemon/statsd"
	"graphmetrics/store/rrdfile"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in     string
		key    string
		s      statsd.Sample
		reason string
	}{
		{in: `{"type": "counter", "payload": "1", "fields": {"name": "app.hits", "rate": 1.0}}`, key: "app.hits",
			s: statsd.Sample{Type: statsd.Counter, Value: 1, Rate: 1}},
		{in: `{"type": "counter", "payload": "3", "fields": {"name": "a", "rate": 0.25}}`, key: "a",
			s: statsd.Sample{Type: statsd.Counter, Value: 3, Rate: 0.25}},
		{in: `{"type": "timer", "payload": "12.5", "fields": {"name": "db q", "rate": 1.0}}`, key: "db_q",
			s: statsd.Sample{Type: statsd.Timer, Value: 12.5, Rate: 1}},
		{in: `{"type": "timer", "payload": 40, "fields": {"name": "a"}}`, key: "a",
			s: statsd.Sample{Type: statsd.Timer, Value: 40, Rate: 1}},
		{in: `{"type": "oldstyle", "payload": "hello"}`, reason: OtherType},
		{in: `{"type": "counter", "payload": "1", "fields": {}}`, reason: BadName},
		{in: `{"type": "counter", "payload": "1", "fields": {"name": "../.."}}`, reason: BadName},
		{in: `{"type": "counter", "payload": "NaN", "fields": {"name": "a"}}`, reason: BadValue},
		{in: `{"type": "timer", "payload": "-1", "fields": {"name": "a"}}`, reason: BadValue},
		{in: `{"type": "counter", "payload": "1", "fields": {"name": "a", "rate": 0}}`, reason: BadRate},
		{in: `abcd`, reason: BadJSON},
		{in: `[]`, reason: BadJSON},
	}
	for _, tc := range tests {
		key, s, reason := Parse([]byte(tc.in))
		if reason != tc.reason || string(key) != tc.key || (reason == "" && (s.Type != tc.s.Type || s.Value != tc.s.Value || s.Rate != tc.s.Rate)) {
			t.Errorf("%s: %q %+v %q, want %q %+v %q", tc.in, key, s, reason, tc.key, tc.s, tc.reason)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"type": "counter", "payload": "1", "fields": {"name": "a", "rate": 1.0}}`))
	f.Add([]byte(`{"type": "timer", "payload": "1e400", "fields": {"name": ".."}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		key, s, reason := Parse(b)
		if reason == "" && (len(key) == 0 || !(s.Rate > 0) || s.Value != s.Value) {
			t.Fatalf("%q accepted as %q %+v", b, key, s)
		}
	})
}

// metlogSender builds messages as metlog-py's MetlogClient does (incr,
// timer_send, and a logging-style "oldstyle" message) and sends each with
// json.dumps over UDP, as its UdpSender does.
const metlogSender = `
import json, socket, sys, os, datetime
host, port = sys.argv[1], int(sys.argv[2])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
def metlog(type, payload='', fields=None):
    full_msg = dict(type=type, timestamp=datetime.datetime.utcnow().isoformat(), logger='myapp',
                    severity=6, payload=payload, fields=fields if fields is not None else dict(),
                    env_version='0.8', metlog_pid=os.getpid(), metlog_hostname=socket.gethostname())
    sock.sendto(json.dumps(full_msg).encode(), (host, port))
def incr(name, count=1, rate=1.0):
    metlog('counter', str(count), {'name': name, 'rate': rate})
def timer_send(name, elapsed, rate=1.0):
    metlog('timer', str(elapsed), {'name': name, 'rate': rate})
for i in range(10):
    incr('myapp.requests')
incr('myapp.sampled', 2, rate=0.5)
for ms in (10, 20, 30, 40):
    timer_send('myapp.view', ms)
metlog('oldstyle', 'a log line')
incr('../../escape')
`

// Messages from a sender built like metlog-py's reach the statsd
// aggregation: counts scaled by the rate, timer statistics, others ignored.
func TestMetlogSender(t *testing.T) {
	dir := t.TempDir()
	w, err := rrdfile.NewWriter(rrdfile.WriterOptions{DataDir: dir, RRD: rrdfile.LibRRD{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	agg := statsd.NewAgg(100)
	in, err := New(Options{Listen: listen.Options{UDP: []string{"127.0.0.1:0"}}, Agg: agg})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Start(); err != nil {
		t.Fatal(err)
	}
	defer in.Close(context.Background())
	addr := in.Addrs()[0].String()
	host, port, _ := strings.Cut(addr, ":")
	if out, err := exec.Command("/usr/bin/python3", "-c", metlogSender, host, port).CombinedOutput(); err != nil {
		t.Fatalf("python: %v: %s", err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for st := in.Stats(); st.Messages+st.Rejected[OtherType]+st.Rejected[BadName] < 17; st = in.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	st := in.Stats()
	if st.Messages != 15 || st.Rejected[OtherType] != 1 || st.Rejected[BadName] != 1 {
		t.Fatalf("stats %+v", st)
	}
	f, err := statsd.NewFlusher(statsd.FlusherOptions{Agg: agg, FlushInterval: 10 * time.Second, Sink: w})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	f.Flush(time.Now().Unix() / 10 * 10)
	w.Sync(context.Background())
	for _, name := range []string{"counters/myapp/requests/count", "counters/myapp/sampled/count", "timers/myapp/view/mean",
		"timers/myapp/view/upper_90", "timers/myapp/view/count"} {
		file := dir + "/rrd/metrics/graphite/stats/" + name + ".rrd"
		out, err := exec.Command("rrdtool", "lastupdate", file).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v %s", name, err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		_, v, _ := strings.Cut(lines[len(lines)-1], ": ")
		var x float64
		if _, err := fmt.Sscan(v, &x); err != nil {
			t.Fatalf("%s: %q", name, out)
		}
		got[name] = x
	}
	want := map[string]float64{"counters/myapp/requests/count": 10, "counters/myapp/sampled/count": 4,
		"timers/myapp/view/mean": 25, "timers/myapp/view/upper_90": 40, "timers/myapp/view/count": 4}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

// Hostile datagrams cost only themselves: a 4-byte packet, a huge name,
// NaN and Inf, names that would escape data_dir, a flood of distinct names
// bounded by max_series.
func TestMetlogHostile(t *testing.T) {
	agg := statsd.NewAgg(100)
	in, err := New(Options{Listen: listen.Options{UDP: []string{"127.0.0.1:0"}}, Agg: agg})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Start(); err != nil {
		t.Fatal(err)
	}
	defer in.Close(context.Background())
	c, err := net.Dial("udp", in.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := func(name, payload string) string {
		return fmt.Sprintf(`{"type": "counter", "payload": %q, "fields": {"name": %q, "rate": 1.0}}`, payload, name)
	}
	bad := []string{"abcd", msg(strings.Repeat("n", 60000), "1"), msg("a", "NaN"), msg("a", "Infinity"),
		msg("../../etc/passwd", "1")}
	// "/abs" is the statsd key "-abs" (etsy's sanitizing): one of the 100.
	bad = append(bad, msg("/abs", "1"))
	for _, b := range bad {
		c.Write([]byte(b))
	}
	const n = 20000
	for i := range n {
		c.Write([]byte(msg(fmt.Sprintf("flood.k%d", i), "1")))
		if i%500 == 0 {
			time.Sleep(time.Millisecond) // stay within the socket buffer
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for st := in.Stats(); st.Messages+st.Rejected[MaxSeries] < n+1; st = in.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
	st := in.Stats()
	if st.Rejected[BadJSON] != 1 || st.Rejected[BadName] != 2 || st.Rejected[BadValue] != 2 {
		t.Errorf("rejected %v", st.Rejected)
	}
	if st.Messages != 100 || st.Rejected[MaxSeries] != n-99 || agg.Keys() != 100 {
		t.Errorf("stats %+v, keys %d: want 100 taken", st, agg.Keys())
	}
}
