package config

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"graphmetrics/etc"
)

func TestBadConfigs(t *testing.T) {
	files, err := filepath.Glob("testdata/*.bad.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no bad configs: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := bytes.Cut(b, []byte("\n"))
			want, ok := strings.CutPrefix(string(first), "# want: ")
			if !ok {
				t.Fatalf("%s: first line must be '# want: ERROR TEXT'", f)
			}
			_, err = Parse("bad.toml", b)
			if err == nil {
				t.Fatalf("no error, want %q", want)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		})
	}
}

// The shipped example must parse and equal the defaults, since it says it
// shows every default.
func TestExampleIsDefault(t *testing.T) {
	c, err := Parse("etc/graphmetrics.toml", etc.DefaultConfig)
	if err != nil {
		t.Fatal(err)
	}
	if d := Default(); !reflect.DeepEqual(c, d) {
		t.Errorf("etc/graphmetrics.toml differs from Default():\n got %+v\nwant %+v", c, d)
	}
}

// Every option of Default must appear in the example, with a comment above.
func TestExampleDocumentsEveryKey(t *testing.T) {
	out, err := Default().TOML()
	if err != nil {
		t.Fatal(err)
	}
	example := string(etc.DefaultConfig)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		key, _, ok := strings.Cut(line, " =")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		// Arrays of tables (kinesis.streams) are documented as commented examples.
		if !strings.Contains(example, "\n"+key+" = ") && !strings.Contains(example, "."+key+"]]") {
			t.Errorf("key %q is not in etc/graphmetrics.toml", key)
		}
	}
}

func TestSpecExample(t *testing.T) {
	spec := `
data_dir = "var"
timezone = "Local"
[syslog]
udp = ["127.0.0.1:5514"]
tcp = ["127.0.0.1:5514"]
[tail]
paths = []
[tracelog]
lateness = "5s"
flush_interval = "10s"
idle_timeout = "5m"
[kinesis]
region = "us-east-1"
endpoint = ""
[[kinesis.streams]]
name = "cimaa.metrics"
start = "trim_horizon"
step = "60s"
[web]
listen = "127.0.0.1:8080"
`
	c, err := Parse("spec", []byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Kinesis.Streams) != 1 || c.Kinesis.Streams[0].Step.Duration != time.Minute {
		t.Errorf("streams = %+v", c.Kinesis.Streams)
	}
	if c.Tracelog.IdleTimeout.Duration != 5*time.Minute {
		t.Errorf("idle_timeout = %v", c.Tracelog.IdleTimeout)
	}
}

func TestPrintConfigRoundTrip(t *testing.T) {
	c := Default()
	c.Syslog.UDP = []string{}
	c.Kinesis.Streams = []Stream{{Name: "a", Start: "latest", Step: Duration{time.Minute}}}
	out, err := c.TOML()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("printed", out)
	if err != nil {
		t.Fatalf("printed config does not parse: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(back, c) {
		t.Errorf("round trip changed config:\n got %+v\nwant %+v", back, c)
	}
}

// TestURLsOff: max_patterns = 0 is valid and turns URL statistics off.
func TestURLsOff(t *testing.T) {
	c, err := Parse("off.toml", []byte("[tracelog.urls]\nmax_patterns = 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Tracelog.URLs.MaxPatterns != 0 {
		t.Fatalf("max_patterns = %d, want 0", c.Tracelog.URLs.MaxPatterns)
	}
}
