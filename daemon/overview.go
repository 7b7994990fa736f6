package main

import (
	"context"
	"time"

	"graphmetrics/store"
	"graphmetrics/web/overview"
)

// liveState gives the web overview the aggregators' levels now and when
// each instance was last heard from (overview.State).
type liveState struct{ a *app }

// Live merges every input's aggregator; an instance fed by two inputs
// shows the most recently heard one.
func (l liveState) Live(ctx context.Context) ([]overview.Live, error) {
	aggs := []*store.Aggregator{l.a.syslog.agg}
	if l.a.tailIn != nil {
		aggs = append(aggs, l.a.tailIn.agg)
	}
	if l.a.closing.Load() {
		return nil, nil
	}
	seen := map[store.Key]int{}
	var out []overview.Live
	for _, agg := range aggs {
		ls, err := agg.Levels(ctx)
		if err != nil {
			return nil, err
		}
		for _, v := range ls {
			o := overview.Live{Host: v.Host, Customer: v.Customer, Instance: v.Instance,
				Waiting: int(v.Waiting), Busy: int(v.Busy), Hung: int(v.Hung), HasHung: true, LastSeen: time.UnixMicro(v.Newest), LastHeard: time.UnixMicro(v.Wall)}
			if v.WaitingSince > 0 {
				o.WaitingSince = time.UnixMicro(v.WaitingSince)
			}
			if i, ok := seen[v.Key]; ok {
				if o.LastHeard.After(out[i].LastHeard) {
					out[i] = o
				}
				continue
			}
			seen[v.Key] = len(out)
			out = append(out, o)
		}
	}
	return out, nil
}

// overviewThresholds are [web.overview].
func (a *app) overviewThresholds() overview.Thresholds {
	c := a.cfg.Web.Overview
	return overview.Thresholds{BacklogFor: c.BacklogFor.Duration, ErrorPct: c.ErrorPct,
		HeadroomPct: c.HeadroomPct, SilentAfter: c.SilentAfter.Duration}
}
