package parser

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Native fuzz tests for every parser of untrusted bytes. Run one with
//
//	go test ./parser/ -run '^$' -fuzz '^FuzzParseSyslog$' -fuzztime 20s
//
// Crashers land in testdata/fuzz/<Fuzz name>/ and stay there as seeds.

// hostileSeeds are inputs known to break naive parsers: go-syslog panics on
// "<13>" and "-5 x".
func hostileSeeds() [][]byte {
	return [][]byte{
		[]byte("<13>"),
		[]byte("-5 x"),
		[]byte("\x00"),
		[]byte("<14>B 1 2009-07-30 15:47:21.5\x00\x00"),
		[]byte("B\x001 2009-07-30 15:47:21.5 \x00x"),
		[]byte("<14>\xff\xfe\xfd acme \xc3 B \xed\xa0\x80 2009-07-30 15:47:21.5 \xc0\xaf"),
		[]byte("<13>Nov 21 22:47:28 host"),
		[]byte("<13>1 - "),
		[]byte("<13>1 2026-11-21T22:47:28Z h a p m [x y=\"\\]\"] b"),
		append([]byte("<14>acme app-8080 B 1 2009-07-30 15:47:21.5 "), bytes.Repeat([]byte("x"), MaxMessageSize)...),
		bytes.Repeat([]byte("B 1 2009-07-30 15:47:21.5 "), MaxMessageSize/26+1),
	}
}

// goldenSeeds are the real captured messages and directory lines.
func goldenSeeds(f *testing.F, kind string) [][]byte {
	paths, err := filepath.Glob(filepath.Join("testdata", kind, "*", "input"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no golden inputs for %s: %v", kind, err)
	}
	var seeds [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, bytes.Split(b, []byte("\n"))...)
		seeds = append(seeds, b)
	}
	return seeds
}

func sentinel(err error) bool {
	return errors.Is(err, ErrMalformedSyslog) || errors.Is(err, ErrBadRecord) ||
		errors.Is(err, ErrBadTime) || errors.Is(err, ErrOversize)
}

func FuzzParseRecord(f *testing.F) {
	for _, s := range hostileSeeds() {
		f.Add(s)
	}
	for _, line := range []string{
		"B 0.-1451819092 2009-07-30 15:47:21.560343 GET /columns/t-jansen",
		"U 000000000 2010-06-10T14:03:21 Zope Ready",
		"E 1 2009-03-08 02:30:00.123456789",
		"A 1 2009-11-01 01:30:00.5 200 1",
		"A 1 2009-11-01T01:59:59 200 1",
		"A 1 2009-02-29 00:00:00 200 ?",
		"- x 2200-12-31 23:59:59.9 custom",
	} {
		f.Add([]byte(line))
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		rec, err := ParseRecord(line, time.UTC)
		if err != nil {
			if !errors.Is(err, ErrBadRecord) && !errors.Is(err, ErrBadTime) {
				t.Fatalf("unexpected error %v", err)
			}
			if rec.Code != 0 || rec.RID != nil || rec.Data != nil || rec.Time != 0 {
				t.Fatalf("record %+v with error", rec)
			}
			if _, err2 := ParseRecord(line, ny); err2 != err {
				t.Fatalf("error depends on the zone: %v vs %v", err, err2)
			}
			return
		}
		if !isCode(rec.Code) || len(rec.RID) == 0 || !within(line, rec.RID) || !within(line, rec.Data) {
			t.Fatalf("bad record %+v", rec)
		}
		// Cross-check the hand-written date arithmetic with package time.
		trimmed := trimTrailer(line)
		start := 2 + len(rec.RID) + 1
		end := len(trimmed) - len(rec.Data)
		if len(rec.Data) > 0 || (end > start && trimmed[end-1] == ' ') {
			end--
		}
		stamp := string(trimmed[start:end])
		layout := "2006-01-02 15:04:05.999999999"
		if stamp[10] == 'T' {
			layout = "2006-01-02T15:04:05.999999999"
		}
		want, perr := time.ParseInLocation(layout, stamp, time.UTC)
		if perr != nil || rec.Time != want.UnixMicro() {
			t.Fatalf("%q: time %d, package time says %v (%v)", stamp, rec.Time, want.UnixMicro(), perr)
		}
		recNY, err := ParseRecord(line, ny)
		wantNY, _ := time.ParseInLocation(layout, stamp, ny)
		if rec.Repeat != 0 || rec.Skipped {
			t.Fatalf("%q in UTC: repeat %d, skipped %v", stamp, rec.Repeat, rec.Skipped)
		}
		// A repeated wall time gives both instants, time.Date's among them.
		if err != nil || (recNY.Time != wantNY.UnixMicro() && recNY.Time+recNY.Repeat != wantNY.UnixMicro()) ||
			recNY.Repeat < 0 || (recNY.Repeat != 0 && recNY.Skipped) {
			t.Fatalf("%q in New York: %d (repeat %d, skipped %v), %v; package time says %d", stamp, recNY.Time,
				recNY.Repeat, recNY.Skipped, err, wantNY.UnixMicro())
		}
	})
}

func FuzzParseSyslog(f *testing.F) {
	for _, s := range hostileSeeds() {
		f.Add(s)
	}
	for _, s := range goldenSeeds(f, "syslog") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		m, err := ParseSyslog(msg)
		if err != nil {
			if !sentinel(err) {
				t.Fatalf("unexpected error %v", err)
			}
			if len(msg) > MaxMessageSize && !errors.Is(err, ErrOversize) {
				t.Fatalf("oversized message gave %v", err)
			}
			return
		}
		if len(msg) > MaxMessageSize {
			t.Fatal("oversized message accepted")
		}
		if !msgWithin(msg, m) {
			t.Fatalf("result does not alias the input: %+v", m)
		}
		if b := m.Body; len(b) > 0 && (b[len(b)-1] == 0 || b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
			t.Fatalf("body keeps its trailer: %q", b)
		}
		checkAttribute(t, m)
	})
}

func FuzzParseDirLine(f *testing.F) {
	for _, s := range hostileSeeds() {
		f.Add(s)
	}
	for _, s := range goldenSeeds(f, "dir") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		m, err := ParseDirLine(line)
		if err != nil {
			if !errors.Is(err, ErrMalformedSyslog) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if !msgWithin(line, m) || len(m.Host) == 0 || bytes.IndexByte(m.Host, ' ') >= 0 {
			t.Fatalf("bad message %+v", m)
		}
		checkAttribute(t, m)
	})
}

func FuzzAttribute(f *testing.F) {
	for _, s := range hostileSeeds() {
		f.Add([]byte(nil), []byte(nil), s)
		f.Add([]byte("acme"), []byte("4242"), s)
	}
	f.Add([]byte("acme"), []byte(""), []byte("app-8080 : B 1 2009-07-30 15:47:21.5"))
	f.Add([]byte("B"), []byte(""), []byte("1 2009-07-30 15:47:21.5"))
	f.Add([]byte(""), []byte(""), []byte("acme app-8080 : B 1 2009-07-30 15:47:21.5"))
	f.Fuzz(func(t *testing.T, tag, procID, body []byte) {
		checkAttribute(t, Message{Tag: tag, ProcID: procID, Body: body})
	})
}

// checkAttribute runs Attribute and ParseRecord on m and checks that the
// results alias m and make sense.
func checkAttribute(t *testing.T, m Message) {
	t.Helper()
	c, i, r, err := Attribute(m)
	if err != nil {
		if !errors.Is(err, ErrMalformedSyslog) || c != nil || i != nil || r != nil {
			t.Fatalf("Attribute(%+v) = %q %q %q %v", m, c, i, r, err)
		}
		return
	}
	if len(c) == 0 || len(i) == 0 || len(r) == 0 {
		t.Fatalf("Attribute(%+v) = %q %q %q: empty part", m, c, i, r)
	}
	if !(within(m.Tag, c) || within(m.Body, c)) || !(within(m.Tag, i) || within(m.ProcID, i) || within(m.Body, i)) || !within(m.Body, r) {
		t.Fatalf("Attribute(%+v) = %q %q %q: not aliasing the message", m, c, i, r)
	}
	if rec, err := ParseRecord(r, time.UTC); err != nil && !sentinel(err) {
		t.Fatalf("ParseRecord(%q) = %+v, %v", r, rec, err)
	}
}
