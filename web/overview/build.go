package overview

import (
	"cmp"
	"context"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"graphmetrics/store"
	"graphmetrics/store/hist"
	"graphmetrics/store/histstore"
	"graphmetrics/web/tree"
)

// Request is what one overview shows.
type Request struct {
	Tree        *tree.Snapshot
	State       State // nil: no live state (levels read as 0, silence from the files)
	Thresholds  Thresholds
	From, Until time.Time
	Now         time.Time
	Filter      string // substring of customer, pool, host or instance; any case
	HistRoot    string // the app-time histograms (histstore.Root); "": no p95
}

// Build reads the live state and the files of every instance that passes
// the filter, and returns the overview worst first. A file that cannot be
// read shows as a row without data.
func Build(ctx context.Context, r Request) (*Overview, error) {
	live := map[[3]string]*Live{}
	if r.State != nil {
		ls, err := r.State.Live(ctx)
		if err != nil {
			return nil, err
		}
		for i := range ls {
			l := &ls[i]
			live[[3]string{l.Host, l.Customer, l.Instance}] = l
		}
	}
	groups := pick(r.Tree, strings.ToLower(r.Filter))
	var files []string
	for _, g := range groups {
		for _, in := range g.insts {
			files = append(files, in.File)
		}
	}
	data := fetchAll(ctx, files, r.From.Unix(), r.Until.Unix())
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := &Overview{Now: r.Now.Unix(), From: r.From.Unix(), Until: r.Until.Unix(), Customers: []*Customer{}}
	k := 0
	for _, g := range groups {
		p := &Pool{Pool: g.Name, Customer: g.Customer, Kind: g.Kind, Trouble: []string{}}
		var pool *hist.Hist
		for _, ti := range g.insts {
			in := instanceRow(ti, live[[3]string{ti.Host, ti.Customer, ti.Name}], &data[k], r)
			if h := minuteHist(r.HistRoot, ti, data[k].lastData); h != nil {
				in.P95 = seconds(h.Quantile(0.95))
				if pool == nil {
					pool = hist.New(h.Scheme())
				}
				pool.Merge(h)
			}
			p.Instances = append(p.Instances, in)
			k++
		}
		if pool != nil {
			p.P95 = seconds(pool.Quantile(0.95))
		}
		poolRow(p, data[k-len(g.insts):k], r)
		if len(o.Customers) == 0 || o.Customers[len(o.Customers)-1].Customer != g.Customer {
			o.Customers = append(o.Customers, &Customer{Customer: g.Customer})
		}
		c := o.Customers[len(o.Customers)-1]
		c.Pools = append(c.Pools, p)
		c.score = max(c.score, p.score)
	}
	for _, c := range o.Customers {
		slices.SortStableFunc(c.Pools, func(a, b *Pool) int { return cmp.Compare(b.score, a.score) })
	}
	slices.SortStableFunc(o.Customers, func(a, b *Customer) int { return cmp.Compare(b.score, a.score) })
	return o, nil
}

type group struct {
	tree.Group
	insts []*tree.Instance
}

// pick puts every instance in one group, its pool if it has one, else its
// host's, and keeps what the filter matches: a customer or pool that
// matches keeps all its instances, else those whose host or name match.
func pick(snap *tree.Snapshot, f string) []group {
	has := func(s string) bool { return f == "" || strings.Contains(strings.ToLower(s), f) }
	var out []group
	for _, c := range snap.Customers {
		for _, g := range c.Groups {
			keep := group{Group: *g}
			all := has(c.Name) || has(g.Name)
			for _, i := range g.Instances {
				if g.Kind == tree.Host && tree.PoolName(i.Name) != "" {
					continue // listed in its pool
				}
				if all || has(i.Host) || has(i.Name) {
					keep.insts = append(keep.insts, i)
				}
			}
			if len(keep.insts) > 0 {
				out = append(out, keep)
			}
		}
	}
	return out
}

func instanceRow(ti *tree.Instance, l *Live, s *series, r Request) *Instance {
	in := &Instance{Host: ti.Host, Instance: ti.Name, Customer: ti.Customer, Trouble: []string{}}
	if s.lastData > 0 {
		in.RPM, in.EPM = num(s.requests*60), num(s.errors*60)
		if spr := 60 * s.appN / s.appSum; s.appSum > 0 && !math.IsNaN(spr) {
			in.spr = spr
			in.HeadroomPct = num((spr - *in.RPM) / spr * 100)
		}
		if !math.IsNaN(s.hung) {
			h := int(math.Ceil(s.hung))
			in.Hung = &h
		}
		t := s.lastData
		in.LastSeen, in.heard = &t, time.Unix(t, 0)
	}
	th := r.Thresholds
	if l != nil {
		in.Waiting, in.Busy = l.Waiting, l.Busy
		if l.HasHung {
			h := l.Hung
			in.Hung = &h
		}
		t := l.LastSeen.Unix()
		in.LastSeen, in.heard = &t, l.LastHeard
		if !l.WaitingSince.IsZero() && l.Waiting > 0 && r.Now.Sub(l.WaitingSince) > th.BacklogFor {
			in.add(Backlog)
		}
	}
	if in.Hung != nil && *in.Hung > 0 {
		in.add(Hung)
	}
	if in.RPM != nil && *in.RPM > 0 && *in.EPM / *in.RPM * 100 > th.ErrorPct {
		in.add(Errors)
	}
	if in.HeadroomPct != nil && *in.HeadroomPct < th.HeadroomPct {
		in.add(Headroom)
	}
	return in
}

func (in *Instance) add(reason string) {
	in.Trouble = append(in.Trouble, reason)
	in.score += weight[reason]
}

// poolRow sums the instances, marks the silent ones (the rest of the pool
// is live), takes the instances' reasons and sorts them worst first.
func poolRow(p *Pool, data []series, r Request) {
	th := r.Thresholds
	liveN := 0
	for _, in := range p.Instances {
		if !in.heard.IsZero() && r.Now.Sub(in.heard) <= th.SilentAfter {
			liveN++
		}
	}
	var rpm, epm, spr float64
	var known, hungKnown bool
	hung := 0
	reasons := map[string]bool{}
	for _, in := range p.Instances {
		if !in.heard.IsZero() && r.Now.Sub(in.heard) > th.SilentAfter && liveN > 0 {
			in.add(Silent)
		}
		slices.SortFunc(in.Trouble, func(a, b string) int { return cmp.Compare(weight[b], weight[a]) })
		p.Waiting += in.Waiting
		p.Busy += in.Busy
		if in.RPM != nil {
			known = true
			rpm, epm, spr = rpm+*in.RPM, epm+*in.EPM, spr+in.spr
		}
		if in.Hung != nil {
			hungKnown, hung = true, hung+*in.Hung
		}
		for _, t := range in.Trouble {
			reasons[t] = true
		}
	}
	if known {
		p.RPM, p.EPM = num(rpm), num(epm)
		if spr > 0 {
			p.HeadroomPct = num((spr - rpm) / spr * 100)
		}
	}
	if hungKnown {
		p.Hung = &hung
	}
	if p.RPM != nil && rpm > 0 && epm/rpm*100 > th.ErrorPct {
		reasons[Errors] = true
	}
	if p.HeadroomPct != nil && *p.HeadroomPct < th.HeadroomPct {
		reasons[Headroom] = true
	}
	for _, t := range []string{Hung, Silent, Backlog, Errors, Headroom} {
		if reasons[t] {
			p.Trouble = append(p.Trouble, t)
			p.score += weight[t] * 100
		}
	}
	for _, in := range p.Instances {
		if in.score > 0 {
			p.score++
		}
	}
	slices.SortStableFunc(p.Instances, func(a, b *Instance) int { return cmp.Compare(b.score, a.score) })
	p.SparkRPM, p.SparkBacklog = sum(data, func(s *series) []float64 { return s.rpm }), sum(data, func(s *series) []float64 { return s.waiting })
}

// sum adds the instances' rows (aligned by time), unknown where none knows.
func sum(data []series, col func(*series) []float64) []float64 {
	var out []float64
	var start, step int64
	for i := range data {
		s := &data[i]
		v := col(s)
		if s.err != nil || len(v) == 0 {
			continue
		}
		if out == nil {
			start, step = s.start, s.step
			out = make([]float64, len(v))
			for j := range out {
				out[j] = math.NaN()
			}
		}
		if s.step != step {
			continue
		}
		off := int((s.start - start) / step)
		for j, x := range v {
			if k := j + off; k >= 0 && k < len(out) && !math.IsNaN(x) {
				if math.IsNaN(out[k]) {
					out[k] = 0
				}
				out[k] += x
			}
		}
	}
	return out
}

func num(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	v = math.Round(v*10) / 10
	return &v
}

// minuteHist is the app-time histogram of an instance's minute that ends
// at end (its last minute of data, as for rpm); nil when there is none.
func minuteHist(root string, ti *tree.Instance, end int64) *hist.Hist {
	if root == "" || end <= 0 {
		return nil
	}
	p := store.SafePath(ti.Host, ti.Customer, ti.Name)
	sr, err := histstore.ReadDir(filepath.Join(root, p[0], p[1], p[2]), end-60, end, 60)
	if err != nil || len(sr.H) == 0 {
		return nil
	}
	return sr.H[len(sr.H)-1]
}

// seconds is an app time for the JSON, to the microsecond (num rounds to
// a tenth, which suits rates, not seconds).
func seconds(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	v = math.Round(v*1e6) / 1e6
	return &v
}
