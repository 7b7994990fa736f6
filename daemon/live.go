package main

import (
	"context"

	"graphmetrics/store"
)

// liveSource answers the web UI's live pages from every input's
// aggregator: an instance is normally fed by one input; when several
// know it, their requests are merged and the newest clock is taken.
type liveSource struct{ p *pipeline }

func (l liveSource) Live(ctx context.Context, keys []store.Key) ([]store.LiveInstance, error) {
	out := make([]store.LiveInstance, len(keys))
	for i, k := range keys {
		out[i].Key = k
	}
	for _, in := range l.p.inputs {
		got, err := in.agg.Live(ctx, keys)
		if err != nil {
			return nil, err
		}
		for i, li := range got {
			if !li.Found {
				continue
			}
			o := &out[i]
			o.Found = true
			o.Now = max(o.Now, li.Now)
			o.Requests = append(o.Requests, li.Requests...)
		}
	}
	return out, nil
}
