// Package hist is a mergeable histogram of durations in fixed log-spaced
// buckets: the app-time distribution of issue 13, reusable wherever a
// percentile must merge exactly across instances and time (a merge is a sum
// of counts).
//
// A Scheme fixes the bucket bounds: bucket 0 is [0, 1 ms), bucket i
// (1 ≤ i ≤ n) is [b(i−1), b(i)) with b(i) = 1 ms × 10^(i/PerDecade), up to
// the first bound ≥ Max, and the last bucket is the overflow [b(n), ∞).
// Quantile finds the bucket that holds the nearest-rank value and returns
// the bucket's geometric midpoint √(lo·hi), the estimate whose worst
// relative error over the bucket is smallest: ≤ √r − 1 with r =
// 10^(1/PerDecade) (linear interpolation inside the bucket would be exact
// more often but could be off by r − 1, twice as much, so the buckets would
// need to be twice as many for the same stated bound). Below 1 ms the
// estimate is 0.5 ms, within 0.5 ms.
//
// Default (13 per decade, 1 ms..346 s, 74 buckets) is within 9.26%, and
// within 1.8 ms below 20 ms — inside issue 13's ±10% / ±2 ms. In the
// overflow bucket Quantile returns its lower bound (unbounded error).
package hist

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Scheme is a set of bucket bounds; histograms merge only within one.
type Scheme struct {
	PerDecade int
	bounds    []float64 // upper bounds in seconds of buckets 0..n; overflow has none
}

// Default is the app-time scheme of issue 13: 1 ms to 346 s, ≤ 9.26% error.
var Default = NewScheme(13, 300)

// NewScheme makes a scheme of perDecade buckets per factor of 10 from 1 ms
// up to the first bound ≥ maxSeconds. The relative error bound is
// 10^(1/(2·perDecade)) − 1 (e.g. 59 per decade: ≤ 1.97%).
func NewScheme(perDecade int, maxSeconds float64) *Scheme {
	if perDecade < 1 || perDecade > 1000 || !(maxSeconds > 0.001) || maxSeconds > 1e9 {
		panic(fmt.Sprintf("hist: bad scheme %d per decade to %g s", perDecade, maxSeconds))
	}
	s := &Scheme{PerDecade: perDecade}
	for i := 0; ; i++ {
		b := 0.001 * math.Pow(10, float64(i)/float64(perDecade))
		s.bounds = append(s.bounds, b)
		if b >= maxSeconds*(1-1e-12) {
			break
		}
	}
	return s
}

// Len is the number of buckets, overflow included.
func (s *Scheme) Len() int { return len(s.bounds) + 1 }

// Upper is bucket i's upper bound in seconds (+Inf for the overflow).
func (s *Scheme) Upper(i int) float64 {
	if i >= len(s.bounds) {
		return math.Inf(1)
	}
	return s.bounds[i]
}

// Lower is bucket i's lower bound in seconds.
func (s *Scheme) Lower(i int) float64 {
	if i == 0 {
		return 0
	}
	return s.bounds[i-1]
}

// Mid is bucket i's estimate: its geometric midpoint (0.5 ms for bucket 0,
// the lower bound for the overflow).
func (s *Scheme) Mid(i int) float64 {
	switch {
	case i == 0:
		return 0.0005
	case i >= len(s.bounds):
		return s.bounds[len(s.bounds)-1]
	}
	return math.Sqrt(s.bounds[i-1] * s.bounds[i])
}

// RelErr is the stated relative error bound of Quantile above 1 ms.
func (s *Scheme) RelErr() float64 { return math.Pow(10, 1/float64(2*s.PerDecade)) - 1 }

// Index is the bucket of a duration in seconds (negative and NaN go to 0).
func (s *Scheme) Index(sec float64) int {
	if !(sec >= 0.001) {
		return 0
	}
	// log estimate, then fixed up against the exact bounds.
	i := int(math.Floor(math.Log10(sec/0.001)*float64(s.PerDecade))) + 1
	if i < 1 {
		i = 1
	}
	if i > len(s.bounds) {
		return len(s.bounds)
	}
	for i > 1 && sec < s.bounds[i-1] {
		i--
	}
	for i < len(s.bounds) && sec >= s.bounds[i] {
		i++
	}
	return i
}

// Hist is a histogram of one scheme. The zero value is unusable; use New.
type Hist struct {
	s      *Scheme
	counts []uint64
	total  uint64
}

// New returns an empty histogram of scheme s.
func New(s *Scheme) *Hist { return &Hist{s: s, counts: make([]uint64, s.Len())} }

// Scheme is the histogram's scheme.
func (h *Hist) Scheme() *Scheme { return h.s }

// Add counts one duration in seconds.
func (h *Hist) Add(sec float64) { h.AddN(h.s.Index(sec), 1) }

// AddN adds n to bucket i.
func (h *Hist) AddN(i int, n uint64) {
	h.counts[i] += n
	h.total += n
}

// Count is bucket i's count.
func (h *Hist) Count(i int) uint64 { return h.counts[i] }

// Total is the number of values counted.
func (h *Hist) Total() uint64 { return h.total }

// Reset empties the histogram.
func (h *Hist) Reset() {
	clear(h.counts)
	h.total = 0
}

// ErrScheme is returned when histograms of different schemes meet.
var ErrScheme = errors.New("hist: different schemes")

// Merge adds o's counts to h.
func (h *Hist) Merge(o *Hist) error {
	if o.s != h.s {
		return ErrScheme
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
	return nil
}

// Quantile is the q-quantile (0 < q ≤ 1) in seconds: the nearest-rank value
// (rank ⌈q·N⌉) estimated by its bucket's geometric midpoint. NaN when the
// histogram is empty.
func (h *Hist) Quantile(q float64) float64 {
	if h.total == 0 || math.IsNaN(q) {
		return math.NaN()
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = min(max(rank, 1), h.total)
	var cum uint64
	for i, c := range h.counts {
		if c == 0 || cum+c < rank {
			cum += c
			continue
		}
		if i == len(h.counts)-1 {
			return h.s.Lower(i)
		}
		return h.s.Mid(i)
	}
	return math.NaN() // unreachable: total is the sum of counts
}

// NearestRank is the exact nearest-rank q-quantile of sorted values, the
// reference Quantile approximates (tests and benchmarks use it).
func NearestRank(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	if !sort.Float64sAreSorted(sorted) {
		panic("hist: NearestRank of unsorted values")
	}
	r := int(math.Ceil(q * float64(len(sorted))))
	return sorted[min(max(r, 1), len(sorted))-1]
}

// Within says whether est is within the scheme's stated error of exact:
// RelErr above 1 ms, 0.5 ms below it.
func (s *Scheme) Within(est, exact float64) bool {
	tol := math.Max(exact*s.RelErr(), 0.0005)
	return math.Abs(est-exact) <= tol*(1+1e-9)
}
