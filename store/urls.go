package store

import (
	"bytes"
	"slices"
	"strings"

	"graphmetrics/store/hist"
	"graphmetrics/store/urlpattern"
)

// URL statistics (issue 12). Each request finished (A) or hung (it
// vanished at S/X or request_timeout after its B) in a pending second is
// noted there as a urlHit: its pattern, app time and error flag. When the
// second is final the hits are grouped by pattern into the Bucket's URLs.
// A second holds few requests, so a hit list costs less than a table per
// pattern; patterns come from a per-shard cache of path → pattern.

// urlHit is one request of a pending second.
type urlHit struct {
	pat  string
	us   int64 // app time µs; -1 without one
	err  bool
	hang bool
}

// patCache maps request paths to patterns; one per shard (its goroutine
// owns it). It is cleared when full, so a crawler costs Pattern calls, not
// memory.
type patCache struct {
	n   *urlpattern.Normalizer
	m   map[string]string
	buf []byte
}

// maxKeptURLs bounds the capacity of the hit and URLStat slices an
// instance keeps for reuse: a burst's are let go.
const maxKeptURLs = 1024

const (
	patCacheMax = 4096
	patCacheKey = 256 // longer paths are not cached
)

// pattern is the pattern of a B record's "METHOD URL" (UnknownURL when
// there is none). The cache is keyed by AppendSegments' result, which ids
// and queries do not vary.
func (c *patCache) pattern(req []byte) string {
	if i := bytes.IndexByte(req, ' '); i >= 0 {
		req = req[i+1:]
	}
	req = bytes.TrimSpace(req)
	c.buf = urlpattern.AppendSegments(c.buf[:0], req)
	if len(c.buf) == 0 {
		return UnknownURL
	}
	if p, ok := c.m[string(c.buf)]; ok {
		return p
	}
	p := c.n.Rewrite(string(c.buf))
	if p == "" {
		p = UnknownURL
	}
	if len(c.buf) <= patCacheKey {
		if len(c.m) >= patCacheMax {
			clear(c.m)
		}
		c.m[string(c.buf)] = p
	}
	return p
}

// urlHit notes a finished (us ≥ 0: with app time) or hung request.
func (in *instance) urlHit(b *pbucket, r *ridState, us int64, err, hang bool) {
	pat := UnknownURL
	if r != nil && len(r.Req) > 0 {
		pat = in.pats.pattern(r.Req)
	}
	if b.urls == nil {
		if n := len(in.urlFree); n > 0 {
			b.urls = in.urlFree[n-1]
			in.urlFree = in.urlFree[:n-1]
		}
	}
	b.urls = append(b.urls, urlHit{pat, us, err, hang})
}

// hung notes a request with a known URL that vanishes unfinished (S/X,
// request_timeout) as a hang of its pattern, as tracereport counted them.
func (in *instance) hung(b *pbucket, r *ridState) {
	if in.pats == nil || len(r.Req) == 0 {
		return
	}
	switch r.Phase {
	case phaseBegan, phaseWaiting, phaseBusy:
		in.urlHit(b, r, -1, false, true)
	}
}

// hungAtNewest notes a hang in the newest pending second (a request that
// timed out is dropped at the instance's newest time).
func (in *instance) hungAtNewest(r *ridState) {
	if in.pats == nil || len(r.Req) == 0 {
		return
	}
	i := max(floorDiv(in.newest, 1e6)-in.final, 0)
	for int64(len(in.pend)) <= i {
		in.pend = append(in.pend, pbucket{})
	}
	in.hung(&in.pend[i], r)
}

// urlStats groups a final second's hits by pattern into in.urlOut and
// returns them (nil without hits); the slice is recycled.
func (in *instance) urlStats(hits []urlHit) []URLStat {
	if len(hits) == 0 {
		return nil
	}
	if len(hits) > 1 {
		slices.SortFunc(hits, func(a, b urlHit) int { return strings.Compare(a.pat, b.pat) })
	}
	k := len(in.urlOut)
	for i := 0; i < len(hits); {
		u := URLStat{Pattern: hits[i].pat}
		idx := in.idx[:0]
		j := i
		for ; j < len(hits) && hits[j].pat == u.Pattern; j++ {
			h := &hits[j]
			if h.hang {
				u.Hangs++
				continue
			}
			u.Count++
			if h.err {
				u.Errors++
			}
			if h.us >= 0 {
				u.AppSumUS += uint64(h.us)
				u.AppMaxUS = max(u.AppMaxUS, uint64(h.us))
				idx = append(idx, uint16(URLScheme.Index(float64(h.us)/1e6)))
			}
		}
		if len(idx) > 0 {
			a := len(in.arena)
			in.arena = hist.AppendEncodeIndexes(in.arena, idx)
			u.App = in.arena[a:len(in.arena):len(in.arena)]
		}
		in.idx = idx
		in.urlOut = append(in.urlOut, u)
		i = j
	}
	clear(hits) // drop the pattern strings
	if cap(hits) <= maxKeptURLs && len(in.urlFree) < 64 {
		in.urlFree = append(in.urlFree, hits[:0])
	}
	return in.urlOut[k:len(in.urlOut):len(in.urlOut)]
}
