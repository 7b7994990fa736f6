// Package export turns the data behind a chart into downloads (SPEC §6,
// issue 6): Run exports the series a render.Graph draws — the same DEFs,
// CDEFs, time range and step as its image — through the render worker
// pool's xport, and CSV and JSON encode the result.
//
// Row times follow rrd's convention, as `rrdtool xport` prints them: the
// value at time t covers the step that ends at t. Unknown values are null
// in JSON and empty in CSV; so are infinite ones (a division by zero in a
// user's expression), which neither format can carry.
package export

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"graphmetrics/web/render"
)

// DefaultMaxPoints is the default limit of values (rows × series) in one
// export: [web] max_export_points.
const DefaultMaxPoints = 1_000_000

// ErrTooBig is returned when an export would exceed its limit of values.
var ErrTooBig = errors.New("export too big")

// Runner runs one request in a render worker; *render.Pool is one.
type Runner interface {
	Do(ctx context.Context, req *render.Request) ([]byte, error)
}

// Run exports every series g draws, in drawing order, with the draws'
// legends, refusing (ErrTooBig) an export of more than maxPoints values. g
// is not modified. Errors from librrd are *render.WorkerError.
func Run(ctx context.Context, r Runner, g *render.Graph, maxPoints int) (*render.Xport, error) {
	if len(g.Draws) == 0 {
		return nil, errors.New("export: the chart draws nothing")
	}
	if err := CheckSize(g, maxPoints); err != nil {
		return nil, err
	}
	payload, err := r.Do(ctx, &render.Request{Op: render.OpXport, Graph: finite(g)})
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	var x render.Xport
	if err := x.UnmarshalBinary(payload); err != nil {
		return nil, fmt.Errorf("export: worker answer: %w", err)
	}
	if len(x.Legends) != len(g.Draws) || x.Step <= 0 {
		return nil, fmt.Errorf("export: worker answered %d series at step %d for %d drawn", len(x.Legends), x.Step, len(g.Draws))
	}
	// The legends as the user wrote them, not librrd's escaped copies.
	for j, d := range g.Draws {
		x.Legends[j] = d.Legend
		if d.Legend == "" {
			x.Legends[j] = "series " + strconv.Itoa(j+1)
		}
	}
	return &x, nil
}

// CheckSize refuses (ErrTooBig) an export of g of more than maxPoints
// values, as Run does, for callers with work to do before Run.
func CheckSize(g *render.Graph, maxPoints int) error {
	step := int64(g.XportStep())
	rows := (g.End-g.Start)/step + 1
	if n := rows * int64(len(g.Draws)); n > int64(maxPoints) || rows > render.MaxXportRows-2 {
		return fmt.Errorf("%w: %d values (%d rows × %d series) is more than the limit of %d values an export ([web] max_export_points); choose a larger step or a shorter range",
			ErrTooBig, n, rows, len(g.Draws), maxPoints)
	}
	return nil
}

// finite returns a copy of g whose draws go through a CDEF that turns
// ±infinity into unknown: the worker sends rows as JSON, which has no
// infinity, and a single one would fail the whole export.
func finite(g *render.Graph) *render.Graph {
	c := *g
	taken := map[string]bool{}
	for _, d := range g.Defs {
		taken[d.Name] = true
	}
	for _, d := range g.Data {
		taken[d.Name] = true
	}
	for _, d := range g.CDefs {
		taken[d.Name] = true
	}
	c.CDefs = append([]render.CDef(nil), g.CDefs...)
	c.Draws = append([]render.Draw(nil), g.Draws...)
	for j := range c.Draws {
		name := "xfin" + strconv.Itoa(j)
		for taken[name] {
			name += "x"
		}
		taken[name] = true
		v := c.Draws[j].Name
		c.CDefs = append(c.CDefs, render.CDef{Name: name, RPN: []string{v, "ISINF", "UNKN", v, "IF"}})
		c.Draws[j].Name = name
	}
	return &c
}
