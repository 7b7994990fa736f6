package store

import (
	"context"
	"testing"
	"time"
)

// Levels reports waiting and busy after every record, since when the
// backlog has been above 0 (cleared when it drops to 0), the newest record
// and the wall-clock time it arrived.
func TestLevelsNow(t *testing.T) {
	a, _, clk := newTestAgg(t, AggOptions{Shards: 2})
	ctx := context.Background()
	level := func() Level {
		t.Helper()
		ls, err := a.Levels(ctx)
		if err != nil || len(ls) != 1 || ls[0].Key != testKey {
			t.Fatalf("levels %+v, %v", ls, err)
		}
		return ls[0]
	}
	clk.Set(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	feed(t, a, 2,
		"B 1 2026-01-01 00:00:00.000000 GET /a",
		"I 1 2026-01-01 00:00:00.100000 0",
		"B 2 2026-01-01 00:00:01.000000 GET /b",
		"I 2 2026-01-01 00:00:01.100000 0",
		"B 3 2026-01-01 00:00:02.000000 GET /c",
		"I 3 2026-01-01 00:00:02.100000 0",
		"C 3 2026-01-01 00:00:02.500000")
	l := level()
	if l.Waiting != 2 || l.Busy != 1 || l.WaitingSince != at("2026-01-01 00:00:00")*1e6+100000 ||
		l.Newest != at("2026-01-01 00:00:02")*1e6+500000 || l.Wall != clk.Now().UnixMicro() {
		t.Errorf("levels %+v", l)
	}
	feed(t, a, 2, "C 1 2026-01-01 00:00:03.000000", "C 2 2026-01-01 00:00:03.100000")
	if l := level(); l.Waiting != 0 || l.Busy != 3 || l.WaitingSince != 0 {
		t.Errorf("after C: %+v", l)
	}
	feed(t, a, 2, "B 4 2026-01-01 00:00:04.000000 GET /d", "I 4 2026-01-01 00:00:04.200000 0")
	if l := level(); l.Waiting != 1 || l.WaitingSince != at("2026-01-01 00:00:04")*1e6+200000 {
		t.Errorf("a new backlog: %+v", l)
	}
	closeAgg(t, a)
	if _, err := a.Levels(ctx); err == nil {
		t.Error("levels after close: no error")
	}
}
