package web

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"graphmetrics/web/render"
	"graphmetrics/web/tree"
)

// Group views (SPEC §6).
const (
	viewAll      = "all"
	viewRPM      = "rpm"
	viewMaxRPM   = "maxrpm"
	viewHeadroom = "headroom"
)

var viewTitles = map[string]string{
	viewAll: "all (sums)", viewRPM: "compare rpm", viewMaxRPM: "compare max rpm", viewHeadroom: "max headroom",
}

// Chart is one tracelog chart as saved on a page and as encoded in a graph
// URL. It shows one instance (Instance set) or a group (Group set).
type Chart struct {
	ID        int      `json:"id"`
	Customer  string   `json:"customer"`
	Host      string   `json:"host,omitempty"`
	Instance  string   `json:"instance,omitempty"`
	GroupKind string   `json:"group_kind,omitempty"` // tree.Pool or tree.Host
	Group     string   `json:"group,omitempty"`
	View      string   `json:"view,omitempty"`
	Hours     int      `json:"hours,omitempty"` // trailing window; else Start..End
	Start     int64    `json:"start,omitempty"`
	End       int64    `json:"end,omitempty"`
	Step      int      `json:"step,omitempty"` // seconds; 0 = automatic
	Log       bool     `json:"log,omitempty"`
	Min       *float64 `json:"min,omitempty"`
	Max       *float64 `json:"max,omitempty"`
	Width     int      `json:"width"`
	Height    int      `json:"height"`
}

const (
	defaultHours  = 24
	defaultWidth  = 800
	defaultHeight = 250
	maxHours      = render.MaxSpan / 3600
	dateLayout    = "2006-01-02T15:04"
)

// Trailing reports whether the chart follows the current time.
func (c *Chart) Trailing() bool { return c.Hours > 0 }

// IsGroup reports whether the chart shows a group.
func (c *Chart) IsGroup() bool { return c.Group != "" }

// parseChart reads a chart from form or query values, checking every
// bound; names are checked against the tree separately (resolve).
func parseChart(v url.Values, loc *time.Location) (Chart, error) {
	c := Chart{
		Customer: v.Get("customer"), Host: v.Get("host"), Instance: v.Get("instance"),
		GroupKind: v.Get("gkind"), Group: v.Get("group"), View: v.Get("view"),
		Log: v.Get("log") != "",
	}
	if c.Group != "" {
		if c.GroupKind != tree.Pool && c.GroupKind != tree.Host {
			return c, fmt.Errorf("gkind must be %q or %q", tree.Pool, tree.Host)
		}
		if viewTitles[c.View] == "" {
			return c, fmt.Errorf("view must be one of all, rpm, maxrpm, headroom")
		}
		c.Host, c.Instance = "", ""
	} else {
		c.GroupKind, c.View = "", ""
		if c.Instance == "" || c.Host == "" {
			return c, errors.New("choose an instance or a group")
		}
	}
	if c.Customer == "" {
		return c, errors.New("customer missing")
	}
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
	if err := render.ValidateLimits(c.Min, c.Max, c.Log); err != nil {
		return c, err
	}
	if fixed {
		if err := render.ValidateRange(c.Start, c.End, c.Step); err != nil {
			return c, err
		}
	}
	return c, nil
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

// target encodes what the chart shows.
func (c *Chart) target() url.Values {
	if c.IsGroup() {
		return url.Values{"customer": {c.Customer}, "gkind": {c.GroupKind}, "group": {c.Group}, "view": {c.View}}
	}
	return url.Values{"customer": {c.Customer}, "host": {c.Host}, "instance": {c.Instance}}
}

// Query encodes the chart for its graph URL.
func (c *Chart) Query() url.Values {
	v := c.target()
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
	return v
}

// Title describes what the chart shows.
func (c *Chart) Title() string {
	if c.IsGroup() {
		return c.Customer + " " + c.Group + ": " + viewTitles[c.View]
	}
	return c.Customer + " " + c.Instance + " on " + c.Host
}

// timeRange returns the chart's start and end at now.
func (c *Chart) timeRange(now time.Time) (int64, int64) {
	if c.Trailing() {
		end := now.Unix()
		return end - int64(c.Hours)*3600, end
	}
	return c.Start, c.End
}
