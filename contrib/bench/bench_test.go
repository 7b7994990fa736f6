package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestBracket runs the rate search against a simulated receiver that is
// lossless up to a threshold and a sender that reaches a ceiling.
func TestBracket(t *testing.T) {
	for _, tc := range []struct {
		name              string
		threshold, sender float64
		start             float64
		limitedBy         string
	}{
		{"loss above start", 283_000, 1e9, 100_000, "loss"},
		{"loss below start", 37_000, 1e9, 100_000, "loss"},
		{"sender first", 1e9, 520_000, 100_000, "sender"},
		{"never bad", 1e12, 1e12, 100_000, "cap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := search{}
			b := &bracket{res: &res, start: tc.start}
			steps := 0
			for {
				rate, why := b.next()
				if rate == 0 {
					b.done(why)
					break
				}
				if steps++; steps > 30 {
					t.Fatal("search does not end")
				}
				ach := min(rate, tc.sender)
				// A first try may lose to noise; the second tells.
				noisy := step{Requested: rate, Achieved: ach, Lost: 100}
				b.record(noisy, step{Requested: rate, Achieved: ach, Lossless: ach <= tc.threshold, SenderLimited: ach < 0.97*rate})
			}
			if res.LimitedBy != tc.limitedBy {
				t.Fatalf("limited by %q, want %q (steps %+v)", res.LimitedBy, tc.limitedBy, res.Steps)
			}
			limit := min(tc.threshold, tc.sender)
			switch tc.limitedBy {
			case "loss", "sender":
				if res.MaxLossless > limit || res.FirstBad <= limit*0.97 || res.FirstBad/res.MaxLossless > 1.1 {
					t.Fatalf("bracket [%v, %v] for a limit at %v", res.MaxLossless, res.FirstBad, limit)
				}
			case "cap":
				if res.MaxLossless*2 <= rateCap || res.FirstBad != 0 {
					t.Fatalf("stopped at %v, first bad %v", res.MaxLossless, res.FirstBad)
				}
			}
			if res.BestAchieved < res.MaxLossless*0.97 {
				t.Fatalf("best achieved %v below max lossless %v", res.BestAchieved, res.MaxLossless)
			}
		})
	}
}

var sink int

func TestParseStat(t *testing.T) {
	// A command name with spaces and parentheses, as a process may choose.
	line := []byte("4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 75 0 0 20 0 9 0 100 0 0\n")
	got, err := parseStatCPU(line)
	if err != nil || got != 3.25 {
		t.Fatalf("parseStatCPU = %v, %v; want 3.25", got, err)
	}
	// And this very process, once it has used a few ticks of CPU.
	var cpu float64
	for deadline := time.Now().Add(3 * time.Second); cpu < 0.05 && time.Now().Before(deadline); {
		for i := 0; i < 1e6; i++ {
			sink += i
		}
		if cpu, err = cpuSeconds(os.Getpid()); err != nil {
			t.Fatal(err)
		}
	}
	if cpu < 0.05 {
		t.Fatalf("cpuSeconds(self) = %v after spinning", cpu)
	}
	m, err := memoryOf(os.Getpid())
	if err != nil || m.RSS == 0 || m.HWM < m.RSS {
		t.Fatalf("memoryOf(self) = %+v, %v", m, err)
	}
}

// TestUDPDrops fills a socket nobody reads and expects the kernel's drop
// counter for its port to say so.
func TestUDPDrops(t *testing.T) {
	rc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if err := rc.SetReadBuffer(4096); err != nil {
		t.Fatal(err)
	}
	port := rc.LocalAddr().(*net.UDPAddr).Port
	before, err := udpDrops(port)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := net.DialUDP("udp", nil, rc.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	for range 200 {
		sc.Write(make([]byte, 200))
	}
	after, err := udpDrops(port)
	if err != nil {
		t.Fatal(err)
	}
	if after <= before {
		t.Fatalf("drops %d -> %d after overfilling a 4 KB buffer", before, after)
	}
}

func TestRunningLine(t *testing.T) {
	for _, tc := range []struct{ line, web, udp, tcp string }{
		{`time=x level=INFO msg="graphmetrics running" data_dir=/d web=127.0.0.1:41993 syslog="[udp://127.0.0.1:42204 tcp://127.0.0.1:45165]"`,
			"127.0.0.1:41993", "127.0.0.1:42204", "127.0.0.1:45165"},
		{`time=x level=INFO msg="graphmetrics running" data_dir=/d web=127.0.0.1:1 syslog=[udp://127.0.0.1:2]`,
			"127.0.0.1:1", "127.0.0.1:2", ""},
	} {
		m := runningRE.FindStringSubmatch(tc.line)
		if m == nil || m[1] != tc.web {
			t.Fatalf("%s: %q", tc.line, m)
		}
		d := &daemon{}
		d.addrs(m)
		if d.web != tc.web || d.udp != tc.udp || d.tcp != tc.tcp {
			t.Fatalf("%s: web %q udp %q tcp %q", tc.line, d.web, d.udp, d.tcp)
		}
	}
}

// TestSyslogNGConfig checks the generated file-hop config with syslog-ng
// itself.
func TestSyslogNGConfig(t *testing.T) {
	const bin = "/usr/sbin/syslog-ng"
	if _, err := os.Stat(bin); err != nil {
		t.Skip("syslog-ng is not installed (make deps installs syslog-ng-core)")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "syslog-ng.conf")
	if err := os.WriteFile(conf, []byte(syslogNGConfig(dir, 5514, 5515)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "--syntax-only", "-f", conf).CombinedOutput(); err != nil {
		t.Fatalf("syslog-ng --syntax-only: %v\n%s", err, out)
	}
}

func TestNum(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 283000.4: "283,000", 1234567: "1,234,567", -5884: "-5,884"} {
		if got := num(v); got != want {
			t.Errorf("num(%v) = %q, want %q", v, got, want)
		}
	}
}
