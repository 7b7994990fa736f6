package statsd

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"graphmetrics/daemon/listen"
)

// The parse and aggregate path of one packet of 10 metrics, one core.
func BenchmarkHandle(b *testing.B) {
	agg := NewAgg(1 << 20)
	in, err := New(Options{Listen: listen.Options{}, Agg: agg})
	if err != nil {
		b.Fatal(err)
	}
	var lines []string
	for i := range 10 {
		switch i % 4 {
		case 0:
			lines = append(lines, fmt.Sprintf("app.web%d.hits:1|c", i))
		case 1:
			lines = append(lines, fmt.Sprintf("app.web%d.time:%d|ms|@0.5", i, 10*i))
		case 2:
			lines = append(lines, fmt.Sprintf("app.web%d.depth:+%d|g", i, i))
		default:
			lines = append(lines, fmt.Sprintf("app.web%d.users:u%d|s", i, i))
		}
	}
	pkt := [][]byte{[]byte(strings.Join(lines, "\n"))}
	src := netip.MustParseAddr("127.0.0.1")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in.Handle(src, pkt)
		if i%10000 == 9999 {
			agg.take(int64(i), 10) // as a flush would: timers do not grow without bound
		}
	}
	b.ReportMetric(float64(b.N)*10/b.Elapsed().Seconds(), "metrics/s")
}
