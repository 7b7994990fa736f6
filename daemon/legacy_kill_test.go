package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"graphmetrics/parser/testwait"
	"graphmetrics/store/rrdraw"
)

// copyLegacy makes n copies of the legacy file src in a new directory,
// named 127.0.0.1__acme__i<k>.rrd.
func copyLegacy(t testing.TB, src string, n int) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for k := range n {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("127.0.0.1__acme__i%d.rrd", k)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// tracelogRRDs lists every file below data_dir's tracelog tree.
func tracelogRRDs(t testing.TB, dataDir string) (rrds, other []string) {
	t.Helper()
	filepath.Walk(filepath.Join(dataDir, "rrd", "tracelog"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			if strings.HasSuffix(p, ".rrd") {
				rrds = append(rrds, p)
			} else {
				other = append(other, p)
			}
		}
		return nil
	})
	return rrds, other
}

// A SIGKILL in the middle of an import leaves every tracelog file whole
// (librrd and rrdraw read it); the next import finishes the job.
func TestImportLegacyKill(t *testing.T) {
	now := time.Now().Unix()
	end := now - now%60 - 15*60
	src := filepath.Join(t.TempDir(), "h__c__i.rrd")
	makeLegacyFile(t, src, end, 30*1440)
	const n = 150
	dir := copyLegacy(t, src, n)
	dataDir := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "gm.toml")
	os.WriteFile(cfg, []byte(testConfig(dataDir, "")), 0o644)

	cmd := exec.Command(graphmetricsBin(t), "import-legacy", "-config", cfg, dir)
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 60*time.Second, "some files imported", func() bool {
		rrds, _ := tracelogRRDs(t, dataDir)
		return len(rrds) >= 5
	})
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	rrds, _ := tracelogRRDs(t, dataDir)
	if len(rrds) == n {
		t.Fatalf("the import finished before the kill; nothing tested")
	}
	checkWhole(t, rrds)

	out := runLegacyCmd(t, cfg, dir)
	m := regexp.MustCompile(`files=(\d+) imported=(\d+) unchanged=(\d+) skipped=0`).FindStringSubmatch(out)
	if m == nil || m[1] != fmt.Sprint(n) || m[3] != fmt.Sprint(len(rrds)) {
		t.Fatalf("import after the kill (%d files were done):\n%s", len(rrds), out)
	}
	rrds, other := tracelogRRDs(t, dataDir)
	if len(rrds) != n || len(other) != 0 {
		t.Fatalf("%d files, leftovers %v", len(rrds), other)
	}
	checkLegacyRows(t, src, rrds[0], end, end)
	checkLegacyRows(t, src, rrds[n-1], end, end)
}

// checkWhole fails unless rrdraw and librrd read every file whole.
func checkWhole(t *testing.T, rrds []string) {
	t.Helper()
	for _, p := range rrds {
		b, err := os.ReadFile(p)
		if err == nil {
			_, err = rrdraw.Parse(b)
		}
		if err != nil {
			t.Fatalf("%s after SIGKILL: %v", p, err)
		}
		if out, err := exec.Command("rrdtool", "info", p).CombinedOutput(); err != nil {
			t.Fatalf("rrdtool info %s after SIGKILL: %v\n%s", p, err, out)
		}
	}
}
