package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"graphmetrics/parser/testwait"
	"graphmetrics/store/sampletest"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"graphmetrics/web"
	"graphmetrics/web/render"
)

var nan = math.NaN()

// TestMain lets this test binary serve as the render worker of in-process
// daemons (the web pool re-executes os.Executable()).
func TestMain(m *testing.M) {
	if os.Getenv(render.EnvWorker) == "1" {
		if err := web.RenderWorkerMain(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func utc(s string) int64 {
	tm, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return tm.Unix()
}

// checkSampleRRD asserts that file holds the sample's per-minute values, read
// back with the rrdtool command: sums of the 1-second archive for every
// minute, the 1-minute AVERAGE row at M+60 (exactly minute M) for every
// complete minute, and levels at each minute's last second.
func checkSampleRRD(t *testing.T, file string) {
	t.Helper()
	name := filepath.Base(file)
	first := utc("2009-07-30 15:47")
	mins := rrdFetch(t, file, "AVERAGE", 60, first, first+8*60)
	secs := rrdFetch(t, file, "AVERAGE", 1, first, first+8*60)
	lastSec := utc("2009-07-30 15:54") + 56 // the log's last record
	for _, w := range sampletest.Minutes {
		m := utc("2009-07-30 " + w.At)
		check := func(what string, got, want float64) {
			t.Helper()
			if math.IsNaN(got) || math.Abs(got-want) > 1e-6 {
				t.Errorf("%s %s %s = %.6f, want %.6f", name, w.At, what, got, want)
			}
		}
		sum := map[string]float64{}
		for s := m; s < m+60 && s <= lastSec; s++ {
			for ds, v := range secs[s+1] { // the update at s+1 is second s
				sum[ds] += v
			}
		}
		for ds, want := range map[string]float64{"requests": float64(w.Requests), "errors": float64(w.Errors), "app_n": float64(w.AppN), "app_sum": w.AppSum} {
			check(ds+" (1 s rows)", sum[ds], want)
			if m+60 <= lastSec {
				check(ds+" (1 min row)", mins[m+60][ds]*60, want)
			}
		}
		if m+60 <= lastSec { // the log ends at 15:54:56: nothing after it is written
			check("waiting at :59", secs[m+60]["waiting"], float64(w.Waiting))
			check("busy at :59", secs[m+60]["busy"], float64(w.Busy))
		}
	}
}

// sendLogger sends each line through util-linux logger with flags.
func sendLogger(t *testing.T, addr, prefix string, lines []string, flags ...string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	f := filepath.Join(t.TempDir(), "lines")
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(prefix + l + "\n")
	}
	if err := os.WriteFile(f, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"-n", host, "-P", port, "-t", "zope", "-f", f}, flags...)
	if out, err := exec.Command("logger", args...).CombinedOutput(); err != nil {
		t.Fatalf("logger %v: %v\n%s", flags, err, out)
	}
}

func findRRD(t *testing.T, dataDir, customer, instance string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dataDir, "rrd", "tracelog", "*", customer, instance+".rrd"))
	if len(m) != 1 {
		t.Fatalf("want one RRD for %s/%s, found %v", customer, instance, m)
	}
	return m[0]
}

// The sample sent by every real client the spec names lands in RRD files
// with exactly SPEC §3's values, and SIGTERM writes every pending bucket.
func TestEndToEndSyslogClients(t *testing.T) {
	dataDir := t.TempDir()
	d := startDaemon(t, dataDir, testConfig(dataDir, ""))
	lines := sampleLines(t)
	senders := []struct {
		instance string
		send     func(prefix string)
	}{
		{"py-udp", func(p string) { sendPython(t, "udp", d.UDP, p, lines) }},
		{"py-tcp", func(p string) { sendPython(t, "tcp", d.TCP, p, lines) }},
		{"logger-3164-udp", func(p string) { sendLogger(t, d.UDP, p, lines, "--udp", "--rfc3164") }},
		{"logger-5424-udp", func(p string) { sendLogger(t, d.UDP, p, lines, "--udp", "--rfc5424") }},
		{"logger-3164-tcp", func(p string) { sendLogger(t, d.TCP, p, lines, "--tcp", "--rfc3164") }},
		{"logger-5424-octet", func(p string) { sendLogger(t, d.TCP, p, lines, "--tcp", "--rfc5424", "--octet-count") }},
	}
	for _, s := range senders {
		s.send("acme " + s.instance + " ")
	}
	want := uint64(len(lines) * len(senders))
	testwait.For(t, 10*time.Second, "every line received", func() bool {
		_, h := d.Health()
		return h.Detail.Inputs["syslog"].Lines >= want
	})
	d.Stop()
	for _, s := range senders {
		t.Run(s.instance, func(t *testing.T) {
			checkSampleRRD(t, findRRD(t, dataDir, "acme", s.instance))
		})
	}
	if !strings.Contains(d.Log(), "shutting down") {
		t.Errorf("no shutdown log line")
	}
}

// Hostile input never stops the daemon, is counted by reason, and good
// lines sent afterwards are all counted.
func TestHostileInput(t *testing.T) {
	dataDir := t.TempDir()
	cfg := strings.Replace(testConfig(dataDir, ""), "[syslog]\n", "[syslog]\nmax_message = 4096\n", 1)
	d := startDaemon(t, dataDir, cfg)

	udp, err := net.Dial("udp", d.UDP)
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	junk := make([]byte, 512)
	for i := 0; i < 100; i++ {
		rand.Read(junk)
		udp.Write(junk)
	}
	for _, m := range []string{"<13>", "-5 x", "<13>acme x Q 1 2009-13-45 99:99:99", "acme x A 1 2009-07-30 15:47:\xff\xfe 200 1"} {
		udp.Write([]byte(m))
	}
	udp.Write(make([]byte, 10000)) // oversized datagram (max_message 4096)

	for i := 0; i < 1000; i++ { // connections opened and dropped
		c, err := net.Dial("tcp", d.TCP)
		if err != nil {
			t.Fatalf("connection %d refused: %v", i, err)
		}
		c.Close()
	}
	// Under load the daemon may not have seen all of them close yet; past
	// max_conns_per_source open ones it would refuse the next connection.
	testwait.For(t, 10*time.Second, "the dropped connections closed", func() bool {
		_, h := d.Health()
		for _, l := range h.Detail.Inputs["syslog"].Listeners {
			if l.ConnsOpen > 0 {
				return false
			}
		}
		return true
	})
	c, err := net.Dial("tcp", d.TCP)
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("<13>\n-5 x\n"))
	rand.Read(junk)
	c.Write(junk)
	c.Write([]byte("\n" + strings.Repeat("x", 1<<20) + "\n")) // a 1 MiB line
	c.Close()

	if code, h := d.Health(); code != 200 || !h.OK {
		t.Fatalf("after hostile input: healthz %d %+v", code, h)
	}
	sendPython(t, "udp", d.UDP, "acme after ", sampleLines(t))
	testwait.For(t, 10*time.Second, "good lines after the junk", func() bool {
		_, h := d.Health()
		return h.Detail.Inputs["syslog"].Aggregator.Records >= 209
	})
	_, h := d.Health()
	in := h.Detail.Inputs["syslog"]
	if in.Aggregator.Records != 209 {
		t.Errorf("records aggregated = %d, want the 209 good ones", in.Aggregator.Records)
	}
	if in.Rejected["malformed_syslog"] == 0 || in.Rejected["bad_record"] == 0 || in.Rejected["bad_time"] == 0 {
		t.Errorf("rejects not counted: %v", in.Rejected)
	}
	// The 1 MiB TCP line is counted when its connection's reader gets to
	// it, which may be after the UDP lines above have landed.
	oversize := func() (n uint64) {
		_, h := d.Health()
		for _, l := range h.Detail.Inputs["syslog"].Listeners {
			n += l.Oversize
		}
		return n
	}
	testwait.For(t, 10*time.Second, "the datagram and the 1 MiB line counted oversize", func() bool {
		return oversize() >= 2
	})
	d.Stop()
	checkSampleRRD(t, findRRD(t, dataDir, "acme", "after"))
}

// Starting and stopping the daemon in-process leaks no goroutines and
// releases its ports, so they can be bound again at once.
func TestStartStopLoop(t *testing.T) {
	ports := freePorts(t, 2)
	dataDir := t.TempDir()
	cfgFile := filepath.Join(t.TempDir(), "gm.toml")
	cfg := strings.NewReplacer(`"127.0.0.1:0"]`, `"127.0.0.1:`+ports[0]+`"]`, `listen = "127.0.0.1:0"`, `listen = "127.0.0.1:`+ports[1]+`"`).
		Replace(testConfig(dataDir, ""))
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	base := runtime.NumGoroutine()
	for i := 0; i < 5; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- Run(ctx, []string{"-config", cfgFile}, strings.NewReader(""), io_discard{}, io_discard{})
		}()
		addr := "127.0.0.1:" + ports[0]
		testwait.For(t, 10*time.Second, "web listener (started last)", func() bool {
			c, err := net.Dial("tcp", "127.0.0.1:"+ports[1])
			if err == nil {
				c.Close()
			}
			return err == nil
		})
		// A client stays connected across the stop.
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("<13>acme loop B 1 2009-07-30 15:47:18 GET /\n"))
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("iteration %d: %v", i, err)
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("iteration %d: Run did not return after cancel", i)
		}
		c.Close()
	}
	testwait.For(t, 5*time.Second, fmt.Sprintf("goroutines back to %d", base), func() bool {
		return runtime.NumGoroutine() <= base+2
	})
}

type io_discard struct{}

func (io_discard) Write(b []byte) (int, error) { return len(b), nil }
