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
			Record{Code: 'B', RID: []byte("0.-1451819092"), Time: utcMicro(2009, 7, 30, 15, 47, 21, 560343), Data: []byte("GET /columns/t-jansen")}},
		{"I 1 2009-07-30 15:47:21.560343 0", Record{Code: 'I', RID: []byte("1"), Time: utcMicro(2009, 7, 30, 15, 47, 21, 560343), Data: []byte("0")}},
		{"C 1 2009-07-30 15:47:21.5", Record{Code: 'C', RID: []byte("1"), Time: utcMicro(2009, 7, 30, 15, 47, 21, 500000), Data: []byte{}}},
		{"A 1 2009-07-30 15:47:21.349080 200 OK 1332", Record{Code: 'A', RID: []byte("1"), Time: utcMicro(2009, 7, 30, 15, 47, 21, 349080), Data: []byte("200 OK 1332")}},
		{"A 1 2009-07-30 15:47:21.349080 Error: boom", Record{Code: 'A', RID: []byte("1"), Time: utcMicro(2009, 7, 30, 15, 47, 21, 349080), Data: []byte("Error: boom")}},
		// Fraction left out when zero, as Python's datetime.isoformat does.
		{"E 1 2009-07-30 15:47:22", Record{Code: 'E', RID: []byte("1"), Time: utcMicro(2009, 7, 30, 15, 47, 22, 0), Data: []byte{}}},
		{"E 1 2009-07-30 15:47:22 Error: x", Record{Code: 'E', RID: []byte("1"), Time: utcMicro(2009, 7, 30, 15, 47, 22, 0), Data: []byte("Error: x")}},
		// Nine digits: nanoseconds truncated to microseconds.
		{"D 1 2009-07-30 15:47:21.123456789 302 0", Record{Code: 'D', RID: []byte("1"), Time: utcMicro(2009, 7, 30, 15, 47, 21, 123456), Data: []byte("302 0")}},
		{"S 0 2009-07-30 15:47:21.000001", Record{Code: 'S', RID: []byte("0"), Time: utcMicro(2009, 7, 30, 15, 47, 21, 1), Data: []byte{}}},
		{"X 0 2200-12-31 23:59:59.999999", Record{Code: 'X', RID: []byte("0"), Time: utcMicro(2200, 12, 31, 23, 59, 59, 999999), Data: []byte{}}},
		// Old Zope 2: 'T' and whole seconds.
		{"U 000000000 2010-06-10T14:03:21 Zope Ready to handle requests", Record{Code: 'U', RID: []byte("000000000"), Time: utcMicro(2010, 6, 10, 14, 3, 21, 0), Data: []byte("Zope Ready to handle requests")}},
		{"B 42 2010-06-10T14:03:21 GET /", Record{Code: 'B', RID: []byte("42"), Time: utcMicro(2010, 6, 10, 14, 3, 21, 0), Data: []byte("GET /")}},
		// Extension records are returned as they are.
		{"- 7 2009-07-30 15:47:21.560343 custom text", Record{Code: '-', RID: []byte("7"), Time: utcMicro(2009, 7, 30, 15, 47, 21, 560343), Data: []byte("custom text")}},
		{"Z 7 2009-07-30 15:47:21.560343", Record{Code: 'Z', RID: []byte("7"), Time: utcMicro(2009, 7, 30, 15, 47, 21, 560343), Data: []byte{}}},
		// Data keeps everything after one space, and trailers are trimmed.
		{"A 1 2009-07-30 15:47:21.1  200 ?", Record{Code: 'A', RID: []byte("1"), Time: utcMicro(2009, 7, 30, 15, 47, 21, 100000), Data: []byte(" 200 ?")}},
		{"A 1 2009-07-30 15:47:21.1 200 ?\r\n\x00", Record{Code: 'A', RID: []byte("1"), Time: utcMicro(2009, 7, 30, 15, 47, 21, 100000), Data: []byte("200 ?")}},
		{"A 1 2009-07-30 15:47:21.1 \n", Record{Code: 'A', RID: []byte("1"), Time: utcMicro(2009, 7, 30, 15, 47, 21, 100000), Data: []byte{}}},
		// Leap day, epoch, Unicode in the data.
		{"B 1 2012-02-29 00:00:00 GET /\xc3\xa9", Record{Code: 'B', RID: []byte("1"), Time: utcMicro(2012, 2, 29, 0, 0, 0, 0), Data: []byte("GET /\xc3\xa9")}},
		{"B 1 1970-01-01 00:00:00 x", Record{Code: 'B', RID: []byte("1"), Time: 0, Data: []byte("x")}},
		{"B 1 2000-02-29 12:00:00 x", Record{Code: 'B', RID: []byte("1"), Time: utcMicro(2000, 2, 29, 12, 0, 0, 0), Data: []byte("x")}},
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
// and the Berlin ones of 2026: the skipped hour reads as time.Date reads it,
// flagged; the repeated hour gives both of its occurrences.
func TestRecordDST(t *testing.T) {
	ny, berlin := mustZone(t, "America/New_York"), mustZone(t, "Europe/Berlin")
	tests := []struct {
		line    string
		loc     *time.Location
		want    string // RFC 3339 in UTC: Time (skipped: time.Date's)
		repeat  time.Duration
		skipped bool
	}{
		{"B 1 2009-07-30 15:47:21.349080 x", ny, "2009-07-30T19:47:21.34908Z", 0, false}, // EDT, -4
		{"B 1 2009-01-15 12:00:00 x", ny, "2009-01-15T17:00:00Z", 0, false},              // EST, -5
		{"B 1 2009-03-08 01:59:59 x", ny, "2009-03-08T06:59:59Z", 0, false},              // last EST second
		{"B 1 2009-03-08 02:00:00 x", ny, "", 0, true},                                   // skipped: as time.Date reads it
		{"B 1 2009-03-08 03:00:00 x", ny, "2009-03-08T07:00:00Z", 0, false},              // first EDT second
		{"B 1 2009-11-01 00:59:59 x", ny, "2009-11-01T04:59:59Z", 0, false},
		{"B 1 2009-11-01 01:00:00 x", ny, "2009-11-01T05:00:00Z", time.Hour, false}, // EDT, then EST
		{"B 1 2009-11-01T01:59:59 x", ny, "2009-11-01T05:59:59Z", time.Hour, false}, // the T form
		{"B 1 2009-11-01 01:30:00.5 x", ny, "2009-11-01T05:30:00.5Z", time.Hour, false},
		{"B 1 2009-11-01 02:00:00 x", ny, "2009-11-01T07:00:00Z", 0, false},
		{"B 1 2026-10-25 01:59:59 x", berlin, "2026-10-24T23:59:59Z", 0, false},
		{"B 1 2026-10-25 02:00:00 x", berlin, "2026-10-25T00:00:00Z", time.Hour, false}, // CEST, then CET
		{"B 1 2026-10-25 02:59:59 x", berlin, "2026-10-25T00:59:59Z", time.Hour, false},
		{"B 1 2026-10-25 03:00:00 x", berlin, "2026-10-25T02:00:00Z", 0, false},
		{"B 1 2026-03-29 01:59:59 x", berlin, "2026-03-29T00:59:59Z", 0, false},
		{"B 1 2026-03-29 02:30:00 x", berlin, "", 0, true}, // skipped
		{"B 1 2026-03-29 03:00:00 x", berlin, "2026-03-29T01:00:00Z", 0, false},
	}
	for _, tt := range tests {
		rec, err := ParseRecord([]byte(tt.line), tt.loc)
		if err != nil {
			t.Fatalf("%q: %v", tt.line, err)
		}
		want, _ := time.Parse(time.RFC3339Nano, tt.want)
		if tt.skipped {
			// Whatever time.Date makes of it.
			ref, err := time.ParseInLocation("2006-01-02 15:04:05", tt.line[4:23], tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			want = ref
		}
		if rec.Time != want.UnixMicro() || rec.Repeat != tt.repeat.Microseconds() || rec.Skipped != tt.skipped {
			t.Errorf("%q in %v = %v repeat %v skipped %v, want %v repeat %v skipped %v", tt.line, tt.loc,
				time.UnixMicro(rec.Time).UTC(), time.Duration(rec.Repeat)*time.Microsecond, rec.Skipped,
				want.UTC(), tt.repeat, tt.skipped)
		}
	}
}

// checkAgainstTimeDate checks one parsed wall time against the time
// package: an unambiguous one is time.Date's instant, and no instant an
// hour or half an hour away shows the same wall time; a repeated one gives
// two instants that both show it, one of them time.Date's; a skipped one
// is time.Date's instant, which shows another wall time.
//
// wall holds the wall time's fields (in UTC, so no zone moves them).
func checkAgainstTimeDate(t *testing.T, line []byte, rec Record, wall time.Time, loc *time.Location) {
	t.Helper()
	shows := func(us int64) bool {
		lt := time.UnixMicro(us).In(loc)
		return lt.Year() == wall.Year() && lt.YearDay() == wall.YearDay() && lt.Hour() == wall.Hour() &&
			lt.Minute() == wall.Minute() && lt.Second() == wall.Second()
	}
	want := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(),
		wall.Nanosecond(), loc).UnixMicro()
	switch {
	case rec.Skipped:
		if rec.Time != want || rec.Repeat != 0 || shows(rec.Time) {
			t.Fatalf("%q in %v: skipped at %d, time.Date says %d (shows the wall time: %v)", line, loc, rec.Time, want, shows(rec.Time))
		}
	case rec.Repeat != 0:
		if rec.Repeat < 0 || (rec.Time != want && rec.Time+rec.Repeat != want) || !shows(rec.Time) || !shows(rec.Time+rec.Repeat) {
			t.Fatalf("%q in %v: %d and %d, time.Date says %d", line, loc, rec.Time, rec.Time+rec.Repeat, want)
		}
	default:
		if rec.Time != want || !shows(want) {
			t.Fatalf("%q in %v = %d, time.Date says %d", line, loc, rec.Time, want)
		}
		for _, d := range []int64{1800e6, 3600e6, 7200e6} {
			if shows(want-d) || shows(want+d) {
				t.Fatalf("%q in %v: also at %d±%d, not reported as repeated", line, loc, want, d)
			}
		}
	}
}

// TestRecordZonesAgainstTimeDate compares the cached offset arithmetic with
// the time package over random wall times near and far from transitions,
// in zones with odd rules, alternating zones so the cache slots are
// exercised.
func TestRecordZonesAgainstTimeDate(t *testing.T) {
	var locs []*time.Location
	for _, name := range []string{"America/New_York", "Europe/London", "Australia/Lord_Howe",
		"Asia/Kolkata", "Pacific/Apia", "America/Sao_Paulo", "Europe/Dublin", "Antarctica/Troll", "Local",
		"Europe/Berlin"} {
		locs = append(locs, mustZone(t, name))
	}
	locs = append(locs, time.UTC, time.FixedZone("X", -3*3600-1800), nil)
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 0, 64)
	var repeated, skipped int
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
		checkAgainstTimeDate(t, buf, rec, time.Date(y, mo, d, h, mi, s, us*1000, time.UTC), ref)
		if rec.Repeat != 0 {
			repeated++
		}
		if rec.Skipped {
			skipped++
		}
	}
	if repeated == 0 || skipped == 0 {
		t.Errorf("%d repeated and %d skipped wall times: the test did not reach the transitions", repeated, skipped)
	}
}

// TestRecordTransitionDays walks every second of the transition days of
// 2026 in New York and Berlin.
func TestRecordTransitionDays(t *testing.T) {
	for _, c := range []struct {
		zone string
		days []string
	}{
		{"America/New_York", []string{"2026-03-08", "2026-11-01"}},
		{"Europe/Berlin", []string{"2026-03-29", "2026-10-25"}},
	} {
		loc := mustZone(t, c.zone)
		for _, day := range c.days {
			d0, _ := time.Parse("2006-01-02", day)
			var repeated, skipped int
			for s := 0; s < 86400; s++ {
				w := d0.Add(time.Duration(s) * time.Second)
				line := w.AppendFormat([]byte("A 1 "), "2006-01-02 15:04:05")
				rec, err := ParseRecord(line, loc)
				if err != nil {
					t.Fatal(err)
				}
				checkAgainstTimeDate(t, line, rec, w, loc)
				if rec.Repeat != 0 {
					repeated++
				}
				if rec.Skipped {
					skipped++
				}
			}
			if repeated+skipped != 3600 {
				t.Errorf("%s %s: %d repeated and %d skipped seconds, want one hour", c.zone, day, repeated, skipped)
			}
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
			rec, err := ParseRecord([]byte(l), loc) // the answer of a single goroutine
			if err != nil {
				t.Fatal(err)
			}
			want[loc.String()+l] = rec.Time
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
