package zibrato

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"graphmetrics/daemon/statsd"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in, level, key string
		s              statsd.Sample
		reason         string
	}{
		{in: "info|Counter|hits|1|1700000000|not_specified", level: "info", key: "hits", s: statsd.Sample{Type: statsd.Counter, Value: 1, Rate: 1}},
		{in: "info|Counter|hits|4|1700000000|deathstar", level: "info", key: "deathstar.hits", s: statsd.Sample{Type: statsd.Counter, Value: 4, Rate: 1}},
		{in: "debug|Timer|t|0.25|1700000000|not_specified", level: "debug", key: "t", s: statsd.Sample{Type: statsd.Timer, Value: 250, Rate: 1}},
		{in: "crit|Gauge|g|123|1700000000|x", level: "crit", key: "x.g", s: statsd.Sample{Type: statsd.Gauge, Value: 123, Rate: 1}},
		{in: "info|Gauge|old|5", level: "info", key: "old", s: statsd.Sample{Type: statsd.Gauge, Value: 5, Rate: 1}},
		{in: "info|Set|s|1|1|x", reason: OtherType},
		{in: "info|Counter|../..|1|1|not_specified", reason: BadName},
		{in: "info|Counter|a|NaN|1|not_specified", reason: BadValue},
		{in: "info|Timer|a|-1|1|not_specified", reason: BadValue},
		{in: "abcd", reason: BadMessage},
		{in: "a|b|c|d|e", reason: BadMessage},
	}
	for _, tc := range tests {
		level, key, s, reason := Parse([]byte(tc.in))
		if reason != tc.reason || (reason == "" && (string(level) != tc.level || string(key) != tc.key ||
			s.Type != tc.s.Type || s.Value != tc.s.Value || s.Rate != tc.s.Rate)) {
			t.Errorf("%q: %q %q %+v %q", tc.in, level, key, s, reason)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("info|Counter|hits|1|1700000000|not_specified"))
	f.Add([]byte("debug|Timer|t|1e308|1|x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, key, s, reason := Parse(b)
		if reason == "" && (len(key) == 0 || s.Value != s.Value || s.Rate != 1) {
			t.Fatalf("%q accepted as %q %+v", b, key, s)
		}
	})
}

// zibratoPy is a Zibrato broker (XSUB for publishers, XPUB for workers, as
// its README describes) and a client whose pack() and methods are
// Zibrato's own, on Debian's python3-zmq (libzmq): the real wire.
const zibratoPy = `
import sys, threading, zmq
from time import sleep, time
from datetime import datetime
ctx = zmq.Context()
xsub = ctx.socket(zmq.XSUB); pub_port = xsub.bind_to_random_port('tcp://127.0.0.1')
xpub = ctx.socket(zmq.XPUB); sub_port = xpub.bind_to_random_port('tcp://127.0.0.1')
threading.Thread(target=zmq.proxy, args=(xsub, xpub), daemon=True).start()
print(sub_port, flush=True)

class Zibrato:
  def __init__(self, **kwargs):
    self.socket = ctx.socket(zmq.PUB)
    self.socket.connect('tcp://%s:%d' % (kwargs.get('host') or '127.0.0.1', int(kwargs.get('port') or 5550)))
    self.socket.setsockopt(zmq.LINGER, 0)
  def pack(self, **kwargs):
    level = kwargs.get('level') or 'info'
    mtype = kwargs.get('mtype') or 'Gauge'
    name = kwargs.get('name') or 'default'
    value = str(kwargs.get('value') or 1)
    source = kwargs.get('source') or "not_specified"
    timestamp = str(int(float(time())))
    message = '%s|%s|%s|%s|%s|%s' % ( level, mtype, name, value, timestamp, source )
    return message
  def send(self, **kwargs):
    self.socket.send(self.pack(**kwargs).encode())
  def gauge(self, **kwargs):
    self.send(**kwargs)
  def count_me(self, **decargs):
    def inner(f):
      def wrapper(*args, **kwargs):
        ret = f(*args, **kwargs)
        decargs['mtype'] = decargs.get('mtype') or 'Counter'
        decargs['name'] = decargs.get('name') or 'default_counter'
        decargs['value'] = str(decargs.get('value') or 1)
        self.send(**decargs)
        return ret
      return wrapper
    return inner
  def time_me(self, **decargs):
    def inner(f):
      def wrapper(*args, **kwargs):
        start = datetime.now()
        ret = f(*args, **kwargs)
        total = datetime.now() - start
        decargs['mtype'] = decargs.get('mtype') or 'Timer'
        decargs['name'] = decargs.get('name') or 'default_timer'
        decargs['value'] = str(total.seconds + total.microseconds/1000000.00)
        self.send(**decargs)
        return ret
      return wrapper
    return inner

z = Zibrato(port=pub_port)
go = threading.Event()
threading.Thread(target=lambda: (sys.stdin.readline(), go.set()), daemon=True).start()
while not go.is_set():  # until the subscriber is seen to receive
    z.gauge(level='info', name='ready', value=1)
    sleep(0.05)

@z.count_me(level='info', name='hits')
def hit(): pass
@z.count_me(level='info', name='bulk', value=4, source='deathstar')
def bulk(): pass
@z.time_me(level='debug', name='slow')
def slow(): sleep(0.02)
for _ in range(10): hit()
bulk(); bulk()
for _ in range(3): slow()
z.gauge(level='crit', name='temp', value=123)
z.send(level='trace', mtype='Counter', name='unsubscribed', value=1)
z.send(level='info', mtype='Histogram', name='odd', value=1)
z.gauge(level='info', name='done', value=1)
sys.stdin.readline()
`

// Messages built by Zibrato's own client code, through a libzmq broker,
// reach our pure-Go subscriber; the level filter holds.
func TestZibratoClient(t *testing.T) {
	cmd := exec.Command("/usr/bin/python3", "-c", zibratoPy)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() }()
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() {
		t.Fatal("no port from the broker")
	}
	port := strings.TrimSpace(sc.Text())
	if _, err := fmt.Sscan(port, new(int)); err != nil {
		t.Fatalf("broker said %q", port)
	}
	go io.Copy(io.Discard, stdout)

	agg := statsd.NewAgg(100)
	in, err := New(Options{Connect: "tcp://" + net.JoinHostPort("127.0.0.1", port), Levels: []string{"info", "debug", "crit"}, Agg: agg})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Start(); err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	wait := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %+v", what, in.Stats())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	wait("ready", func() bool { return in.Stats().Messages > 0 })
	stdin.Write([]byte("go\n"))
	gauges := func() map[string]float64 {
		_, g, _ := agg.Peek()
		return g
	}
	wait("done", func() bool { return gauges()["done"] == 1 })
	st := in.Stats()
	if st.Rejected[OtherType] != 1 || !st.Connected {
		t.Errorf("stats %+v", st)
	}
	c, _, tm := agg.Peek()
	if c["hits"] != 10 || c["deathstar.bulk"] != 8 || c["unsubscribed"] != 0 {
		t.Errorf("counters %v", c)
	}
	if v := tm["slow"]; len(v) != 3 || v[0] < 20 || v[0] > 2000 {
		t.Errorf("timer samples (ms) %v", v)
	}
	if g := gauges(); g["temp"] != 123 {
		t.Errorf("gauges %v", g)
	}
}
