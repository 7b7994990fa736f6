package main

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"graphmetrics/parser"
)

// testEnv builds graphmetrics and loadgen into a temporary directory.
func testEnv(t *testing.T) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs graphmetrics; skipped with -short")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "graphmetrics")
	cmd := exec.Command("go", "build", "-o", bin, "graphmetrics/daemon")
	cmd.Env = os.Environ()
	if os.Getenv("CGO_CFLAGS") == "" {
		// As the Makefile sets it: ziutek/rrd against librrd 1.7's headers.
		cmd.Env = append(cmd.Env, "CGO_CFLAGS=-O2 -Wno-incompatible-pointer-types")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build daemon: %v\n%s", err, out)
	}
	lg, err := buildLoadgen(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return &env{bin: bin, loadgen: lg, syslogNG: "/usr/sbin/syslog-ng", tmp: dir, step: 2 * time.Second,
		budget: 10 * time.Second, runs: 1, log: slog.New(slog.DiscardHandler)}
}

// TestSteps runs one short step over UDP and one over TCP against the real
// daemon and the bare reader: every line counted, the rate achieved (or the
// sender's shortfall reported as such: on a busy machine the generator
// itself may not get the CPU for 10,000 lines/s), CPU measured; then the
// daemon exits cleanly on SIGTERM.
func TestSteps(t *testing.T) {
	e := testEnv(t)
	ctx := context.Background()
	d, err := startDaemon(ctx, daemonOptions{bin: e.bin, dir: filepath.Join(e.tmp, "d"), udp: true, tcp: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.kill()
	sk, err := startSinkProc(ctx, e.loadgen)
	if err != nil {
		t.Fatal(err)
	}
	defer sk.close()
	for _, r := range []receiver{gmReceiver{d}, sinkReceiver{sk}} {
		for _, tr := range []string{"udp", "tcp"} {
			s, err := e.runStep(ctx, r, load{transport: tr, rate: 10000, duration: 2 * time.Second, instances: 50})
			if err != nil {
				t.Fatal(err)
			}
			t.Log(s)
			if !s.Lossless || s.Sent == 0 || s.Received != s.Sent || s.CPU <= 0 || !s.SenderLimited && s.Sent < 19000 {
				t.Fatalf("%s %s: %+v", r.name(), tr, s)
			}
		}
	}
	h, err := d.health(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lines, rejected, records, late, _ := h.syslog()
	if lines == 0 || rejected != 0 || records != lines || late != 0 {
		t.Fatalf("daemon: %d lines, %d rejected, %d records, %d late", lines, rejected, records, late)
	}
	if _, err := d.stop(time.Minute); err != nil {
		t.Fatal(err)
	}
}

// TestSyslogNGHop sends a stream to the file hop's syslog-ng over both
// transports: every message is a line of its file, in the directory format
// graphmetrics' tailer reads.
func TestSyslogNGHop(t *testing.T) {
	e := testEnv(t)
	if _, err := os.Stat(e.syslogNG); err != nil {
		t.Skip("syslog-ng is not installed (make deps installs syslog-ng-core)")
	}
	ctx := context.Background()
	s, err := startSyslogNG(ctx, e.syslogNG, filepath.Join(e.tmp, "sng"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.stop()
	for _, tr := range []string{"udp", "tcp"} {
		l := load{transport: tr, addr: s.addr(tr), rate: 5000, duration: 2 * time.Second, instances: 20}
		sum, err := runLoad(ctx, e.loadgen, l)
		if err != nil {
			t.Fatal(err)
		}
		n, err := settle(ctx, s, tr, sum.Sent)
		if err != nil {
			t.Fatal(err)
		}
		if n != sum.Sent {
			t.Fatalf("%s: %d lines in the file, %d sent", tr, n, sum.Sent)
		}
		f, err := os.Open(s.files[tr].path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		lines := 0
		for sc.Scan() {
			m, err := parser.ParseDirLine(sc.Bytes())
			if err != nil || string(m.Host) != "127.0.0.1" {
				t.Fatalf("%s: %q: %+v, %v", tr, sc.Text(), m, err)
			}
			cust, inst, rec, err := parser.Attribute(m)
			if err != nil || !strings.HasPrefix(string(inst), "app-") && !strings.HasPrefix(string(inst), "worker") {
				t.Fatalf("%s: %q: customer %q instance %q, %v", tr, sc.Text(), cust, inst, err)
			}
			if _, err := parser.ParseRecord(rec, time.UTC); err != nil {
				t.Fatalf("%s: %q: %v", tr, sc.Text(), err)
			}
			lines++
		}
		f.Close()
		if uint64(lines) != sum.Sent {
			t.Fatalf("%s: parsed %d lines of %d", tr, lines, sum.Sent)
		}
	}
}

// TestURLsOnOff: the urls scenario's two daemons, a short step of
// loadgen -patterns into each: with URL statistics on, the instances'
// dictionaries hold "/app/section-K/items/{n}" patterns; with
// max_patterns = 0 there is no urls/ directory at all.
func TestURLsOnOff(t *testing.T) {
	e := testEnv(t)
	ctx := context.Background()
	for _, off := range []bool{false, true} {
		dir := filepath.Join(e.tmp, fmt.Sprint("urls-off-", off))
		d, err := startDaemon(ctx, daemonOptions{bin: e.bin, dir: dir, udp: true, urlsOff: off,
			tracelog: "new_instances_per_minute = 10000\n"})
		if err != nil {
			t.Fatal(err)
		}
		defer d.kill()
		s, err := e.runStep(ctx, gmReceiver{d}, load{transport: "udp", rate: 5000, duration: 2 * time.Second,
			instances: 20, extra: []string{"-patterns", "30"}})
		if err != nil {
			t.Fatal(err)
		}
		if !s.Lossless || s.Sent == 0 {
			t.Fatalf("off=%v: %+v", off, s)
		}
		if _, err := d.stop(time.Minute); err != nil { // the final flush writes every second
			t.Fatal(err)
		}
		dicts, _ := filepath.Glob(filepath.Join(dir, "data", "urls", "tracelog", "*", "*", "*", "patterns"))
		_, statErr := os.Stat(filepath.Join(dir, "data", "urls"))
		if off {
			if !os.IsNotExist(statErr) {
				t.Fatalf("URL statistics off, yet data/urls: %v", statErr)
			}
			continue
		}
		if len(dicts) != 20 {
			t.Fatalf("%d dictionaries, want one per instance (20)", len(dicts))
		}
		b, err := os.ReadFile(dicts[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if !strings.HasPrefix(p, "/app/section-") || !strings.HasSuffix(p, "/items/{n}") {
				t.Fatalf("pattern %q in %s", p, dicts[0])
			}
		}
	}
}

// TestURLImport runs the urlimport scenario on a small fleet (20
// instances, 200 requests/s, 20 s): the on side's URL table must count
// every request of the log (the scenario checks it, and fails otherwise),
// the off side writes no urls/, and each import's CPU and maxrss are
// measured.
func TestURLImport(t *testing.T) {
	e := testEnv(t)
	e.urlRate = 200
	res, err := e.urlImport(context.Background(), 20, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 2 || res.Runs[0].Off == res.Runs[1].Off || res.Log.Requests < 3900 {
		t.Fatalf("runs %+v, log %+v", res.Runs, res.Log)
	}
	for _, r := range res.Runs {
		if r.CPU <= 0 || r.MaxRSS == 0 || (!r.Off && r.Counted != res.Log.Requests) {
			t.Fatalf("run %+v", r)
		}
	}
	if res.Ratio <= 0 || len(res.Ratios) != 1 {
		t.Fatalf("ratio %v of %v", res.Ratio, res.Ratios)
	}
}
