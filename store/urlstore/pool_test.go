package urlstore

import (
	"compress/flate"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"graphmetrics/store/segfile"
)

// TestMain removes the benchmarks' pools when the tests end.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, d := range []string{poolDir, closedPoolDir, oldPoolDir, weekPool.dir, yearPool.dir} {
		if d != "" {
			os.RemoveAll(d)
		}
	}
	os.Exit(code)
}

var (
	closedPoolOnce            sync.Once
	closedPoolDir, oldPoolDir string
	closedPoolErr             error
)

// closedPoolData makes copies of poolData with every hour segment closed,
// as a week that has ended is: rewritten pattern-major (closedPoolDir),
// and compressed whole as before (oldPoolDir).
func closedPoolData(b *testing.B) {
	src := poolData(b)
	closedPoolOnce.Do(func() {
		if oldPoolDir, closedPoolErr = os.MkdirTemp("", "urlstore-old"); closedPoolErr != nil {
			return
		}
		for _, k := range poolKeys() {
			from, to := Dir(src, k), Dir(oldPoolDir, k)
			if closedPoolErr = os.CopyFS(to, os.DirFS(from)); closedPoolErr != nil {
				return
			}
			lv := levels[lvHour]
			segfile.CompressOlder(to, lv.Prefix, ".u", lv.Span, math.MaxInt64, flate.DefaultCompression,
				func(_ int64, d []byte) int { return len(d) }, func(path string, err error) { closedPoolErr = err })
		}
		closedPoolDir, closedPoolErr = os.MkdirTemp("", "urlstore-closed")
		for _, k := range poolKeys() {
			if closedPoolErr != nil {
				return
			}
			from, to := Dir(src, k), Dir(closedPoolDir, k)
			if closedPoolErr = os.CopyFS(to, os.DirFS(from)); closedPoolErr != nil {
				return
			}
			closeOlder(to, lvHour, math.MaxInt64, func(path string, err error) { closedPoolErr = err })
			if m, _ := filepath.Glob(filepath.Join(to, levels[lvHour].Prefix+"-*.uc")); len(m) == 0 && closedPoolErr == nil {
				b.Fatalf("no closed hour segment in %s", to)
			}
		}
	})
	if closedPoolErr != nil {
		b.Fatal(closedPoolErr)
	}
}

// BenchmarkTable24hPool50ColdClosed is BenchmarkTable24hPool50Cold with
// the hour rows read from pattern-major files; ColdClosedOld from files
// compressed whole (the format before).
func BenchmarkTable24hPool50ColdClosed(b *testing.B) {
	closedPoolData(b)
	benchTable24hIn(b, closedPoolDir, true)
}

func BenchmarkTable24hPool50ColdClosedOld(b *testing.B) {
	closedPoolData(b)
	benchTable24hIn(b, oldPoolDir, true)
}
