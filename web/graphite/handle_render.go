package graphite

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Render is GET/POST /render: target (several), from, until, now, tz,
// format (json, csv, png), maxDataPoints, noNullPoints, xFilesFactor.
func (a *API) Render(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if err := r.ParseForm(); err != nil {
		badRequest(w, "Invalid parameters (cannot read the form: "+err.Error()+")")
		return
	}
	q := r.Form
	targets := q["target"]
	if len(targets) > maxTargets {
		badRequest(w, "Invalid parameters (more than "+strconv.Itoa(maxTargets)+" targets)")
		return
	}
	req, err := a.parseRange(q.Get("from"), q.Get("until"), q.Get("now"), q.Get("tz"), q.Has("from"), q.Has("until"))
	if err != nil {
		a.fail(w, r, targets, err)
		return
	}
	if v := q.Get("xFilesFactor"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > 1 {
			badRequest(w, "Invalid parameters (xFilesFactor must be a number from 0 to 1)")
			return
		}
		req.XFilesFactor = f
	}
	format := q.Get("format")
	if format == "" {
		format = "png"
	}
	if format != "json" && format != "csv" && format != "png" {
		badRequest(w, "Invalid parameters (format "+strconv.Quote(format)+" is not one of json, csv, png)")
		return
	}
	exprs := make([]*Expr, 0, len(targets))
	for _, t := range targets {
		if strings.TrimSpace(t) == "" {
			continue
		}
		e, err := Parse(t)
		if err != nil {
			a.fail(w, r, targets, err)
			return
		}
		exprs = append(exprs, e)
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.o.Timeout)
	defer cancel()
	list, err := a.ev.EvalAll(ctx, exprs, req)
	if err != nil {
		a.fail(w, r, targets, err)
		return
	}
	switch format {
	case "json":
		mdp := 0
		if v := q.Get("maxDataPoints"); v != "" && allDigits(v) && len(v) < 10 {
			mdp, _ = strconv.Atoi(v)
		}
		applyMaxDataPoints(list, mdp)
		b, err := appendJSON(nil, list, q.Has("noNullPoints"))
		if err != nil {
			a.fail(w, r, targets, &InputError{Msg: err.Error()})
			return
		}
		writeJSONBytes(w, b)
	case "csv":
		w.Header().Set("Content-Type", "text/csv")
		w.Write(appendCSV(nil, list, req.Loc))
	case "png":
		a.renderPNG(ctx, w, r, list, req, targets)
	}
}

func (a *API) renderPNG(ctx context.Context, w http.ResponseWriter, r *http.Request, list []*Series, req *Request, targets []string) {
	if a.o.PNG == nil {
		badRequest(w, "Invalid parameters (format png is not available)")
		return
	}
	width, height := 800, 600
	q := r.Form
	if v, err := strconv.Atoi(q.Get("width")); err == nil {
		width = v
	}
	if v, err := strconv.Atoi(q.Get("height")); err == nil {
		height = v
	}
	png, err := a.o.PNG(ctx, list, req.From, req.Until, width, height, q.Get("title"))
	if err != nil {
		a.fail(w, r, targets, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(png)
}

// parseRange reads from/until as graphite-web does: until defaults to
// now, from to a day before; they are swapped when reversed.
func (a *API) parseRange(from, until, nowS, tz string, hasFrom, hasUntil bool) (*Request, error) {
	loc := a.o.Location
	if tz != "" {
		if l, err := time.LoadLocation(tz); err == nil {
			loc = l
		}
	}
	now := a.o.Now().In(loc)
	if nowS != "" {
		t, err := ParseTime(nowS, now, loc)
		if err != nil {
			return nil, &InputError{Msg: err.Error()}
		}
		now = t
	}
	u := now
	if hasUntil && until != "" {
		t, err := ParseTime(until, now, loc)
		if err != nil {
			return nil, &InputError{Msg: err.Error()}
		}
		u = t
	}
	f := now.Add(-24 * time.Hour)
	if hasFrom && from != "" {
		t, err := ParseTime(from, now, loc)
		if err != nil {
			return nil, &InputError{Msg: err.Error()}
		}
		f = t
	}
	if f.After(u) {
		f, u = u, f
	}
	if !f.Before(u) {
		return nil, inputErr("Invalid empty time range")
	}
	// 1970 to 2100: what a fetch may cover bounds the rows librrd
	// allocates for one file (about a million at 1 h).
	if f.Unix() < 0 || u.Unix() > maxTime {
		return nil, inputErr("time range out of bounds (1970 to 2100)")
	}
	return &Request{From: f.Unix(), Until: u.Unix(), Now: now, Loc: loc}, nil
}
