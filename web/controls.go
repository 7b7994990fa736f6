package web

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"graphmetrics/web/render"
	"graphmetrics/web/timerange"
)

// Controls are what every chart, on "/" and on "/metrics", lets its owner
// set: whether it follows the page's time range or pins its own (a
// trailing window or start..end), step, log scale, axis limits and size.
// Embedded in the chart types, so the fields sit at the top level of a
// saved chart's JSON.
type Controls struct {
	Hours  int      `json:"hours,omitempty"` // trailing window; else Start..End
	Start  int64    `json:"start,omitempty"`
	End    int64    `json:"end,omitempty"`
	Pin    bool     `json:"pin,omitempty"`  // the Hours window is the chart's own, not the page's
	Step   int      `json:"step,omitempty"` // seconds; 0 = automatic
	Log    bool     `json:"log,omitempty"`
	Min    *float64 `json:"min,omitempty"`
	Max    *float64 `json:"max,omitempty"`
	Width  int      `json:"width"`
	Height int      `json:"height"`
	// Page is the page's range, which the chart shows unless it is pinned.
	// Not saved: it comes from the page's URL.
	Page timerange.Range `json:"-"`
}

const (
	defaultHours  = 24
	defaultWidth  = 800
	defaultHeight = 250
	maxHours      = render.MaxSpan / 3600
	dateLayout    = timerange.Layout
)

// Trailing reports whether the chart's saved range is a trailing window
// (the page's, or its own when pinned) rather than start..end.
func (c *Controls) Trailing() bool { return c.Hours > 0 }

// Pinned reports whether the chart shows its own range instead of the
// page's: a fixed one, or a trailing window pinned.
func (c *Controls) Pinned() bool { return !c.Trailing() || c.Pin }

// Window is the range the chart shows.
func (c *Controls) Window() timerange.Range {
	switch {
	case !c.Trailing():
		return timerange.Between(c.Start, c.End)
	case c.Pin:
		return timerange.Last(time.Duration(c.Hours) * time.Hour)
	}
	return c.Page
}

// Refreshes reports whether the chart moves with the current time.
func (c *Controls) Refreshes() bool { return c.Window().Trailing() }

// parseControls reads the controls from form or query values (keys range,
// hours, start, end, from, until, step, log, min, max, w, h), checking
// every bound. range is "page" (follow the page's from/until), "trailing"
// (pin the last hours) or "fixed" (pin start..end); without it, start or
// hours pin the chart, as its URLs carry them.
func parseControls(v url.Values, loc *time.Location) (Controls, error) {
	c := Controls{Log: v.Get("log") != ""}
	var err error
	mode := v.Get("range")
	if mode == "" && v.Get("start") != "" {
		mode = "fixed"
	} else if mode == "" && v.Get("hours") != "" {
		mode = "trailing"
	}
	switch mode {
	case "fixed":
		if c.Start, err = parseTime(v.Get("start"), loc); err != nil {
			return c, fmt.Errorf("start: %w", err)
		}
		if c.End, err = parseTime(v.Get("end"), loc); err != nil {
			return c, fmt.Errorf("end: %w", err)
		}
	case "trailing":
		c.Pin = true
		if c.Hours, err = intField(v, "hours", "hours", defaultHours, 1, maxHours); err != nil {
			return c, err
		}
	case "page", "":
		c.Hours = defaultHours
		if c.Page, err = timerange.FromQuery(v, loc); err != nil {
			return c, err
		}
	default:
		return c, fmt.Errorf("range must be page, trailing or fixed")
	}
	if c.Step, err = intField(v, "step", "step", 0, 0, render.MaxStep); err != nil {
		return c, err
	}
	if c.Width, err = intField(v, "w", "width", defaultWidth, render.MinWidth, render.MaxWidth); err != nil {
		return c, err
	}
	if c.Height, err = intField(v, "h", "height", defaultHeight, render.MinHeight, render.MaxHeight); err != nil {
		return c, err
	}
	if c.Min, err = floatField(v, "min"); err != nil {
		return c, err
	}
	if c.Max, err = floatField(v, "max"); err != nil {
		return c, err
	}
	return c, c.validate()
}

// validate checks bounds of controls that did not come through
// parseControls (charts decoded from JSON).
func (c *Controls) validate() error {
	if c.Trailing() {
		if c.Hours > maxHours {
			return fmt.Errorf("hours must be a whole number from 1 to %d", maxHours)
		}
		if c.Step < 0 || c.Step > render.MaxStep {
			return fmt.Errorf("step must be a whole number from 0 to %d", render.MaxStep)
		}
	} else if err := render.ValidateRange(c.Start, c.End, c.Step); err != nil {
		return err
	}
	if c.Width < render.MinWidth || c.Width > render.MaxWidth {
		return fmt.Errorf("width must be a whole number from %d to %d", render.MinWidth, render.MaxWidth)
	}
	if c.Height < render.MinHeight || c.Height > render.MaxHeight {
		return fmt.Errorf("height must be a whole number from %d to %d", render.MinHeight, render.MaxHeight)
	}
	return render.ValidateLimits(c.Min, c.Max, c.Log)
}

func intField(v url.Values, key, label string, def, lo, hi int) (int, error) {
	s := strings.TrimSpace(v.Get(key))
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s must be a whole number from %d to %d", label, lo, hi)
	}
	return n, nil
}

func floatField(v url.Values, key string) (*float64, error) {
	s := strings.TrimSpace(v.Get(key))
	if s == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("%s must be a number", key)
	}
	return &f, nil
}

// parseTime accepts Unix seconds or a datetime-local value in loc.
func parseTime(s string, loc *time.Location) (int64, error) {
	p, err := timerange.ParsePoint(s, loc)
	if err != nil || !p.Set || p.Rel {
		return 0, fmt.Errorf("%q is not a time (YYYY-MM-DDTHH:MM)", s)
	}
	return p.At, nil
}

// encode adds the controls to v, in the keys parseControls reads: a
// pinned range as hours or start and end, else the page's from and until
// (absolute ends as epoch seconds, so the URL means the same in any zone).
func (c *Controls) encode(v url.Values) {
	switch {
	case !c.Trailing():
		v.Set("start", strconv.FormatInt(c.Start, 10))
		v.Set("end", strconv.FormatInt(c.End, 10))
	case c.Pin:
		v.Set("hours", strconv.Itoa(c.Hours))
	default:
		c.Page.Encode(v, nil)
	}
	if c.Step > 0 {
		v.Set("step", strconv.Itoa(c.Step))
	}
	if c.Log {
		v.Set("log", "1")
	}
	if c.Min != nil {
		v.Set("min", strconv.FormatFloat(*c.Min, 'g', -1, 64))
	}
	if c.Max != nil {
		v.Set("max", strconv.FormatFloat(*c.Max, 'g', -1, 64))
	}
	v.Set("w", strconv.Itoa(c.Width))
	v.Set("h", strconv.Itoa(c.Height))
}

// timeRange returns the chart's start and end at now; a range that does
// not resolve (an until before its from at now) is 0..0, which the
// graph's validation refuses.
func (c *Controls) timeRange(now time.Time) (int64, int64) {
	start, end, err := c.Window().Resolve(now)
	if err != nil {
		return 0, 0
	}
	return start, end
}

// settled reports whether the chart's image can no longer change: a
// range that ended long enough ago.
func (c *Controls) settled(now time.Time) bool {
	return c.Window().Settled(now, settledAfter)
}

// graph starts a render.Graph with the controls applied.
func (c *Controls) graph(now time.Time, title string) *render.Graph {
	start, end := c.timeRange(now)
	return &render.Graph{Start: start, End: end, Step: c.Step, Width: c.Width, Height: c.Height,
		Title: title, Log: c.Log, Lower: c.Min, Upper: c.Max}
}
