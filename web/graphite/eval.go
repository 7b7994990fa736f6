package graphite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// InputError is a request error that becomes a 400 with Graphite's
// message shape, "Invalid parameters (…)".
type InputError struct{ Msg string }

func (e *InputError) Error() string { return "Invalid parameters (" + e.Msg + ")" }

func inputErr(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// Limits bound one request.
type Limits struct {
	MaxSeries int // series fetched per request ([web] max_render_series)
	MaxPoints int // points fetched per request (the export cap)
	MaxVisit  int // tree nodes one pattern may visit
}

// Evaluator evaluates targets over the name tree through the fetcher.
type Evaluator struct {
	Names   *Names
	Fetcher *Fetcher
	Limits  Limits
}

// Request is one render request's time range and settings.
type Request struct {
	From, Until  int64 // epoch seconds, From < Until
	Now          time.Time
	Loc          *time.Location
	XFilesFactor float64
}

// evalCtx carries one evaluation: its range (functions such as timeShift
// evaluate their arguments over another one) and the request's budget.
type evalCtx struct {
	ctx         context.Context
	ev          *Evaluator
	from, until int64
	req         *Request
	budget      *budget
}

type budget struct {
	mu             sync.Mutex
	series, points int
	lim            Limits
}

func (b *budget) take(series, points int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.series += series
	b.points += points
	if b.series > b.lim.MaxSeries {
		return inputErr("the request reads more than %d series ([web] max_render_series)", b.lim.MaxSeries)
	}
	if b.points > b.lim.MaxPoints {
		return inputErr("the request reads more than %d points; shorten the range", b.lim.MaxPoints)
	}
	return nil
}

// Eval evaluates one parsed target.
func (ev *Evaluator) Eval(ctx context.Context, e *Expr, req *Request) ([]*Series, error) {
	return ev.EvalAll(ctx, []*Expr{e}, req)
}

// EvalAll evaluates targets in order, sharing one budget.
func (ev *Evaluator) EvalAll(ctx context.Context, targets []*Expr, req *Request) ([]*Series, error) {
	b := &budget{lim: ev.Limits}
	var out []*Series
	for _, t := range targets {
		ec := &evalCtx{ctx: ctx, ev: ev, from: req.From, until: req.Until, req: req, budget: b}
		list, err := ec.eval(t)
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
	}
	return out, nil
}

func (ec *evalCtx) with(from, until int64) *evalCtx {
	c := *ec
	c.from, c.until = from, until
	return &c
}

func (ec *evalCtx) eval(e *Expr) ([]*Series, error) {
	switch e.Kind {
	case KindPath:
		return ec.fetch(e.Str)
	case KindCall:
		f, ok := functions[e.Str]
		if !ok {
			return nil, inputErr("Received request for unknown function: %s", e.Str)
		}
		c, err := bind(ec, f, e)
		if err != nil {
			return nil, err
		}
		list, err := f.Fn(c)
		if err != nil {
			var ie *InputError
			if errors.As(err, &ie) && !strings.Contains(ie.Msg, "; func:") {
				ie.Msg += fmt.Sprintf(`; func: "%s"`, e.Raw)
			}
			return nil, err
		}
		return list, nil
	}
	return nil, inputErr("a series list is expected, not %s", e.Raw)
}

// fetch reads every leaf a path pattern matches, sorted by name.
func (ec *evalCtx) fetch(pattern string) ([]*Series, error) {
	if ec.until <= ec.from {
		return nil, nil
	}
	tree := ec.ev.Names.Tree()
	leaves, err := tree.Leaves(pattern, ec.ev.Limits.MaxSeries+1, ec.ev.Limits.MaxVisit)
	if err == nil && len(leaves) == 0 && !hasMeta(pattern) {
		leaves, err = ec.ev.Names.Refresh().Leaves(pattern, ec.ev.Limits.MaxSeries+1, ec.ev.Limits.MaxVisit)
	}
	if errors.Is(err, ErrTooMany) && !strings.Contains(err.Error(), "visits") {
		return nil, inputErr("pattern %q: the request reads more than %d series ([web] max_render_series)", pattern, ec.ev.Limits.MaxSeries)
	}
	if err != nil {
		return nil, inputErr("%v", err)
	}
	if err := ec.budget.take(len(leaves), 0); err != nil {
		return nil, err
	}
	out := make([]*Series, len(leaves))
	errs := make([]error, len(leaves))
	var wg sync.WaitGroup
	for i, l := range leaves {
		wg.Go(func() {
			s, err := ec.ev.Fetcher.Fetch(ec.ctx, l, ec.from, ec.until)
			if err == nil {
				s.PathExpr = pattern
				s.XFilesFactor = ec.req.XFilesFactor
				err = ec.budget.take(0, len(s.Values))
			}
			out[i], errs[i] = s, err
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		var ie *InputError
		if errors.As(err, &ie) {
			return nil, ie
		}
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b *Series) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
