package rrdfile

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"graphmetrics/store"
)

// BenchmarkWriteRRD measures one flush of 2,000 instances × 10 s of buckets
// into real RRD files with the default archives (one op = one flush of
// 20,000 rows). The files (about 3 MB each, 6 GB in all) are created before
// the timer starts.
func BenchmarkWriteRRD(b *testing.B) {
	const instances, seconds = 2000, 10
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			dir := b.TempDir()
			w, err := NewWriter(WriterOptions{DataDir: dir, RRD: LibRRD{}, Workers: workers,
				Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			w.Start()
			defer w.Close(context.Background())
			keys := make([]store.Key, instances)
			for i := range keys {
				keys[i] = store.Key{Host: "host" + fmt.Sprint(i%50), Customer: "customer", Instance: fmt.Sprintf("app-%d", 8000+i)}
			}
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
			flush := func(n int) {
				for _, k := range keys {
					if err := w.WriteBuckets(k, testBuckets(start+int64(n*seconds), seconds)); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Sync(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			flush(0) // creates the files
			before := w.Stats()
			b.ResetTimer()
			for i := 1; i <= b.N; i++ {
				flush(i)
			}
			b.StopTimer()
			st := w.Stats()
			rows := st.Rows - before.Rows
			if rows != uint64(b.N*instances*seconds) || st.Errors != 0 {
				b.Fatalf("stats %+v", st)
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(st.MaxWrite.Microseconds()), "max-update-µs")
		})
	}
}
