package graphite

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"graphmetrics/store"
)

type nullSink struct{}

func (nullSink) WriteMetricRRAs([]string, time.Duration, []store.Archive, []store.Point) error {
	return nil
}

// The parse and table path: batches of 100 lines over 10,000 series, one
// core (what a TCP read hands Handle).
func BenchmarkHandle(b *testing.B) {
	in, err := New(Options{Sink: nullSink{}, MaxSeries: 20000})
	if err != nil {
		b.Fatal(err)
	}
	const series = 10000
	now := time.Now().Unix()
	batches := make([][][]byte, series/100)
	for i := range batches {
		for j := range 100 {
			batches[i] = append(batches[i], []byte(fmt.Sprintf("servers.web%03d.cpu.load%02d %d.5 %d", (i*100+j)/100, j, j, now)))
		}
	}
	src := netip.MustParseAddr("127.0.0.1")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in.Handle(src, batches[i%len(batches)])
	}
	b.StopTimer()
	if st := in.Stats(); st.Points != uint64(b.N)*100 {
		b.Fatalf("%d of %d points taken: %+v", st.Points, b.N*100, st)
	}
	b.ReportMetric(float64(b.N)*100/b.Elapsed().Seconds(), "points/s")
}
