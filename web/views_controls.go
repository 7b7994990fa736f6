package web

import (
	"strconv"
	"time"

	"graphmetrics/web/render"
)

// controlsView is what the "controls" template (templates/partials.html)
// shows of a chart's Controls.
type controlsView struct {
	Controls
	RangeText                        string
	HoursInput                       int
	StartInput, EndInput             string
	MinInput, MaxInput               string
	Steps                            []option
	MaxHours, MinW, MaxW, MinH, MaxH int
}

type option struct {
	Value    int
	Label    string
	Selected bool
}

var stepOptions = []option{{0, "auto", false}, {1, "1 s", false}, {10, "10 s", false}, {60, "1 min", false},
	{300, "5 min", false}, {3600, "1 h", false}, {86400, "1 day", false}}

func (s *Server) controlsView(c Controls) controlsView {
	v := controlsView{Controls: c, HoursInput: c.Hours, MaxHours: maxHours,
		MinW: render.MinWidth, MaxW: render.MaxWidth, MinH: render.MinHeight, MaxH: render.MaxHeight}
	start, end := c.timeRange(s.now())
	v.StartInput = time.Unix(start, 0).In(s.loc).Format(dateLayout)
	v.EndInput = time.Unix(end, 0).In(s.loc).Format(dateLayout)
	if !c.Trailing() {
		v.HoursInput = defaultHours
	}
	if c.Pinned() {
		v.RangeText = "pinned: " + c.Window().Label(s.loc)
	}
	if c.Min != nil {
		v.MinInput = strconv.FormatFloat(*c.Min, 'g', -1, 64)
	}
	if c.Max != nil {
		v.MaxInput = strconv.FormatFloat(*c.Max, 'g', -1, 64)
	}
	found := false
	for _, o := range stepOptions {
		o.Selected = o.Value == c.Step
		found = found || o.Selected
		v.Steps = append(v.Steps, o)
	}
	if !found {
		v.Steps = append(v.Steps, option{c.Step, strconv.Itoa(c.Step) + " s", true})
	}
	return v
}
