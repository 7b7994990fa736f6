package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"graphmetrics/parser"
)

// print-config prints the defaults; check-config accepts them and names the
// key of a bad value.
func TestConfigCommands(t *testing.T) {
	ctx := t.Context()
	var out, errOut bytes.Buffer
	if err := Run(ctx, []string{"print-config"}, nil, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(t.TempDir(), "printed.toml")
	os.WriteFile(good, out.Bytes(), 0o644)
	out.Reset()
	if err := Run(ctx, []string{"check-config", "-config", good}, nil, &out, &errOut); err != nil || !strings.Contains(out.String(), "config ok") {
		t.Fatalf("check-config of print-config's output: %v %q", err, out.String())
	}
	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("[tracelog]\nflush_interval = \"often\"\n"), 0o644)
	err := Run(ctx, []string{"check-config", "-config", bad}, nil, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "tracelog.flush_interval") {
		t.Errorf("check-config of a bad value: %v", err)
	}
	if err := Run(ctx, []string{"frobnicate"}, nil, &out, &errOut); err == nil {
		t.Error("unknown command accepted")
	}
}

// A zone configured for a host, or for host/customer, overrides the default.
func TestZoneOverrides(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	z := &zones{def: time.UTC, override: map[string]*time.Location{"zope1": ny, "zope1/acme": tokyo}}
	line := []byte("A 1 2009-07-30 15:47:21.349080 200 5")
	for _, c := range []struct {
		host, customer string
		loc            *time.Location
	}{{"zope1", "acme", tokyo}, {"zope1", "other", ny}, {"zope2", "acme", time.UTC}} {
		rec, err := parser.ParseRecord(line, z.lookup([]byte(c.host), []byte(c.customer)))
		if err != nil {
			t.Fatal(err)
		}
		want := time.Date(2009, 7, 30, 15, 47, 21, 349080000, c.loc).UnixMicro()
		if rec.Time != want {
			t.Errorf("%s/%s: time %d, want %d (%s)", c.host, c.customer, rec.Time, want, c.loc)
		}
	}
}
