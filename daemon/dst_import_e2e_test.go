package main

import (
	"fmt"
	"graphmetrics/daemon/daemontest"
	"graphmetrics/parser/testwait"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Daylight saving time through graphmetrics import (see dst_e2e_test.go):
// the zone as `timezone`, an import killed halfway through the second
// occurrence and run again, and the zone database built into the binary.

var lateRE = regexp.MustCompile(` late=(\d+) `)

// importConfig writes a configuration in dir whose timezone is zone. The
// skipped-time import has three lines up to 30 minutes apart, so max_future
// (which holds back an import's records that far ahead of the newest one
// until a later record confirms them) is wider than that.
func importConfig(t *testing.T, dataDir, dir, zone string) string {
	t.Helper()
	cfg := filepath.Join(dir, "gm.toml")
	text := strings.Replace(daemontest.ConfigKeys(dataDir, "", `max_future = "1h"`, ""),
		`timezone = "UTC"`, fmt.Sprintf("timezone = %q", zone), 1)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestDSTImport(t *testing.T) {
	for _, c := range dstCases {
		for _, kill := range []bool{false, true} {
			if kill && c.restart == "" {
				continue
			}
			t.Run(fmt.Sprintf("%s/kill=%v", c.name, kill), func(t *testing.T) {
				dataDir, dir := t.TempDir(), t.TempDir()
				cfg := importConfig(t, dataDir, dir, c.zone)
				lines, split := c.records(t)
				trace := filepath.Join(dir, "trace.log")
				appendFile(t, trace, lines, "")
				rrd := filepath.Join(dataDir, "rrd", "tracelog", "zope1", "acme", "app-8080.rrd")
				args := []string{"-customer", "acme", "-instance", "app-8080", "-host", "zope1"}
				if kill {
					killImportHalfway(t, cfg, args, lines[:split], rrd, rfcUnix(c.restart))
				}
				out := runImportCmd(t, cfg, append(args, trace)...)
				if m := lateRE.FindStringSubmatch(out); m == nil || m[1] != "0" {
					t.Errorf("import: late records:\n%s", out)
				}
				checkMinutes(t, rrd, c)
				if c.restart == "" {
					gap, secs := c.gapLines(t)
					gf := filepath.Join(dir, "gap.log")
					appendFile(t, gf, gap, "")
					out := runImportCmd(t, cfg, "-customer", "acme", "-instance", "gap", "-host", "zope1", gf)
					if !strings.Contains(out, fmt.Sprintf("nonexistent_times=%d", len(gap))) {
						t.Errorf("nonexistent times not counted:\n%s", out)
					}
					checkGap(t, filepath.Join(dataDir, "rrd", "tracelog", "zope1", "acme", "gap.rrd"), secs)
				}
			})
		}
	}
}

// killImportHalfway runs import on a FIFO, writes lines into it and, once
// the RRD file holds seconds of the second occurrence, kills it
// with SIGKILL, the FIFO still open: an import cut off in the middle.
func killImportHalfway(t *testing.T, cfg string, args, lines []string, rrd string, restartAt int64) {
	t.Helper()
	fifo := filepath.Join(t.TempDir(), "trace.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(graphmetricsBin(t), append(append([]string{"import", "-config", cfg}, args...), fifo)...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	if _, err := w.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
	// Import hands lines over 1,024 at a time (about 340 s of this feed),
	// so it has written at least up to a quarter of an hour before
	// restartAt, well into the second occurrence.
	testwait.For(t, 30*time.Second, "the import to write into the second occurrence", func() bool {
		return rrdLastUpdate(rrd) >= restartAt-15*60
	})
	cmd.Process.Kill()
	cmd.Wait()
	if last := rrdLastUpdate(rrd); last > restartAt {
		t.Fatalf("import wrote up to %d, beyond what it was given (%d):\n%s", last, restartAt, out.String())
	}
}

// The zone database is the one built into the binary: import, run where
// /usr/share/zoneinfo is empty (a private mount namespace with a tmpfs
// over it and over GOROOT's copy), reads the New York fall-back exactly as
// with the system's.
func TestDSTImportWithoutZoneinfo(t *testing.T) {
	c := dstCases[0]
	dataDir, dir := t.TempDir(), t.TempDir()
	cfg := importConfig(t, dataDir, dir, c.zone)
	lines, _ := c.records(t)
	trace := filepath.Join(dir, "trace.log")
	appendFile(t, trace, lines, "")
	// Go also looks in GOROOT's lib/time/zoneinfo.zip: hide that too.
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	libTime := filepath.Join(strings.TrimSpace(string(goroot)), "lib", "time")
	script := `for d in /usr/share/zoneinfo "$0"; do mount -t tmpfs none "$d" || exit 1; done &&
		test -z "$(find /usr/share/zoneinfo "$0" -mindepth 1)" && echo hidden && exec "$@"`
	cmd := exec.Command("unshare", "-rm", "sh", "-c", script, libTime, graphmetricsBin(t), "import", "-config", cfg,
		"-customer", "acme", "-instance", "app-8080", "-host", "zope1", trace)
	cmd.Env = append(os.Environ(), "ZONEINFO=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("import without /usr/share/zoneinfo (unshare -rm needs user namespaces): %v\n%s", err, out)
	}
	if !strings.HasPrefix(string(out), "hidden\n") || !strings.Contains(string(out), " late=0 ") {
		t.Errorf("zoneinfo not hidden, or late records:\n%s", out)
	}
	checkMinutes(t, filepath.Join(dataDir, "rrd", "tracelog", "zope1", "acme", "app-8080.rrd"), c)
}
