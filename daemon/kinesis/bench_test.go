//go:build cgo

// The kinesalite tests write real RRD files (store/rrdfile, librrd).

package kinesis

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"graphmetrics/daemon/kinesis/kinesalitetest"
	"graphmetrics/store"
)

// Benchmarks against kinesalite. Run with
//
//	go test -run '^$' -bench Kinesalite -benchtime 1x ./daemon/kinesis/
//
// Each reports records/s for a bare GetRecords reader (every shard at
// once, no decoding, no pauses) and for the Consumer with its production
// pacing, in the same run against the same stream: if the two are close,
// the emulator is the bottleneck.

// fillStream puts n records of `series` series (one partition key each,
// points a minute apart ending now) with 4 producers.
func fillStream(b *testing.B, k *kinesalitetest.Server, stream string, n, series int) {
	b.Helper()
	per := n / series
	base := time.Now().Add(-time.Duration(per+1) * time.Minute).Unix()
	var wg sync.WaitGroup
	for p := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var es []kinesalitetest.Entry
			for s := p; s < series; s += 4 {
				name := fmt.Sprintf("//host%d.example.com/disk/root#m%d", s/10, s%10)
				for i := range per {
					es = append(es, kinesalitetest.Entry{Key: name, Data: rec(name, base+int64(i)*60, float64(i))})
				}
			}
			k.Put(b, stream, es)
		}()
	}
	wg.Wait()
}

// bareRead reads every shard from TRIM_HORIZON to its tip concurrently and
// returns the number of records.
func bareRead(b *testing.B, c *awskinesis.Client, stream string) int {
	ctx := context.Background()
	ls, err := c.ListShards(ctx, &awskinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		b.Fatal(err)
	}
	var total atomic.Int64
	var wg sync.WaitGroup
	for _, sh := range ls.Shards {
		wg.Add(1)
		go func() {
			defer wg.Done()
			it, err := c.GetShardIterator(ctx, &awskinesis.GetShardIteratorInput{StreamName: aws.String(stream),
				ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
			if err != nil {
				b.Error(err)
				return
			}
			iter := it.ShardIterator
			for iter != nil {
				out, err := c.GetRecords(ctx, &awskinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(10000)})
				if err != nil {
					b.Error(err)
					return
				}
				total.Add(int64(len(out.Records)))
				if len(out.Records) == 0 {
					return // at the tip
				}
				iter = out.NextShardIterator
			}
		}()
	}
	wg.Wait()
	return int(total.Load())
}

type nullSink struct{ n atomic.Int64 }

func (s *nullSink) WriteMetric(path []string, step time.Duration, pts []store.Point) error {
	s.n.Add(int64(len(pts)))
	return nil
}

// consumeAll runs a fresh Consumer (production pacing) until it has read
// n records.
func consumeAll(b *testing.B, k *kinesalitetest.Server, stream string, sink Sink, stateDir string, n int) {
	c, err := New(Options{Region: "us-east-1", Endpoint: k.URL, Streams: []Stream{{Name: stream}},
		StateDir: stateDir, Sink: sink, Logger: testLogger(b)})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Start(); err != nil {
		b.Fatal(err)
	}
	for c.Stats().Records < uint64(n) {
		time.Sleep(2 * time.Millisecond)
	}
	if err := c.Close(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// phase is one mode of a benchmark: its total records and time, and the
// CPU time kinesalite spent meanwhile.
type phase struct {
	name         string
	records      int
	wall, kinCPU time.Duration
}

// measure runs fn, timing it and kinesalite's CPU use.
func (p *phase) measure(b *testing.B, k *kinesalitetest.Server, records int, fn func()) {
	cpu0, t0 := k.CPU(b), time.Now()
	fn()
	p.wall += time.Since(t0)
	p.kinCPU += k.CPU(b) - cpu0
	p.records += records
}

// report gives records/s and kinesalite's share of one core: near 100%
// means the single-threaded emulator is the bottleneck.
func (p *phase) report(b *testing.B) {
	b.ReportMetric(float64(p.records)/p.wall.Seconds(), p.name+"-rec/s")
	b.ReportMetric(100*p.kinCPU.Seconds()/p.wall.Seconds(), p.name+"-kinesalite-cpu%")
}

// The modes alternate within each round, so a drift of the emulator (it
// slows as its heap grows) hits them alike.
func BenchmarkKinesalite4Shards(b *testing.B) {
	k := startKinesalite(b)
	k.CreateStream(b, "bench4", 4)
	const n = 40000
	fillStream(b, k, "bench4", n, 200)
	bare, cons := phase{name: "bare"}, phase{name: "consumer"}
	for b.Loop() {
		bare.measure(b, k, n, func() {
			if got := bareRead(b, k.Client, "bench4"); got != n {
				b.Fatalf("read %d records, want %d", got, n)
			}
		})
		cons.measure(b, k, n, func() {
			sink := &nullSink{}
			consumeAll(b, k, "bench4", sink, b.TempDir(), n)
			if sink.n.Load() != n {
				b.Fatalf("sink got %d points", sink.n.Load())
			}
		})
	}
	bare.report(b)
	cons.report(b)
}

// 200,000 records already in a 4-shard stream, 1,000 series of 200
// points, consumed into real RRD files (creation included) by
// rrdfile.Writer, against a bare reader and the consumer with a null sink.
func BenchmarkKinesalite200k(b *testing.B) {
	k := startKinesalite(b)
	k.CreateStream(b, "bench200k", 4)
	const n = 200000
	start := time.Now()
	fillStream(b, k, "bench200k", n, 1000)
	b.Logf("put %d records in %v", n, time.Since(start).Round(time.Millisecond))
	bare, null, rrd := phase{name: "bare"}, phase{name: "consumer-null"}, phase{name: "consumer-rrd"}
	var update time.Duration
	for b.Loop() {
		bare.measure(b, k, n, func() {
			if got := bareRead(b, k.Client, "bench200k"); got != n {
				b.Fatalf("read %d records, want %d", got, n)
			}
		})
		null.measure(b, k, n, func() { consumeAll(b, k, "bench200k", &nullSink{}, b.TempDir(), n) })
		dataDir := b.TempDir()
		rrd.measure(b, k, n, func() {
			w := newStoreWriter(b, dataDir)
			consumeAll(b, k, "bench200k", w, filepath.Join(dataDir, "state"), n)
			closeWriter(b, w)
			st := w.Stats()
			if st.Rows != n {
				b.Fatalf("writer stats %+v", st)
			}
			update += st.WriteTime
		})
	}
	bare.report(b)
	null.report(b)
	rrd.report(b)
	b.ReportMetric(update.Seconds()/float64(b.N), "rrd-update-s/op")
}
