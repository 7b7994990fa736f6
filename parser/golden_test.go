package parser

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*/*/expected from the parser's output (review the diff!)")

// Golden folders, telegraf style: testdata/syslog/<case>/input holds one
// syslog message exactly as a listener receives it (one datagram, or one
// frame without its octet count or terminator), testdata/dir/<case>/input a
// syslog-ng directory file. expected is what the whole chain makes of it:
// the message, its attribution and its record, read in UTC. Most inputs are
// real bytes captured by testdata/capture.py; the made-* cases are written
// by hand for shapes no installed client sends (see testdata/README).

func TestGoldenSyslog(t *testing.T) {
	golden(t, "syslog", func(in []byte) string {
		var out bytes.Buffer
		m, err := ParseSyslog(in)
		describe(&out, m, err)
		return out.String()
	})
}

func TestGoldenDir(t *testing.T) {
	golden(t, "dir", func(in []byte) string {
		var out bytes.Buffer
		for i, line := range bytes.SplitAfter(in, []byte("\n")) {
			if len(line) == 0 {
				continue
			}
			fmt.Fprintf(&out, "line %d: %q\n", i+1, line)
			m, err := ParseDirLine(line)
			describe(&out, m, err)
		}
		return out.String()
	})
}

func golden(t *testing.T, kind string, run func([]byte) string) {
	dirs, err := filepath.Glob(filepath.Join("testdata", kind, "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatalf("no golden cases under testdata/%s", kind)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join(dir, "input"))
			if err != nil {
				t.Fatal(err)
			}
			got := run(in)
			path := filepath.Join(dir, "expected")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("input %q\ngot:\n%s\nwant:\n%s", in, got, want)
			}
		})
	}
}

// describe writes the message, and if it parsed, its attribution and record.
func describe(out *bytes.Buffer, m Message, err error) {
	if err != nil {
		fmt.Fprintf(out, "message error: %v\n", err)
		return
	}
	fmt.Fprintf(out, "host=%q tag=%q procid=%q\nbody=%q\n", m.Host, m.Tag, m.ProcID, m.Body)
	customer, instance, record, err := Attribute(m)
	if err != nil {
		fmt.Fprintf(out, "attribute error: %v\n", err)
		return
	}
	fmt.Fprintf(out, "customer=%q instance=%q\n", customer, instance)
	rec, err := ParseRecord(record, time.UTC)
	if err != nil {
		fmt.Fprintf(out, "record %q error: %v\n", record, err)
		return
	}
	fmt.Fprintf(out, "record code=%c rid=%q time=%s data=%q\n", rec.Code, rec.RID,
		time.UnixMicro(rec.Time).UTC().Format("2006-01-02T15:04:05.000000Z"), rec.Data)
}
