package parser

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // zones for the DST tests, whatever the machine has installed
)

const samplePath = "../testdata/zservertracelog-sample.log"

// utcMicro is the expected Record.Time of a wall time read in UTC.
func utcMicro(y int, mo time.Month, d, h, mi, s, us int) int64 {
	return time.Date(y, mo, d, h, mi, s, us*1000, time.UTC).UnixMicro()
}

func TestParseRecord(t *testing.T) {
	tests := []struct {
		line string
		want Record
	}{
		{"B 0.-1451819092 2009-07-30 15:47:21.560343 GET /columns/t-jansen",
			Record{'B', []byte("0.-1451819092"), utcMicro(2009, 7, 30, 15, 47, 21, 560343), []byte("GET /columns/t-jansen")}},
		{"I 1 2009-07-30 15:47:21.560343 0", Record{'I', []byte("1"), utcMicro(2009, 7, 30, 15, 47, 21, 560343), []byte("0")}},
		{"C 1 2009-07-30 15:47:21.5", Record{'C', []byte("1"), utcMicro(2009, 7, 30, 15, 47, 21, 500000), []byte{}}},
		{"A 1 2009-07-30 15:47:21.349080 200 OK 1332", Record{'A', []byte("1"), utcMicro(2009, 7, 30, 15, 47, 21, 349080), []byte("200 OK 1332")}},
		{"A 1 2009-07-30 15:47:21.349080 Error: boom", Record{'A', []byte("1"), utcMicro(2009, 7, 30, 15, 47, 21, 349080), []byte("Error: boom")}},
		// Fraction left out when zero, as Python's datetime.isoformat does.
		{"E 1 2009-07-30 15:47:22", Record{'E', []byte("1"), utcMicro(2009, 7, 30, 15, 47, 22, 0), []byte{}}},
		{"E 1 2009-07-30 15:47:22 Error: x", Record{'E', []byte("1"), utcMicro(2009, 7, 30, 15, 47, 22, 0), []byte("Error: x")}},
		// Nine digits: nanoseconds truncated to microseconds.
		{"D 1 2009-07-30 15:47:21.123456789 302 0", Record{'D', []byte("1"), utcMicro(2009, 7, 30, 15, 47, 21, 123456), []byte("302 0")}},
		{"S 0 2009-07-30 15:47:21.000001", Record{'S', []byte("0"), utcMicro(2009, 7, 30, 15, 47, 21, 1), []byte{}}},
		{"X 0 2200-12-31 23:59:59.999999", Record{'X', []byte("0"), utcMicro(2200, 12, 31, 23, 59, 59, 999999), []byte{}}},
		// Old Zope 2: 'T' and whole seconds.
		{"U 000000000 2010-06-10T14:03:21 Zope Ready to handle requests", Record{'U', []byte("000000000"), utcMicro(2010, 6, 10, 14, 3, 21, 0), []byte("Zope Ready to handle requests")}},
		{"B 42 2010-06-10T14:03:21 GET /", Record{'B', []byte("42"), utcMicro(2010, 6, 10, 14, 3, 21, 0), []byte("GET /")}},
		// Extension records are returned as they are.
		{"- 7 2009-07-30 15:47:21.560343 custom text", Record{'-', []byte("7"), utcMicro(2009, 7, 30, 15, 47, 21, 560343), []byte("custom text")}},
		{"Z 7 2009-07-30 15:47:21.560343", Record{'Z', []byte("7"), utcMicro(2009, 7, 30, 15, 47, 21, 560343), []byte{}}},
		// Data keeps everything after one space, and trailers are trimmed.
		{"A 1 2009-07-30 15:47:21.1  200 ?", Record{'A', []byte("1"), utcMicro(2009, 7, 30, 15, 47, 21, 100000), []byte(" 200 ?")}},
		{"A 1 2009-07-30 15:47:21.1 200 ?\r\n\x00", Record{'A', []byte("1"), utcMicro(2009, 7, 30, 15, 47, 21, 100000), []byte("200 ?")}},
		{"A 1 2009-07-30 15:47:21.1 \n", Record{'A', []byte("1"), utcMicro(2009, 7, 30, 15, 47, 21, 100000), []byte{}}},
		// Leap day, epoch, Unicode in the data.
		{"B 1 2012-02-29 00:00:00 GET /\xc3\xa9", Record{'B', []byte("1"), utcMicro(2012, 2, 29, 0, 0, 0, 0), []byte("GET /\xc3\xa9")}},
		{"B 1 1970-01-01 00:00:00 x", Record{'B', []byte("1"), 0, []byte("x")}},
		{"B 1 2000-02-29 12:00:00 x", Record{'B', []byte("1"), utcMicro(2000, 2, 29, 12, 0, 0, 0), []byte("x")}},
	}
	for _, tt := range tests {
		got, err := ParseRecord([]byte(tt.line), time.UTC)
		if err != nil {
			t.Errorf("ParseRecord(%q): %v", tt.line, err)
			continue
		}
		if got.Code != tt.want.Code || !bytes.Equal(got.RID, tt.want.RID) || got.Time != tt.want.Time || !bytes.Equal(got.Data, tt.want.Data) {
			t.Errorf("ParseRecord(%q) = {%c %q %d %q}, want {%c %q %d %q}", tt.line,
				got.Code, got.RID, got.Time, got.Data, tt.want.Code, tt.want.RID, tt.want.Time, tt.want.Data)
		}
	}
}

func TestParseRecordErrors(t *testing.T) {
	tests := []struct {
		line string
		want error
	}{
		{"", ErrBadRecord},
		{"\r\n", ErrBadRecord},
		{"B", ErrBadRecord},
		{"B ", ErrBadRecord},
		{"B 1", ErrBadRecord},
		{"B " + strings.Repeat("r", MaxRID+1) + " 2009-07-30 15:47:21", ErrBadRecord},
		{"B 1 ", ErrBadRecord},
		{"BB 1 2009-07-30 15:47:21.5", ErrBadRecord},
		{" B 1 2009-07-30 15:47:21.5", ErrBadRecord},
		{"\x01 1 2009-07-30 15:47:21.5", ErrBadRecord},
		{"\xc3 1 2009-07-30 15:47:21.5", ErrBadRecord},
		{"B  2009-07-30 15:47:21.5", ErrBadRecord},       // empty RID
		{"B 1  2009-07-30 15:47:21.5", ErrBadRecord},     // double space
		{"B a\tb 2009-07-30 15:47:21.5", ErrBadRecord},   // control char in RID
		{"B a\x00b 2009-07-30 15:47:21.5", ErrBadRecord}, // NUL in RID
		{"B 1 2009-07-30", ErrBadTime},
		{"B 1 2009-07-30 15:47", ErrBadTime},
		{"B 1 GET /index.html HTTP/1.1", ErrBadTime},
		{"B 1 2009-13-30 15:47:21.5", ErrBadTime},
		{"B 1 2009-00-30 15:47:21.5", ErrBadTime},
		{"B 1 2009-02-30 15:47:21.5", ErrBadTime},
		{"B 1 2009-02-29 15:47:21.5", ErrBadTime}, // not a leap year
		{"B 1 1900-02-29 15:47:21.5", ErrBadTime},
		{"B 1 2009-04-31 15:47:21.5", ErrBadTime},
		{"B 1 2009-07-00 15:47:21.5", ErrBadTime},
		{"B 1 2009-07-30 25:47:21.5", ErrBadTime},
		{"B 1 2009-07-30 24:00:00", ErrBadTime},
		{"B 1 2009-07-30 15:60:21.5", ErrBadTime},
		{"B 1 2009-07-30 15:47:60", ErrBadTime},
		{"B 1 1969-12-31 23:59:59", ErrBadTime},
		{"B 1 2201-01-01 00:00:00", ErrBadTime},
		{"B 1 2009-07-30 15:47:2x", ErrBadTime},
		{"B 1 20O9-07-30 15:47:21", ErrBadTime},
		{"B 1 2009/07/30 15:47:21", ErrBadTime},
		{"B 1 2009-07-30_15:47:21", ErrBadTime},
		{"B 1 2009-07-30 15:47:21.", ErrBadTime},
		{"B 1 2009-07-30 15:47:21. x", ErrBadTime},
		{"B 1 2009-07-30 15:47:21.1234567890", ErrBadTime},
		{"B 1 2009-07-30 15:47:21.12a", ErrBadTime},
		{"B 1 2009-07-30 15:47:21Z", ErrBadTime},
		{"B 1 2009-07-30 15:47:21+02:00", ErrBadTime},
		{"B 1 -009-07-30 15:47:21", ErrBadTime},
	}
	for _, tt := range tests {
		rec, err := ParseRecord([]byte(tt.line), time.UTC)
		if !errors.Is(err, tt.want) {
			t.Errorf("ParseRecord(%q) = %+v, %v; want %v", tt.line, rec, err, tt.want)
		}
		if err != nil && (rec.Code != 0 || rec.RID != nil || rec.Data != nil || rec.Time != 0) {
			t.Errorf("ParseRecord(%q) returned %+v with error", tt.line, rec)
		}
	}
}

// TestSampleLog parses every line of the real zc.zservertracelog sample.
func TestSampleLog(t *testing.T) {
	f, err := os.Open(samplePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	counts := map[byte]int{}
	times := map[int]int64{}
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n++
		rec, err := ParseRecord(sc.Bytes(), time.UTC)
		if err != nil {
			t.Fatalf("line %d %q: %v", n, sc.Text(), err)
		}
		counts[rec.Code]++
		times[n] = rec.Time
		if n == 5 {
			if string(rec.RID) != "0.-1451819092" || string(rec.Data) != "GET /columns/t-jansen" {
				t.Errorf("line 5: %+v", rec)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 209 {
		t.Errorf("%d lines, want 209", n)
	}
	want := map[byte]int{'B': 42, 'I': 42, 'C': 42, 'A': 41, 'E': 41, 'D': 1}
	for code, c := range want {
		if counts[code] != c {
			t.Errorf("%d %c records, want %d", counts[code], code, c)
		}
	}
	if len(counts) != len(want) {
		t.Errorf("codes %v, want %v", counts, want)
	}
	for line, want := range map[int]int64{
		1:   utcMicro(2009, 7, 30, 15, 47, 18, 436894), // C 0.-1429402676 2009-07-30 15:47:18.436894
		2:   utcMicro(2009, 7, 30, 15, 47, 21, 349080), // D ... 15:47:21.349080
		100: utcMicro(2009, 7, 30, 15, 52, 36, 766928), // A 0.-1449537908 ... 15:52:36.766928 200 80348
		209: utcMicro(2009, 7, 30, 15, 54, 56, 842451), // E 0.-1452006804 ... 15:54:56.842451
	} {
		if times[line] != want {
			t.Errorf("line %d: time %v, want %v", line, time.UnixMicro(times[line]).UTC(), time.UnixMicro(want).UTC())
		}
	}
}

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestRecordDST checks the New York transitions of 2009 (the sample's year)
// against what time.Date decides, including the skipped and repeated hour.
func TestRecordDST(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	tests := []struct {
		line string
		want string // RFC 3339 in UTC
	}{
		{"B 1 2009-07-30 15:47:21.349080 x", "2009-07-30T19:47:21.34908Z"}, // EDT, -4
		{"B 1 2009-01-15 12:00:00 x", "2009-01-15T17:00:00Z"},              // EST, -5
		{"B 1 2009-03-08 01:59:59 x", "2009-03-08T06:59:59Z"},              // last EST second
		{"B 1 2009-03-08 03:00:00 x", "2009-03-08T07:00:00Z"},              // first EDT second
		{"B 1 2009-11-01 00:59:59 x", "2009-11-01T04:59:59Z"},
		{"B 1 2009-11-01 02:00:00 x", "2009-11-01T07:00:00Z"},
	}
	for _, tt := range tests {
		rec, err := ParseRecord([]byte(tt.line), ny)
		if err != nil {
			t.Fatalf("%q: %v", tt.line, err)
		}
		if got := time.UnixMicro(rec.Time).UTC().Format(time.RFC3339Nano); got != tt.want {
			t.Errorf("%q in New York = %s, want %s", tt.line, got, tt.want)
		}
	}
	// The gap (02:00-03:00 on 2009-03-08 does not exist) and the repeated
	// hour (01:00-02:00 on 2009-11-01 happens twice) resolve as time.Date.
	for _, wall := range []string{"2009-03-08 02:00:00", "2009-03-08 02:30:00", "2009-03-08 02:59:59",
		"2009-11-01 01:00:00", "2009-11-01 01:30:00", "2009-11-01 01:59:59"} {
		rec, err := ParseRecord([]byte("B 1 "+wall), ny)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := time.ParseInLocation("2006-01-02 15:04:05", wall, ny)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Time != ref.UnixMicro() {
			t.Errorf("%s in New York = %v, time.Date says %v", wall, time.UnixMicro(rec.Time).UTC(), ref.UTC())
		}
	}
}

// TestRecordZonesAgainstTimeDate compares the cached offset arithmetic with
// time.Date over random wall times near and far from transitions, in zones
// with odd rules, alternating zones so the cache slots are exercised.
func TestRecordZonesAgainstTimeDate(t *testing.T) {
	var locs []*time.Location
	for _, name := range []string{"America/New_York", "Europe/London", "Australia/Lord_Howe",
		"Asia/Kolkata", "Pacific/Apia", "America/Sao_Paulo", "Europe/Dublin", "Antarctica/Troll", "Local"} {
		locs = append(locs, mustZone(t, name))
	}
	locs = append(locs, time.UTC, time.FixedZone("X", -3*3600-1800), nil)
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 0, 64)
	for i := range 200000 {
		loc := locs[i%len(locs)]
		y := 1970 + r.IntN(231)
		mo := time.Month(1 + r.IntN(12))
		d := 1 + r.IntN(daysIn(int(mo), y))
		h, mi, s, us := r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1000000)
		if i%2 == 0 { // near a transition: these happen at night in March/April and October/November
			y, h = 2000+r.IntN(40), r.IntN(4)
			mo = []time.Month{3, 4, 9, 10, 11}[r.IntN(5)]
		}
		buf = buf[:0]
		buf = append(buf, "B 1 "...)
		buf = time.Date(y, mo, d, h, mi, s, us*1000, time.UTC).AppendFormat(buf, "2006-01-02 15:04:05.000000")
		rec, err := ParseRecord(buf, loc)
		if err != nil {
			t.Fatalf("%q: %v", buf, err)
		}
		ref := loc
		if ref == nil {
			ref = time.UTC
		}
		if want := time.Date(y, mo, d, h, mi, s, us*1000, ref).UnixMicro(); rec.Time != want {
			t.Fatalf("%q in %v = %v, time.Date says %v", buf, ref, rec.Time, want)
		}
	}
}

func TestParseRecordAllocs(t *testing.T) {
	ny := mustZone(t, "America/New_York")
	line := []byte("A 0.-1449537908 2009-07-30 15:52:36.766928 200 80348\x00")
	bad := []byte("A 0.-1449537908 2009-02-30 15:52:36.766928 200 80348")
	if n := testing.AllocsPerRun(1000, func() {
		if _, err := ParseRecord(line, ny); err != nil {
			t.Fatal(err)
		}
		if _, err := ParseRecord(bad, ny); err == nil {
			t.Fatal("no error")
		}
	}); n != 0 {
		t.Errorf("ParseRecord: %v allocations, want 0", n)
	}
}

// TestRecordConcurrentZones parses from many goroutines in more zones than
// the cache has slots, so slots are replaced while being read. Run it with
// -race.
func TestRecordConcurrentZones(t *testing.T) {
	var locs []*time.Location
	for _, name := range []string{"America/New_York", "Europe/London", "Asia/Tokyo",
		"Australia/Sydney", "America/Sao_Paulo", "Europe/Berlin"} {
		locs = append(locs, mustZone(t, name))
	}
	lines := []string{"B 1 2009-03-08 02:30:00", "B 1 2009-07-30 15:47:21.5", "B 1 2009-11-01 01:30:00", "B 1 2021-12-31 23:59:59"}
	want := map[string]int64{}
	for _, loc := range locs {
		for _, l := range lines {
			ref, err := time.ParseInLocation("2006-01-02 15:04:05", l[4:], loc)
			if err != nil {
				t.Fatal(err)
			}
			want[loc.String()+l] = ref.UnixMicro()
		}
	}
	errs := make(chan error, len(locs))
	for g, loc := range locs {
		go func() {
			for i := range 20000 {
				l := lines[(i+g)%len(lines)]
				rec, err := ParseRecord([]byte(l), loc)
				if err == nil && rec.Time != want[loc.String()+l] {
					err = fmt.Errorf("%s in %v: %d, want %d", l, loc, rec.Time, want[loc.String()+l])
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range locs {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
