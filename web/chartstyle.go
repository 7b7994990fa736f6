package web

import (
	"encoding/json"

	"graphmetrics/web/render"
)

// seriesStyle is how the browser chart (static/app.js) draws one series of
// a chart's JSON export, in the export's order: the server image's colour,
// line and dash, and whether it has an axis of its own.
type seriesStyle struct {
	Label  string `json:"label"`
	Color  string `json:"color"`
	Type   string `json:"type"`
	Dashed bool   `json:"dashed,omitempty"`
	Own    bool   `json:"own,omitempty"`
}

// chartStyles is the data-series attribute of a chart's figure: its
// drawings as JSON, or "" when the chart cannot be drawn (its image says
// why).
func chartStyles(g *render.Graph, err error) string {
	if err != nil {
		return ""
	}
	st := make([]seriesStyle, len(g.Draws))
	for i, d := range g.Draws {
		st[i] = seriesStyle{Label: d.Legend, Color: "#" + d.Color, Type: d.Type, Dashed: d.Dashed, Own: d.Own}
	}
	b, _ := json.Marshal(st) // plain data: cannot fail
	return string(b)
}
