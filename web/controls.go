package web

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"graphmetrics/web/render"
)

// Controls are what every chart, on "/" and on "/metrics", lets its owner
// set: the time range (a trailing window or start..end), step, log scale,
// axis limits and size. Embedded in the chart types, so the fields sit at
// the top level of a saved chart's JSON.
type Controls struct {
	Hours  int      `json:"hours,omitempty"` // trailing window; else Start..End
	Start  int64    `json:"start,omitempty"`
	End    int64    `json:"end,omitempty"`
	Step   int      `json:"step,omitempty"` // seconds; 0 = automatic
	Log    bool     `json:"log,omitempty"`
	Min    *float64 `json:"min,omitempty"`
	Max    *float64 `json:"max,omitempty"`
	Width  int      `json:"width"`
	Height int      `json:"height"`
}

const (
	defaultHours  = 24
	defaultWidth  = 800
	defaultHeight = 250
	maxHours      = render.MaxSpan / 3600
	dateLayout    = "2006-01-02T15:04"
)

// Trailing reports whether the chart follows the current time.
func (c *Controls) Trailing() bool { return c.Hours > 0 }

// parseControls reads the controls from form or query values (keys range,
// hours, start, end, step, log, min, max, w, h), checking every bound.
func parseControls(v url.Values, loc *time.Location) (Controls, error) {
	c := Controls{Log: v.Get("log") != ""}
	var err error
	fixed := v.Get("range") == "fixed" || (v.Get("range") == "" && v.Get("start") != "")
	if fixed {
		if c.Start, err = parseTime(v.Get("start"), loc); err != nil {
			return c, fmt.Errorf("start: %w", err)
		}
		if c.End, err = parseTime(v.Get("end"), loc); err != nil {
			return c, fmt.Errorf("end: %w", err)
		}
	} else if c.Hours, err = intField(v, "hours", "hours", defaultHours, 1, maxHours); err != nil {
		return c, err
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
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	for _, layout := range []string{dateLayout, "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t.Unix(), nil
		}
	}
	return 0, fmt.Errorf("%q is not a time (YYYY-MM-DDTHH:MM)", s)
}

// encode adds the controls to v, in the keys parseControls reads.
func (c *Controls) encode(v url.Values) {
	if c.Trailing() {
		v.Set("hours", strconv.Itoa(c.Hours))
	} else {
		v.Set("start", strconv.FormatInt(c.Start, 10))
		v.Set("end", strconv.FormatInt(c.End, 10))
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

// timeRange returns the chart's start and end at now.
func (c *Controls) timeRange(now time.Time) (int64, int64) {
	if c.Trailing() {
		end := now.Unix()
		return end - int64(c.Hours)*3600, end
	}
	return c.Start, c.End
}

// settled reports whether the chart's image can no longer change: a fixed
// range that ended long enough ago.
func (c *Controls) settled(now time.Time) bool {
	return !c.Trailing() && c.End < now.Add(-settledAfter).Unix()
}

// graph starts a render.Graph with the controls applied.
func (c *Controls) graph(now time.Time, title string) *render.Graph {
	start, end := c.timeRange(now)
	return &render.Graph{Start: start, End: end, Step: c.Step, Width: c.Width, Height: c.Height,
		Title: title, Log: c.Log, Lower: c.Min, Upper: c.Max}
}
