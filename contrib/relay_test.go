package contrib_test

// The relay configs end to end at a high rate (issue 18): Zope servers'
// datagrams, in the bytes Python's SysLogHandler sends, go to a real
// syslog-ng or rsyslogd running a config from this directory, which
// forwards them over TCP to the real graphmetrics daemon. Every line must
// arrive, be attributed to its instance and be aggregated: counted exactly.

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"graphmetrics/daemon/daemontest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	daemontest.RemoveBin()
	os.Exit(code)
}

// The load: relayRequests requests (a B and an A line each) over
// relayInstances instances, paced at relayRate lines/s in bursts every
// 5 ms. Bounded: 60,000 lines in 3 s.
const (
	relayRequests  = 30_000
	relayInstances = 10
	relayRate      = 20_000
)

// relayDaemon runs graphmetrics with a TCP listener. Lateness is long, so
// a stall of the shared machine cannot make a record late: every line sent
// must count as a record.
func relayDaemon(t *testing.T) *daemontest.Daemon {
	dataDir := t.TempDir()
	cfg := daemontest.Config(dataDir, "")
	if !strings.Contains(cfg, `lateness = "2s"`) {
		t.Fatalf("daemontest.Config changed: %s", cfg)
	}
	d := daemontest.New(t, dataDir, strings.Replace(cfg, `lateness = "2s"`, `lateness = "60s"`, 1))
	d.Start()
	return d
}

// sendZopeDatagrams sends the load to addr over UDP as Python's
// SysLogHandler does for contrib/zope/logging.ini: "<174>" (local5.info),
// "customer instance RECORD" and a NUL, one record a datagram.
func sendZopeDatagrams(t *testing.T, addr string) int {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const burst = relayRate / 200 // lines every 5 ms
	start := time.Now()
	sent := 0
	var buf []byte
	for i := range relayRequests {
		inst := fmt.Sprintf("app-%d", 8080+i%relayInstances)
		at := t0.Add(time.Duration(i) * 100 * time.Microsecond)
		for _, rec := range []string{
			fmt.Sprintf("B %d %s GET /folder/page-%d", i, at.Format("2006-01-02 15:04:05.000000"), i),
			fmt.Sprintf("A %d %s 200 %d", i, at.Add(40*time.Microsecond).Format("2006-01-02 15:04:05.000000"), 1000+i),
		} {
			buf = append(append(append(buf[:0], "<174>acme "+inst+" "...), rec...), 0)
			if _, err := c.Write(buf); err != nil {
				t.Fatalf("after %d datagrams: %v", sent, err)
			}
			sent++
			if sent%burst == 0 {
				time.Sleep(time.Until(start.Add(time.Duration(sent) * time.Second / relayRate)))
			}
		}
	}
	t.Logf("sent %d datagrams in %v", sent, time.Since(start).Round(time.Millisecond))
	return sent
}

// relayHealth is the part of /healthz this test reads.
type relayHealth struct {
	Detail struct {
		Inputs map[string]struct {
			Lines      uint64            `json:"lines"`
			Rejected   map[string]uint64 `json:"rejected"`
			Aggregator struct {
				Records, Late, Future uint64
				Instances             int64
			} `json:"aggregator"`
			Listeners []struct {
				Network  string
				Messages uint64
			} `json:"listeners"`
		} `json:"inputs"`
	} `json:"detail"`
}

// checkRelayed waits until the daemon has taken want lines over TCP (or
// stopped counting), then checks that every one was a record of one of
// the instances, none rejected, late or more, and that the final flush
// wrote each instance's RRD file under the relay's host name.
func checkRelayed(t *testing.T, d *daemontest.Daemon, want int, host string) {
	t.Helper()
	var h relayHealth
	var last uint64
	lastChange := time.Now()
	deadline := time.Now().Add(60 * time.Second)
	for {
		d.HealthInto(&h)
		in := h.Detail.Inputs["syslog"]
		n := in.Aggregator.Records + sum(in.Rejected)
		if n >= uint64(want) {
			break
		}
		if n != last {
			last, lastChange = n, time.Now()
		}
		if time.Since(lastChange) > 10*time.Second || time.Now().After(deadline) {
			break // lost: the checks below say how many
		}
		time.Sleep(100 * time.Millisecond)
	}
	in := h.Detail.Inputs["syslog"]
	var tcp uint64
	for _, l := range in.Listeners {
		if l.Network == "tcp" {
			tcp += l.Messages
		}
	}
	if tcp != uint64(want) || in.Lines != uint64(want) {
		t.Errorf("daemon got %d messages over TCP (%d lines), sent %d", tcp, in.Lines, want)
	}
	if a := in.Aggregator; a.Records != uint64(want) || a.Late != 0 || a.Future != 0 || sum(in.Rejected) > 0 {
		t.Errorf("records %d (late %d, future %d), rejected %v; want %d records", a.Records, a.Late, a.Future, in.Rejected, want)
	}
	d.Stop()
	files, _ := filepath.Glob(filepath.Join(d.DataDir, "rrd", "tracelog", "*", "acme", "app-*.rrd"))
	if len(files) != relayInstances {
		all, _ := filepath.Glob(filepath.Join(d.DataDir, "rrd", "tracelog", "*", "*", "*"))
		t.Fatalf("RRD files %v, want %d instances of acme", all, relayInstances)
	}
	for _, f := range files {
		if got := filepath.Base(filepath.Dir(filepath.Dir(f))); got != host {
			t.Errorf("%s: host %q, want %q", f, got, host)
		}
	}
}

func sum(m map[string]uint64) (n uint64) {
	for _, v := range m {
		n += v
	}
	return n
}

// syslog-ng with graphmetrics-forward-tcp.conf: datagrams in on gm_port,
// RFC 5424 with octet counting out to the daemon's TCP listener.
func TestRelaySyslogNG(t *testing.T) {
	need(t, "syslog-ng")
	d := relayDaemon(t)
	ports := daemontest.FreePorts(t, 2)
	_, target, _ := net.SplitHostPort(d.TCP)
	daemontest.SyslogNG(t, "syslog-ng/graphmetrics-forward-tcp.conf", map[string]string{
		"gm_port": ports[0], "gm_port_5424": ports[1], "gm_target_port": target,
	})
	n := sendZopeDatagrams(t, "127.0.0.1:"+ports[0])
	defer logUDPDrops(t, ports[0])()
	checkRelayed(t, d, n, "127.0.0.1")
}

// rsyslogd with graphmetrics-relay.conf as a drop-in: datagrams in on its
// imudp input, RFC 5424 with octet counting out to the daemon.
func TestRelayRsyslog(t *testing.T) {
	bin := rsyslogd(t)
	d := relayDaemon(t)
	dir := t.TempDir()
	_, target, _ := net.SplitHostPort(d.TCP)
	port := daemontest.FreePorts(t, 1)[0]
	conf := rewrite(t, "rsyslog/graphmetrics-relay.conf", dir, `port="5514"`, `port="`+target+`"`, 1)
	conf = rewrite(t, conf, dir, `port="514"`, `port="`+port+`"`, 1)
	main := filepath.Join(dir, "rsyslog.conf")
	os.WriteFile(main, fmt.Appendf(nil, "global(workDirectory=%q)\ninclude(file=%q)\n", dir, conf), 0o644)
	startRsyslogd(t, bin, main)
	waitUDP(t, "127.0.0.1:"+port)
	n := sendZopeDatagrams(t, "127.0.0.1:"+port)
	defer logUDPDrops(t, port)()
	checkRelayed(t, d, n, "127.0.0.1") // the sender's address, not resolved
}

// waitUDP waits until a socket is bound to the UDP address addr
// (127.0.0.1:port), by /proc/net/udp: binding it to find out would race
// with the daemon that is about to.
func waitUDP(t *testing.T, addr string) {
	t.Helper()
	_, p, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(p)
	local := fmt.Sprintf(" 0100007F:%04X ", port)
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		b, err := os.ReadFile("/proc/net/udp")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), local) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on udp %s", addr)
		}
	}
}

// logUDPDrops returns a function that logs, if the test failed, how many
// datagrams the kernel dropped at the relay's UDP socket (/proc/net/udp),
// to tell loss there from loss further on.
func logUDPDrops(t *testing.T, port string) func() {
	return func() {
		if !t.Failed() {
			return
		}
		p, _ := strconv.Atoi(port)
		local := fmt.Sprintf("0100007F:%04X", p)
		b, _ := os.ReadFile("/proc/net/udp")
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) > 12 && f[1] == local {
				t.Logf("kernel drops at the relay's UDP socket: %s (receive queue %s)", f[12], f[4])
			}
		}
	}
}
