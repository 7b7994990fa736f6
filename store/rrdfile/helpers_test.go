package rrdfile

import (
	"context"
	"testing"
	"time"

	"graphmetrics/parser"
	"graphmetrics/store"
)

// t0 is the aggregator's wall clock in the pipeline tests.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

var testKey = store.Key{Host: "h1", Customer: "cust", Instance: "app-8080"}

func at(s string) int64 {
	tm, err := time.ParseInLocation("2006-01-02 15:04:05", s, time.UTC)
	if err != nil {
		panic(err)
	}
	return tm.Unix()
}

// feed submits tracelog lines (read as UTC) for testKey, n lines per batch.
func feed(t testing.TB, a *store.Aggregator, n int, lines ...string) {
	t.Helper()
	b := a.NewBatch()
	for _, l := range lines {
		rec, err := parser.ParseRecord([]byte(l), time.UTC)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		b.Add([]byte(testKey.Host), []byte(testKey.Customer), []byte(testKey.Instance), rec)
		if b.Len() >= n {
			a.Submit(b)
			b = a.NewBatch()
		}
	}
	a.Submit(b)
}

func closeAgg(t testing.TB, a *store.Aggregator) {
	t.Helper()
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
