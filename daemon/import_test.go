package main

import (
	"compress/gzip"
	"graphmetrics/store/sampletest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func runImportCmd(t *testing.T, cfg string, args ...string) string {
	t.Helper()
	out, err := exec.Command(graphmetricsBin(t), append([]string{"import", "-config", cfg}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("import %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// import replays a plain trace.log into the same files as live input, and a
// second replay changes nothing.
func TestImportIdempotent(t *testing.T) {
	dataDir := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "gm.toml")
	if err := os.WriteFile(cfg, []byte(testConfig(dataDir, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	sample := sampletest.Path(t)
	out := runImportCmd(t, cfg, "-customer", "acme", "-instance", "imported", "-host", "zope1", sample)
	file := filepath.Join(dataDir, "rrd", "tracelog", "zope1", "acme", "imported.rrd")
	checkSampleRRD(t, file)
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "rows_written=") {
		t.Fatalf("no summary line:\n%s", out)
	}

	out = runImportCmd(t, cfg, "-customer", "acme", "-instance", "imported", "-host", "zope1", sample)
	if !regexp.MustCompile(`rows_written=0 rows_already_present=[1-9]`).MatchString(out) {
		t.Errorf("second import wrote rows:\n%s", out)
	}
	after, _ := os.ReadFile(file)
	if string(before) != string(after) {
		t.Errorf("second import changed the file")
	}
	checkSampleRRD(t, file)
}

// Directory-format files, gzipped or not, with an oversized line among them.
func TestImportDirFormat(t *testing.T) {
	dataDir := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "gm.toml")
	if err := os.WriteFile(cfg, []byte(testConfig(dataDir, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i, l := range sampleLines(t) {
		if i == 100 {
			b.WriteString("zope2 acme big " + strings.Repeat("x", 2<<20) + "\n")
		}
		b.WriteString("zope2 acme dir-plain : " + l + "\n")
	}
	plain := filepath.Join(t.TempDir(), "trace.log")
	os.WriteFile(plain, []byte(b.String()), 0o644)
	gz := filepath.Join(t.TempDir(), "trace.log.1.gz")
	f, _ := os.Create(gz)
	zw := gzip.NewWriter(f)
	zw.Write([]byte(strings.ReplaceAll(b.String(), "dir-plain", "dir-gz")))
	zw.Close()
	f.Close()

	out := runImportCmd(t, cfg, "-dir", plain, gz)
	if !strings.Contains(out, "oversize=2") {
		t.Errorf("oversized lines not counted:\n%s", out)
	}
	checkSampleRRD(t, filepath.Join(dataDir, "rrd", "tracelog", "zope2", "acme", "dir-plain.rrd"))
	checkSampleRRD(t, filepath.Join(dataDir, "rrd", "tracelog", "zope2", "acme", "dir-gz.rrd"))
}

// A second process on the same data_dir is refused.
func TestDataDirLock(t *testing.T) {
	dataDir := t.TempDir()
	startDaemon(t, dataDir, testConfig(dataDir, ""))
	cfg := filepath.Join(t.TempDir(), "gm.toml")
	os.WriteFile(cfg, []byte(testConfig(dataDir, "")), 0o644)
	out, err := exec.Command(graphmetricsBin(t), "import", "-config", cfg, "-customer", "a", "-instance", "b",
		sampletest.Path(t)).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use by another graphmetrics") {
		t.Errorf("import beside a running daemon: %v\n%s", err, out)
	}
}

// user add takes the config flag before or after the subcommand.
func TestUserCommandFlags(t *testing.T) {
	dataDir := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "gm.toml")
	os.WriteFile(cfg, []byte(testConfig(dataDir, "")), 0o644)
	for _, args := range [][]string{
		{"user", "add", "alice", "-config", cfg},
		{"user", "-config", cfg, "add", "bob"},
	} {
		cmd := exec.Command(graphmetricsBin(t), args...)
		cmd.Stdin = strings.NewReader("correct horse battery\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	out, err := exec.Command(graphmetricsBin(t), "user", "list", "-config", cfg).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "alice") || !strings.Contains(string(out), "bob") {
		t.Errorf("user list: %v\n%s", err, out)
	}
	// API tokens: the last line is the token; -revoke in either place.
	out, err = exec.Command(graphmetricsBin(t), "user", "token", "alice", "-config", cfg).Output()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if err != nil || !strings.HasPrefix(lines[len(lines)-1], "gmt_") {
		t.Errorf("user token: %v\n%s", err, out)
	}
	for _, args := range [][]string{{"user", "token", "alice", "-revoke", "-config", cfg}, {"user", "-revoke", "-config", cfg, "token", "alice"}} {
		out, err = exec.Command(graphmetricsBin(t), args...).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "revoked") {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
	}
}

// A second daemon on the same data_dir is refused, and a data_dir that
// cannot be made is a clear start-up error.
func TestSecondDaemonAndBadDataDir(t *testing.T) {
	dataDir := t.TempDir()
	startDaemon(t, dataDir, testConfig(dataDir, ""))
	cfg := filepath.Join(t.TempDir(), "gm.toml")
	os.WriteFile(cfg, []byte(testConfig(dataDir, "")), 0o644)
	out, err := exec.Command(graphmetricsBin(t), "-config", cfg).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use by another graphmetrics") {
		t.Errorf("second daemon: %v\n%s", err, out)
	}

	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, nil, 0o644)
	bad := filepath.Join(file, "var") // a directory inside a plain file
	os.WriteFile(cfg, []byte(testConfig(bad, "")), 0o644)
	out, err = exec.Command(graphmetricsBin(t), "-config", cfg).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "data_dir") {
		t.Errorf("unusable data_dir: %v\n%s", err, out)
	}
}
