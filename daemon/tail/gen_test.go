package tail

import (
	"bufio"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"time"

	"graphmetrics/parser"
	"graphmetrics/store"
	"graphmetrics/store/rrdfile"
)

// genTrace writes n directory lines ("host customer instance RECORD") of
// requests spread over insts instances, perSec requests a second in all,
// from t0 on. A request's five lines (B I C A E) are written together;
// its A and E lie up to a third of a second after its B, well within the
// aggregator's lateness. The B lines carry a long path, as real ones do,
// so that lines average about 100 bytes.
func genTrace(w io.Writer, n, insts int, t0 time.Time, perSec float64, seed uint64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	rng := rand.New(rand.NewPCG(seed, 1))
	rids := make([]int, insts)
	var line []byte
	var tsCache struct {
		sec int64
		s   []byte
	}
	ts := func(us int64) []byte {
		if sec := us / 1e6; sec != tsCache.sec || tsCache.s == nil {
			tsCache.sec = sec
			tsCache.s = time.Unix(sec, 0).UTC().AppendFormat(tsCache.s[:0], "2006-01-02 15:04:05")
		}
		out := append(tsCache.s[:19:19], '.')
		frac := us % 1e6
		for d := int64(100000); d > 0; d /= 10 {
			out = append(out, byte('0'+frac/d%10))
		}
		return out
	}
	base := t0.UnixMicro()
	for i := 0; i < n/5; i++ {
		k := rng.IntN(insts)
		rids[k]++
		b := base + int64(float64(i)/perSec*1e6) + rng.Int64N(1000)
		c := b + 200 + rng.Int64N(20000)
		a := c + 5000 + rng.Int64N(300000)
		for j, code := range []byte("BICAE") {
			line = append(line[:0], "host"...)
			line = strconv.AppendInt(line, int64(k%7), 10)
			line = append(line, " acme app-"...)
			line = strconv.AppendInt(line, int64(8080+k), 10)
			line = append(line, ' ', code, ' ', '0', '.', '-')
			line = strconv.AppendInt(line, int64(rids[k]), 10)
			line = append(line, ' ')
			switch code {
			case 'B':
				line = append(line, ts(b)...)
				line = append(line, " GET /zope/site/folder"...)
				line = strconv.AppendInt(line, int64(i%977), 10)
				line = append(line, "/document_view?portal_type=Document&b_start:int=40&sort_on=modified&ajax_load=1&_authenticator=8c5d1b0f&came_from=/zope/site/news/2024/quarterly-report-of-the-operations-team/view"...)
			case 'I':
				line = append(line, ts(b+150)...)
				line = append(line, " 0"...)
			case 'C':
				line = append(line, ts(c)...)
			case 'A':
				line = append(line, ts(a)...)
				if rng.IntN(50) == 0 {
					line = append(line, " 500 1234"...)
				} else {
					line = append(line, " 200 93638"...)
				}
			case 'E':
				line = append(line, ts(a+100)...)
			}
			_ = j
			line = append(line, '\n')
			if _, err := bw.Write(line); err != nil {
				return err
			}
		}
	}
	return bw.Flush()
}

func genFile(path string, n, insts int, t0 time.Time, perSec float64, seed uint64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := genTrace(f, n, insts, t0, perSec, seed); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// storeFeed is the daemon's directory-line path in small: lines parsed
// into a real aggregator, which writes real RRD files.
type storeFeed struct {
	agg *store.Aggregator
	w   *rrdfile.Writer
	bad int
}

func newStoreFeed(dataDir string, flush time.Duration) (*storeFeed, error) {
	w, err := rrdfile.NewWriter(rrdfile.WriterOptions{DataDir: dataDir, RRD: rrdfile.LibRRD{}})
	if err != nil {
		return nil, err
	}
	if err := w.Start(); err != nil {
		return nil, err
	}
	agg, err := store.NewAggregator(store.AggOptions{Sink: w, FlushInterval: flush})
	if err != nil {
		return nil, err
	}
	return &storeFeed{agg: agg, w: w}, nil
}

func (s *storeFeed) Handle(lines [][]byte) {
	b := s.agg.NewBatch()
	for _, l := range lines {
		m, err := parser.ParseDirLine(l)
		if err != nil {
			s.bad++
			continue
		}
		c, i, rec, err := parser.Attribute(m)
		if err != nil {
			s.bad++
			continue
		}
		r, err := parser.ParseRecord(rec, time.UTC)
		if err != nil {
			s.bad++
			continue
		}
		b.Add(m.Host, c, i, r)
	}
	s.agg.Submit(b)
}

func (s *storeFeed) close(ctx context.Context) error {
	if err := s.agg.Close(ctx); err != nil {
		return err
	}
	return s.w.Close(ctx)
}
