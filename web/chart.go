package web

import (
	"errors"
	"fmt"
	"net/url"
	"time"

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
	viewLatency: "app time percentiles", viewHeatmap: "app time heatmap",
}

// Chart is one tracelog chart as saved on a page and as encoded in a graph
// URL. It shows one instance (Instance set) or a group (Group set).
type Chart struct {
	ID        int    `json:"id"`
	Customer  string `json:"customer"`
	Host      string `json:"host,omitempty"`
	Instance  string `json:"instance,omitempty"`
	GroupKind string `json:"group_kind,omitempty"` // tree.Pool or tree.Host
	Group     string `json:"group,omitempty"`
	View      string `json:"view,omitempty"`
	Controls
}

// IsGroup reports whether the chart shows a group.
func (c *Chart) IsGroup() bool { return c.Group != "" }

// parseChart reads a chart from form or query values, checking every
// bound; names are checked against the tree separately (resolve).
func parseChart(v url.Values, loc *time.Location) (Chart, error) {
	if t := v.Get("target"); t != "" && v.Get("customer") == "" {
		// One field, as the overview's "chart" buttons send it.
		var c Chart
		if err := setTarget(&c, t, v.Get("view")); err != nil {
			return c, err
		}
		var err error
		c.Controls, err = parseControls(v, loc)
		return c, err
	}
	c := Chart{
		Customer: v.Get("customer"), Host: v.Get("host"), Instance: v.Get("instance"),
		GroupKind: v.Get("gkind"), Group: v.Get("group"), View: v.Get("view"),
	}
	if c.Group != "" {
		if c.GroupKind != tree.Pool && c.GroupKind != tree.Host {
			return c, fmt.Errorf("gkind must be %q or %q", tree.Pool, tree.Host)
		}
		if viewTitles[c.View] == "" {
			return c, fmt.Errorf("view must be one of all, rpm, maxrpm, headroom, latency, heatmap")
		}
		c.Host, c.Instance = "", ""
	} else {
		c.GroupKind = ""
		if !c.histView() {
			c.View = ""
		}
		if c.Instance == "" || c.Host == "" {
			return c, errors.New("choose an instance or a group")
		}
	}
	if c.Customer == "" {
		return c, errors.New("customer missing")
	}
	var err error
	c.Controls, err = parseControls(v, loc)
	return c, err
}

// target encodes what the chart shows.
func (c *Chart) target() url.Values {
	if c.IsGroup() {
		return url.Values{"customer": {c.Customer}, "gkind": {c.GroupKind}, "group": {c.Group}, "view": {c.View}}
	}
	v := url.Values{"customer": {c.Customer}, "host": {c.Host}, "instance": {c.Instance}}
	if c.View != "" {
		v.Set("view", c.View)
	}
	return v
}

// Query encodes the chart for its graph and export URLs.
func (c *Chart) Query() url.Values {
	v := c.target()
	c.Controls.encode(v)
	return v
}

// Title describes what the chart shows.
func (c *Chart) Title() string {
	if c.IsGroup() {
		return c.Customer + " " + c.Group + ": " + viewTitles[c.View]
	}
	t := c.Customer + " " + c.Instance + " on " + c.Host
	if c.View != "" {
		t += ": " + viewTitles[c.View]
	}
	return t
}
