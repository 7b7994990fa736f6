package web

import (
	"context"
	"errors"
	"math"

	"graphmetrics/web/graphite"
	"graphmetrics/web/render"
)

// graphitePNG draws /render?format=png through the render worker pool.
func (s *Server) graphitePNG(ctx context.Context, list []*graphite.Series, from, until int64, width, height int, title string) ([]byte, error) {
	d := &render.DataGraph{Start: from, End: until, Width: width, Height: height, Title: title}
	for _, se := range list {
		vals := make([]*float64, len(se.Values))
		for i, v := range se.Values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				vals[i] = &se.Values[i]
			}
		}
		d.Series = append(d.Series, render.DataSeries{Name: se.Name, Start: se.Start, Step: se.Step, Values: vals})
	}
	if err := d.Validate(); err != nil {
		return nil, &graphite.InputError{Msg: err.Error()}
	}
	png, err := s.pool.Do(ctx, &render.Request{Op: render.OpData, Data: d})
	var we *render.WorkerError
	if errors.As(err, &we) {
		return nil, &graphite.InputError{Msg: we.Error()}
	}
	return png, err
}
