package store

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestLiveRequests(t *testing.T) {
	a, _, clk := newTestAgg(t, AggOptions{})
	long := "/" + strings.Repeat("x", 70000)
	feed(t, a, 3,
		"B 1 2026-01-01 00:00:00 GET /a?x=1",
		"I 1 2026-01-01 00:00:00.1 0",
		"C 1 2026-01-01 00:00:01",
		"B 4 2026-01-01 00:00:01.5 GET "+long,
		"I 4 2026-01-01 00:00:01.5 0",
		"C 4 2026-01-01 00:00:01.6",
		"B 2 2026-01-01 00:00:02 POST /b",
		"B 3 2026-01-01 00:00:03 GET /c",
		"I 3 2026-01-01 00:00:03 0",
		"A 4 2026-01-01 00:00:04 200 5",
		"B 5 2026-01-01 00:00:02 GET /done",
		"A 5 2026-01-01 00:00:02.5 200 5",
		"E 5 2026-01-01 00:00:02.6",
	)
	if _, err := a.Live(context.Background(), nil); err != nil { // the records are in
		t.Fatal(err)
	}
	clk.Set(clk.Now().Add(10 * time.Second))
	other := Key{Host: "h2", Customer: "cust", Instance: "app-8080"}
	got, err := a.Live(context.Background(), []Key{testKey, other})
	if err != nil {
		t.Fatal(err)
	}
	if got[1].Found || len(got[1].Requests) != 0 {
		t.Errorf("unknown instance: %+v", got[1])
	}
	li := got[0]
	if !li.Found || li.Now != at("2026-01-01 00:00:14")*1e6 {
		t.Fatalf("live %+v: want now 00:00:14 (newest 00:00:04 + 10 s)", li)
	}
	want := []struct{ rid, method, url, state string }{
		{"1", "GET", "/a?x=1", StateRunning},
		{"4", "GET", long[:MaxRequestData-4], StateOutput},
		{"2", "POST", "/b", StateInput},
		{"3", "GET", "/c", StateWaiting},
	}
	if len(li.Requests) != len(want) {
		t.Fatalf("requests %+v", li.Requests)
	}
	for i, w := range want {
		r := li.Requests[i]
		if r.RID != w.rid || r.Method != w.method || r.URL != w.url || r.State != w.state {
			t.Errorf("request %d = %s %s %.20q %s, want %+.20v", i, r.RID, r.Method, r.URL, r.State, w)
		}
	}
	if li.Requests[0].Started != at("2026-01-01 00:00:00")*1e6 || li.Requests[0].Running != at("2026-01-01 00:00:01")*1e6 {
		t.Errorf("request 1 times %+v", li.Requests[0])
	}
	// An instance whose clock lags the wall clock by more than
	// idle_timeout (a replay) is not live: its clock is its newest record.
	b := a.NewBatch()
	b.Add([]byte("old"), []byte("cust"), []byte("app-1"), parseLine(t, "B 9 2025-12-01 00:00:00 GET /old"))
	a.Submit(b)
	clk.Set(clk.Now().Add(time.Minute))
	old, err := a.Live(context.Background(), []Key{{Host: "old", Customer: "cust", Instance: "app-1"}})
	if err != nil || old[0].Now != at("2025-12-01 00:00:00")*1e6 || len(old[0].Requests) != 1 {
		t.Errorf("replayed instance: %+v %v", old, err)
	}
}

// hung: running for hung_after or longer at the end of the second; a
// request that vanishes (S, a reused RID) stops being hung there.
func TestHungLevel(t *testing.T) {
	a, sink, _ := newTestAgg(t, AggOptions{HungAfter: 10 * time.Second})
	feed(t, a, 4,
		"B 1 2026-01-01 00:00:00 GET /slow",
		"C 1 2026-01-01 00:00:01",
		"B 2 2026-01-01 00:00:05 GET /stuck",
		"C 2 2026-01-01 00:00:05",
		"B 3 2026-01-01 00:00:06 GET /reused",
		"C 3 2026-01-01 00:00:06",
		"A 1 2026-01-01 00:00:20 200 1",
		"B 3 2026-01-01 00:00:22 GET /again", // RID 3 reused while hung
		"E 1 2026-01-01 00:00:20.5",
		"S 0 2026-01-01 00:00:30",
		"B 7 2026-01-01 00:00:40 GET /x",
	)
	closeAgg(t, a)
	bs := sink.buckets(t, testKey)
	for s := int64(0); s < 40; s++ {
		var want int32
		e := s + 1 // end of second s
		if e >= 11 && e < 20 {
			want++ // RID 1: ran from 1 to 20
		}
		if e >= 15 && e < 30 {
			want++ // RID 2: from 5 until the S at 30
		}
		if e >= 16 && e < 22 {
			want++ // RID 3: from 6 until its RID was reused at 22
		}
		if got := bucketAt(t, bs, at("2026-01-01 00:00:00")+s).Hung; got != want {
			t.Errorf("second %d: hung %d, want %d", s, got, want)
		}
	}
}

// The live state goes through Checkpoint/Restore: a replayable input's
// restart keeps the requests in flight with their URLs.
func TestLiveRestored(t *testing.T) {
	a, _, _ := newTestAgg(t, AggOptions{})
	feed(t, a, 10,
		"B 1 2026-01-01 00:00:00 GET /a?x=1",
		"C 1 2026-01-01 00:00:01",
	)
	data, err := a.Checkpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b2, err := NewAggregator(AggOptions{Sink: newMemSink(), Now: a.opts.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := b2.Restore(data); err != nil {
		t.Fatal(err)
	}
	got, err := b2.Live(context.Background(), []Key{testKey})
	if err != nil || len(got[0].Requests) != 1 {
		t.Fatalf("%+v %v", got, err)
	}
	if r := got[0].Requests[0]; r.URL != "/a?x=1" || r.State != StateRunning || r.Running != at("2026-01-01 00:00:01")*1e6 {
		t.Errorf("restored %+v", r)
	}
}
