package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
	_ "time/tzdata"

	"graphmetrics/parser"
)

// afterTests is a wall clock after every transition the tests use, so no
// record is too far in the future.
func afterTests() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }

// transition is a day on which a zone sets its clocks back or forward, and
// the UTC hours [from, to) around it that the tests cover.
type transition struct {
	zone     string
	from, to string // RFC 3339
}

var fallBacks = []transition{
	{"America/New_York", "2026-11-01T04:30:00Z", "2026-11-01T07:30:00Z"}, // 00:30 EDT .. 02:30 EST
	{"Europe/Berlin", "2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z"},    // 02:00 CEST .. 03:00 CET
}

// secondsLines is one request per UTC second of [from, to) as a server in
// loc logs it (local wall time, B I C A E within the second, alternate
// seconds in the T form), with each E moved behind the next second's B:
// out of order by less than the lateness.
func secondsLines(t testing.TB, tr transition) ([]string, *time.Location, int64, int64) {
	t.Helper()
	loc, err := time.LoadLocation(tr.zone)
	if err != nil {
		t.Fatal(err)
	}
	from, _ := time.Parse(time.RFC3339, tr.from)
	to, _ := time.Parse(time.RFC3339, tr.to)
	var lines []string
	var pendingE string
	for s := from.Unix(); s < to.Unix(); s++ {
		layout := "2006-01-02 15:04:05"
		if s%2 == 1 {
			layout = "2006-01-02T15:04:05"
		}
		wall := time.Unix(s, 0).In(loc).Format(layout)
		rid := fmt.Sprint(s % 7)
		lines = append(lines, "B "+rid+" "+wall+".100000 GET /")
		if pendingE != "" {
			lines = append(lines, pendingE)
		}
		lines = append(lines, "I "+rid+" "+wall+".200000 0", "C "+rid+" "+wall+".300000",
			"A "+rid+" "+wall+".500000 200 12")
		pendingE = "E " + rid + " " + wall + ".600000"
	}
	return append(lines, pendingE), loc, from.Unix(), to.Unix()
}

// feedZone parses lines with the real parser in loc and submits them for
// testKey.
func feedZone(t testing.TB, a *Aggregator, loc *time.Location, lines []string) {
	t.Helper()
	b := a.NewBatch()
	for _, l := range lines {
		rec, err := parser.ParseRecord([]byte(l), loc)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		b.Add([]byte(testKey.Host), []byte(testKey.Customer), []byte(testKey.Instance), rec)
		if b.Len() >= 100 {
			a.Submit(b)
			b = a.NewBatch()
		}
	}
	a.Submit(b)
}

// oneEachSecond checks that every second of [from, to) has exactly one
// request, with its application time, and nothing outside.
func oneEachSecond(t *testing.T, bs []Bucket, from, to int64) {
	t.Helper()
	n := map[int64]uint32{}
	for _, b := range bs {
		n[b.Time] += b.Requests
		if b.Time >= from && b.Time < to && (b.Requests != 1 || b.AppN != 1) {
			t.Fatalf("second %v: %d requests, %d timed, want 1", time.Unix(b.Time, 0).UTC(), b.Requests, b.AppN)
		}
		if (b.Time < from || b.Time >= to) && b.Requests != 0 {
			t.Fatalf("second %v outside the feed has %d requests", time.Unix(b.Time, 0).UTC(), b.Requests)
		}
	}
	for s := from; s < to; s++ {
		if n[s] != 1 {
			t.Fatalf("second %v: %d requests, want 1", time.Unix(s, 0).UTC(), n[s])
		}
	}
}

// The repeated hour of a fall-back lands on its own UTC seconds: the first
// occurrence while the instance is in the first hour, the second once it
// has moved past it; records out of order within the lateness stay in
// their hour.
func TestFallBackEachSecondOnce(t *testing.T) {
	for _, tr := range fallBacks {
		t.Run(tr.zone, func(t *testing.T) {
			lines, loc, from, to := secondsLines(t, tr)
			a, sink, _ := newTestAgg(t, AggOptions{Lateness: 2 * time.Second, Now: afterTests})
			feedZone(t, a, loc, lines)
			closeAgg(t, a)
			oneEachSecond(t, sink.buckets(t, testKey), from, to)
			if st := a.Stats(); st.Late != 0 || st.Records != uint64(len(lines)) {
				t.Errorf("stats %+v, want %d records and none late", st, len(lines))
			}
		})
	}
}

// A restart anywhere in the repeated hour, first or second occurrence,
// with the state of a checkpoint or of a shutdown, gives the same buckets
// as a run without it: the newest record, which decides the occurrence,
// is part of the snapshot.
func TestFallBackRestart(t *testing.T) {
	ctx := context.Background()
	for _, tr := range fallBacks {
		lines, loc, from, to := secondsLines(t, tr)
		// Split before the B of a second: 15, 45, 75 and 105 minutes in.
		for _, minute := range []int{15, 45, 75, 105} {
			split := minute * 60 * 5 // lines[split-1] is a B, lines[split] the E before it
			for _, kind := range []string{"checkpoint", "close"} {
				t.Run(fmt.Sprintf("%s/%dm/%s", tr.zone, minute, kind), func(t *testing.T) {
					lines := slices.Clone(lines)
					if kind == "close" {
						// A shutdown writes every second it has: the E of the
						// second before comes before it, as a sender that
						// stopped would have sent it.
						lines[split-1], lines[split] = lines[split], lines[split-1]
					}
					sink := newMemSink()
					clk := &fakeClock{now: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
					o := AggOptions{Shards: 2, Sink: sink, Now: clk.Now, FlushInterval: time.Hour, Lateness: 2 * time.Second}
					a1, _ := NewAggregator(o)
					a1.Start()
					feedZone(t, a1, loc, lines[:split])
					var snap []byte
					var err error
					if kind == "close" {
						snap, err = a1.CloseCheckpoint(ctx)
					} else {
						snap, err = a1.Checkpoint(ctx)
						a1.Close(ctx) // a crash after the checkpoint: what it writes now RRD would refuse
						sink.got = map[Key][]Bucket{testKey: cutAt(sink.got[testKey], snap, t)}
					}
					if err != nil {
						t.Fatal(err)
					}
					a2, _ := NewAggregator(o)
					if err := a2.Restore(snap); err != nil {
						t.Fatal(err)
					}
					a2.Start()
					feedZone(t, a2, loc, lines[split:])
					closeAgg(t, a2)
					oneEachSecond(t, sink.buckets(t, testKey), from, to)
					if st := a2.Stats(); st.Late != 0 {
						t.Errorf("%d late records after the restart", st.Late)
					}
				})
			}
		}
	}
}

// cutAt keeps the buckets a checkpoint had written: those before the
// restored instance's first pending second.
func cutAt(bs []Bucket, snap []byte, t *testing.T) []Bucket {
	s, err := decodeSnapshot(snap)
	if err != nil || len(s.Instances) != 1 {
		t.Fatalf("snapshot: %v, %d instances", err, len(s.Instances))
	}
	var out []Bucket
	for _, b := range bs {
		if b.Time < s.Instances[0].Final {
			out = append(out, b)
		}
	}
	return out
}

// A record later than the lateness in the first occurrence is late; it
// does not jump an hour ahead (which would make the rest of the first
// hour late).
func TestFallBackLateRecordStaysLate(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	a, sink, _ := newTestAgg(t, AggOptions{Lateness: 2 * time.Second, Now: afterTests})
	feedZone(t, a, ny, []string{
		"A 1 2026-11-01 01:10:00 200 1",
		"A 1 2026-11-01 01:10:20 200 1",
		"A 1 2026-11-01 01:10:05 200 1", // 15 s late
		"A 1 2026-11-01 01:10:21 200 1",
		"A 1 2026-11-01 01:59:59 200 1",
		"A 1 2026-11-01 01:00:00 200 1", // the second occurrence
		"A 1 2026-11-01 01:00:01 200 1",
		"A 1 2026-11-01 00:59:59 200 1", // not repeated: an hour late
	})
	closeAgg(t, a)
	bs := sink.buckets(t, testKey)
	for _, c := range []struct {
		utc  string
		want uint32
	}{{"05:10:00", 1}, {"05:10:05", 0}, {"05:10:20", 1}, {"05:10:21", 1}, {"06:10:05", 0},
		{"05:59:59", 1}, {"06:00:00", 1}, {"06:00:01", 1}} {
		sec := at("2026-11-01 " + c.utc)
		var got uint32
		for _, b := range bs {
			if b.Time == sec {
				got = b.Requests
			}
		}
		if got != c.want {
			t.Errorf("%s UTC: %d requests, want %d", c.utc, got, c.want)
		}
	}
	if st := a.Stats(); st.Late != 2 {
		t.Errorf("%d late, want 2", st.Late)
	}
}

// Instances decide on their own: one still in the first occurrence while
// another is in the second.
func TestFallBackPerInstance(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	a, sink, _ := newTestAgg(t, AggOptions{Lateness: 2 * time.Second, Now: afterTests})
	rec := func(l string) parser.Record {
		r, err := parser.ParseRecord([]byte(l), ny)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	b := a.NewBatch()
	b.Add([]byte("h"), []byte("c"), []byte("ahead"), rec("A 1 2026-11-01 01:59:00 200 1"))
	b.Add([]byte("h"), []byte("c"), []byte("behind"), rec("A 1 2026-11-01 01:20:00 200 1"))
	b.Add([]byte("h"), []byte("c"), []byte("ahead"), rec("A 1 2026-11-01 01:20:00 200 1"))  // second
	b.Add([]byte("h"), []byte("c"), []byte("behind"), rec("A 1 2026-11-01 01:20:01 200 1")) // first
	a.Submit(b)
	closeAgg(t, a)
	for inst, want := range map[string][]string{
		"ahead":  {"05:59:00", "06:20:00"},
		"behind": {"05:20:00", "05:20:01"},
	} {
		var got []string
		for _, b := range sink.buckets(t, Key{"h", "c", inst}) {
			if b.Requests > 0 {
				got = append(got, time.Unix(b.Time, 0).UTC().Format("15:04:05"))
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: requests at %v, want %v", inst, got, want)
		}
	}
}
