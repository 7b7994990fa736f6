package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"graphmetrics/parser"
	"graphmetrics/store"
	"graphmetrics/store/sampletest"
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

// The command word is found among flags before it, and flags anywhere
// reach the command's own flag set.
func TestSplitCommandAndParseArgs(t *testing.T) {
	for _, c := range []struct {
		args []string
		cmd  string
		pos  []string
		cfg  string
	}{
		{nil, "", nil, ""},
		{[]string{"-config", "x.toml"}, "", nil, "x.toml"},
		{[]string{"-config", "x.toml", "user", "add", "eve"}, "user", []string{"add", "eve"}, "x.toml"},
		{[]string{"--config=x.toml", "user", "add", "eve"}, "user", []string{"add", "eve"}, "x.toml"},
		{[]string{"user", "add", "-config", "x.toml", "eve"}, "user", []string{"add", "eve"}, "x.toml"},
		{[]string{"user", "add", "eve", "-config", "x.toml"}, "user", []string{"add", "eve"}, "x.toml"},
		{[]string{"-config", "x.toml", "check-config"}, "check-config", nil, "x.toml"},
		{[]string{"-config", "x.toml", "extra"}, "extra", nil, "x.toml"},
		{[]string{"-config", "x.toml", "--", "extra"}, "", []string{"extra"}, "x.toml"},
		{[]string{"run", "-config", "x.toml", "--", "-not-a-flag"}, "run", []string{"-not-a-flag"}, "x.toml"},
	} {
		cmd, rest := splitCommand(slices.Clone(c.args))
		var errOut bytes.Buffer
		fs, cfg := newFlags(cmd, &errOut)
		pos, err := parseArgs(fs, rest)
		if cmd != c.cmd || err != nil || !slices.Equal(pos, c.pos) || *cfg != c.cfg {
			t.Errorf("%q: command %q, args %q, config %q, %v; want %q, %q, %q", c.args, cmd, pos, *cfg, err, c.cmd, c.pos, c.cfg)
		}
	}
	fs, _ := newFlags("x", &bytes.Buffer{})
	if _, err := parseArgs(fs, []string{"a", "-nosuchflag"}); err == nil {
		t.Error("unknown flag accepted")
	}
}

// cliConfig writes a config whose data_dir does not exist yet, so a test
// can tell whether a daemon (or anything else) ever opened it.
func cliConfig(t *testing.T) (cfg, dataDir string) {
	t.Helper()
	dataDir = filepath.Join(t.TempDir(), "data")
	cfg = filepath.Join(t.TempDir(), "gm.toml")
	if err := os.WriteFile(cfg, []byte(testConfig(dataDir, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	return cfg, dataDir
}

// "graphmetrics -config X user add eve" adds a user: flags work before the
// command, after it, and on both sides.
func TestFlagsBeforeAndAfterCommand(t *testing.T) {
	cfg, dataDir := cliConfig(t)
	run := func(stdin string, args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := Run(t.Context(), args, strings.NewReader(stdin), &out, &errOut); err != nil {
			t.Fatalf("%q: %v\n%s", args, err, errOut.String())
		}
		return out.String()
	}
	run("eve-password\n", "-config", cfg, "user", "add", "eve")
	run("bob-password\n", "user", "add", "-config", cfg, "bob")
	run("ann-password\n", "-config="+cfg, "user", "add", "ann")
	list := run("", "user", "list", "-config", cfg)
	for _, name := range []string{"ann", "bob", "eve"} {
		if !strings.Contains(list, name+"\t") {
			t.Errorf("user list lacks %s:\n%s", name, list)
		}
	}
	if out := run("", "-config", cfg, "check-config"); !strings.Contains(out, "config ok") {
		t.Errorf("check-config after -config: %q", out)
	}

	// import, with its flags on both sides of the file.
	run("", "-config", cfg, "import", "-customer", "acme", sampletest.Path(t), "-instance", "app-8080", "-host", "h1")
	if _, err := os.Stat(store.TracelogFile(dataDir, store.Key{Host: "h1", Customer: "acme", Instance: "app-8080"})); err != nil {
		t.Errorf("import with flags around the file: %v", err)
	}
}

// Leftover arguments are an error with the usage, and never start the
// daemon: its data_dir is never created.
func TestLeftoverArgumentsStartNothing(t *testing.T) {
	cfg, dataDir := cliConfig(t)
	for _, args := range [][]string{
		{"-config", cfg, "extra"},
		{"-config", cfg, "run", "extra"},
		{"run", "-config", cfg, "extra"},
		{"-config", cfg, "extra", "run"},
		{"-config", cfg, "--", "extra"},
		{"check-config", "-config", cfg, "extra"},
		{"print-config", "extra"},
		{"render-worker", "extra"},
	} {
		// A daemon that started anyway would run until this times out.
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		var out, errOut bytes.Buffer
		err := Run(ctx, args, strings.NewReader(""), &out, &errOut)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "extra") || !strings.HasPrefix(errOut.String(), "usage: graphmetrics") {
			t.Errorf("%q: error %v, stderr %q", args, err, errOut.String())
		}
		if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
			t.Fatalf("%q: data_dir was created (%v): something ran", args, err)
		}
	}
	var errOut bytes.Buffer
	if err := Run(t.Context(), []string{"-nosuchflag"}, nil, &bytes.Buffer{}, &errOut); err == nil ||
		!strings.Contains(errOut.String(), "usage: graphmetrics") {
		t.Errorf("unknown flag: %v %q", err, errOut.String())
	}
	if err := Run(t.Context(), []string{"-h"}, nil, &bytes.Buffer{}, &bytes.Buffer{}); err != flag.ErrHelp {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
}
