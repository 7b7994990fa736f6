package histstore

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"graphmetrics/store"
	"graphmetrics/store/hist"
)

// BenchmarkDiskPerInstance writes two days of seconds of one instance at a
// steady request rate (lognormal app times around 50 ms, a tenth slow) in
// flushes of 10 s, then reports the bytes of each level per row and the
// disk of the default retention (3 h of seconds, 8 days of minutes, 400
// days of hours) extrapolated from those rows. One op = one run.
func BenchmarkDiskPerInstance(b *testing.B) {
	for _, rate := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("req/s=%d", rate), func(b *testing.B) {
			var perRow [len(levels)]float64
			for range b.N {
				dir := b.TempDir()
				s := New(Options{DataDir: dir})
				r := rand.New(rand.NewPCG(1, uint64(rate)))
				const days = 2
				start := int64(1_767_225_600) // 2026-01-01
				bs := make([]store.Bucket, 10)
				h := hist.New(hist.Default)
				for t0 := start; t0 < start+days*86400; t0 += 10 {
					bs = bs[:0]
					for t := t0; t < t0+10; t++ {
						h.Reset()
						n := rate
						if rate == 1 {
							n = r.IntN(3)
						}
						for range n {
							v := math.Exp(r.NormFloat64()*0.7 - 3)
							if r.IntN(10) == 0 {
								v *= 20
							}
							h.Add(v)
						}
						bs = append(bs, store.Bucket{Time: t, App: h.AppendEncode(nil)})
					}
					if err := s.WriteBuckets(store.Key{Host: "h", Customer: "c", Instance: "i"}, bs); err != nil {
						b.Fatal(err)
					}
				}
				d := Dir(dir, store.Key{Host: "h", Customer: "c", Instance: "i"})
				for li, lv := range levels {
					var size int64
					files, _ := filepath.Glob(filepath.Join(d, lv.Prefix+"-*.h*"))
					for _, f := range files {
						st, err := os.Stat(f)
						if err != nil {
							b.Fatal(err)
						}
						size += st.Size()
					}
					rows := float64(days * 86400 / lv.Step)
					if li == 0 { // seconds beyond the retention are pruned
						rows = float64(len(files) * int(lv.Span))
					}
					perRow[li] = float64(size) / rows
				}
			}
			total := 0.0
			for li, lv := range levels {
				total += perRow[li] * float64(lv.Keep/lv.Step+lv.Span/lv.Step)
			}
			b.ReportMetric(perRow[0], "B/second")
			b.ReportMetric(perRow[1], "B/minute")
			b.ReportMetric(perRow[2], "B/hour")
			b.ReportMetric(total/1e6, "MB/instance")
		})
	}
}
