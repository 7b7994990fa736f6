package render

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"graphmetrics/web/rpn"
)

// Bounds on what a graph may ask of librrd. They are checked on both sides
// of the pipe: by the server before it sends a request and again by the
// worker before anything reaches librrd.
const (
	MinWidth  = 200
	MaxWidth  = 2000
	MinHeight = 80
	MaxHeight = 1000
	MaxSpan   = 800 * 24 * 3600 // seconds of time range
	MaxStep   = 86400
	// MinTime and MaxTime bound start and end (1990 to 2100).
	MinTime = 631152000
	MaxTime = 4102444800

	maxElements = 2000
	maxText     = 400 // bytes: 100 characters of any script
)

// Graph is one chart image in structured form. The server builds it only
// from validated parameters; Elements turns it into librrd arguments with
// every piece of text escaped, so names never reach librrd raw.
type Graph struct {
	Start  int64    `json:"start"` // Unix seconds
	End    int64    `json:"end"`
	Step   int      `json:"step,omitempty"` // seconds; 0 lets rrd choose
	Width  int      `json:"width"`          // whole image, pixels
	Height int      `json:"height"`
	Title  string   `json:"title,omitempty"`
	VLabel string   `json:"vlabel,omitempty"`
	Log    bool     `json:"log,omitempty"`
	Lower  *float64 `json:"lower,omitempty"` // axis limits; rigid when set
	Upper  *float64 `json:"upper,omitempty"`
	// RightAxis repeats the left axis on the right, for wide charts.
	RightAxis bool `json:"right_axis,omitempty"`
	// OwnScale multiplies the lines marked Own, and the right axis reads
	// in their units, labelled OwnLabel (ownaxis.go); 0 lets the worker
	// choose it from the data.
	OwnScale float64 `json:"own_scale,omitempty"`
	OwnShift float64 `json:"own_shift,omitempty"` // where own lines' zero lies on the left axis
	OwnLabel string  `json:"own_label,omitempty"`
	Dark     bool    `json:"dark,omitempty"` // the dark theme
	Zoom     int     `json:"zoom,omitempty"` // 2: twice the pixels, for HiDPI screens; else 1
	Defs     []Def   `json:"defs"`
	// Data are DEFs whose values travel in the request (the /metrics
	// app-time percentiles, computed by the server from histograms): Name
	// is the vname; the worker writes each into an RRD file of its own
	// (datadef.go), so CDEFs, drawing and export treat them like Defs.
	Data  []DataSeries `json:"data,omitempty"`
	CDefs []CDef       `json:"cdefs,omitempty"`
	Draws []Draw       `json:"draws"`
}

// Def reads one data source of one RRD file.
type Def struct {
	Name string `json:"name"`
	File string `json:"file"` // absolute, under the worker's root
	DS   string `json:"ds"`
	CF   string `json:"cf"`
}

// CDef computes a series from earlier ones; RPN is a list of tokens.
type CDef struct {
	Name string   `json:"name"`
	RPN  []string `json:"rpn"`
}

// Draw puts one series on the image.
type Draw struct {
	Type   string `json:"type"` // LINE1, LINE2, LINE3, AREA or TICK
	Name   string `json:"name"`
	Color  string `json:"color"` // rrggbb or rrggbbaa
	Legend string `json:"legend,omitempty"`
	Dashed bool   `json:"dashed,omitempty"`
	// Own puts the line on an axis of its own: the right one, in browser
	// charts and (scaled, ownaxis.go) in librrd's.
	Own bool `json:"own,omitempty"`
}

var (
	// ErrInvalid wraps every validation failure.
	ErrInvalid = errors.New("invalid graph")

	vnameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,30}$`)
	dsRE    = regexp.MustCompile(`^[A-Za-z0-9_]{1,19}$`)
	colorRE = regexp.MustCompile(`^[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$`)
	cfs     = map[string]bool{"AVERAGE": true, "MIN": true, "MAX": true, "LAST": true}
	drawing = map[string]bool{"LINE1": true, "LINE2": true, "LINE3": true, "AREA": true, "TICK": true}
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Validate checks every field; files must lie under root (an absolute,
// clean directory).
func (g *Graph) Validate(root string) error {
	if g.Width < MinWidth || g.Width > MaxWidth {
		return invalid("width %d not in %d..%d", g.Width, MinWidth, MaxWidth)
	}
	if g.Height < MinHeight || g.Height > MaxHeight {
		return invalid("height %d not in %d..%d", g.Height, MinHeight, MaxHeight)
	}
	if err := ValidateRange(g.Start, g.End, g.Step); err != nil {
		return err
	}
	if err := checkText("title", g.Title); err != nil {
		return err
	}
	if err := checkText("vlabel", g.VLabel); err != nil {
		return err
	}
	if err := ValidateLimits(g.Lower, g.Upper, g.Log); err != nil {
		return err
	}
	if err := checkText("own_label", g.OwnLabel); err != nil {
		return err
	}
	if g.OwnScale != 0 && !(g.OwnScale >= minOwnScale && g.OwnScale <= maxOwnScale) {
		return invalid("own_scale %v not in %g..%g", g.OwnScale, minOwnScale, maxOwnScale)
	}
	if !(math.Abs(g.OwnShift) <= 1e15) {
		return invalid("own_shift %v out of bounds", g.OwnShift)
	}
	if g.Zoom < 0 || g.Zoom > 2 {
		return invalid("zoom %d not 1 or 2", g.Zoom)
	}
	if len(g.Defs)+len(g.Data) == 0 || len(g.Draws) == 0 {
		return invalid("no data to draw")
	}
	if len(g.Defs)+len(g.Data)+len(g.CDefs)+len(g.Draws) > maxElements {
		return invalid("more than %d elements", maxElements)
	}
	names := map[string]bool{}
	define := func(n string) error {
		if !vnameRE.MatchString(n) {
			return invalid("bad name %q", n)
		}
		if names[n] {
			return invalid("name %q defined twice", n)
		}
		names[n] = true
		return nil
	}
	for _, d := range g.Defs {
		if err := define(d.Name); err != nil {
			return err
		}
		if err := checkFile(root, d.File); err != nil {
			return err
		}
		if !dsRE.MatchString(d.DS) {
			return invalid("bad data source %q", d.DS)
		}
		if !cfs[d.CF] {
			return invalid("bad consolidation %q", d.CF)
		}
	}
	if err := validateData(g.Data); err != nil {
		return err
	}
	for _, d := range g.Data {
		if err := define(d.Name); err != nil {
			return err
		}
	}
	for _, c := range g.CDefs {
		if err := rpn.Check(c.RPN, func(n string) bool { return names[n] }); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalid, c.Name, err)
		}
		if err := define(c.Name); err != nil {
			return err
		}
	}
	for _, d := range g.Draws {
		if !drawing[d.Type] {
			return invalid("bad drawing %q", d.Type)
		}
		if !names[d.Name] {
			return invalid("draw of undefined %q", d.Name)
		}
		if !colorRE.MatchString(d.Color) {
			return invalid("bad colour %q", d.Color)
		}
		if err := checkText("legend", d.Legend); err != nil {
			return err
		}
	}
	return nil
}

// ValidateRange checks a time range and step against the bounds.
func ValidateRange(start, end int64, step int) error {
	if start < MinTime || end > MaxTime || start >= end {
		return invalid("time range %d..%d out of bounds", start, end)
	}
	if end-start > MaxSpan {
		return invalid("time range longer than %d days", MaxSpan/86400)
	}
	if step < 0 || step > MaxStep {
		return invalid("step %d not in 0..%d", step, MaxStep)
	}
	return nil
}

// ValidateLimits checks axis limits: finite, ordered, positive on a log axis.
func ValidateLimits(lower, upper *float64, log bool) error {
	for _, v := range []*float64{lower, upper} {
		if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0) || math.Abs(*v) > 1e15) {
			return invalid("axis limit %v out of bounds", *v)
		}
	}
	if lower != nil && upper != nil && *lower >= *upper {
		return invalid("lower limit %v not below upper limit %v", *lower, *upper)
	}
	if log && lower != nil && *lower <= 0 {
		return invalid("log scale needs a positive lower limit")
	}
	return nil
}

func checkText(what, s string) error {
	if len(s) > maxText {
		return invalid("%s longer than %d bytes", what, maxText)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '\uFFFD' {
			return invalid("%s contains a control character", what)
		}
	}
	return nil
}

func checkFile(root, f string) error {
	if !filepath.IsAbs(root) || filepath.Clean(root) != root {
		return invalid("root %q not absolute and clean", root)
	}
	if !filepath.IsAbs(f) || filepath.Clean(f) != f || !strings.HasSuffix(f, ".rrd") {
		return invalid("file %q not a clean absolute .rrd path", f)
	}
	if !strings.HasPrefix(f, strings.TrimSuffix(root, "/")+"/") {
		return invalid("file %q outside %q", f, root)
	}
	for _, r := range f {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return invalid("file %q contains a control character or backslash", f)
		}
	}
	return nil
}

// Elements returns the DEF, CDEF and drawing arguments, escaped for librrd.
func (g *Graph) Elements() []string {
	out := make([]string, 0, len(g.Defs)+len(g.CDefs)+len(g.Draws))
	out = append(out, g.dataElements()...)
	for i, d := range g.Draws {
		out = append(out, d.element(g.drawName(i)))
	}
	return out
}

// element is the drawing argument of d, drawing the series name.
func (d Draw) element(name string) string {
	s := d.Type + ":" + name + "#" + d.Color
	if d.Type == "TICK" {
		s += ":1"
	}
	switch {
	case d.Legend != "" && d.Type == "TICK":
		// rrdtool 1.7.2 drops the first two characters of a TICK legend
		// (rrdtool graph … TICK:x#0f0:1:ticks shows "cks"); two spaces
		// in front keep the whole word.
		s += ":  " + escape(d.Legend)
	case d.Legend != "":
		s += ":" + escape(d.Legend)
	case d.Dashed && d.Type != "TICK":
		s += ":"
	}
	if d.Dashed && d.Type != "TICK" {
		s += ":dashes"
	}
	return s
}

func (g *Graph) dataElements() []string {
	var out []string
	for _, d := range g.Defs {
		out = append(out, "DEF:"+d.Name+"="+escape(d.File)+":"+d.DS+":"+d.CF)
	}
	for _, c := range g.CDefs {
		out = append(out, "CDEF:"+c.Name+"="+strings.Join(c.RPN, ","))
	}
	return append(out, g.scaleElements()...)
}

// Options returns the rrd graph options other than start, end, title and
// vertical label (which the librrd binding sets itself).
func (g *Graph) Options() []string {
	o := []string{
		"--width", strconv.Itoa(g.Width), "--height", strconv.Itoa(g.Height),
		"--full-size-mode", "--slope-mode", "--disable-rrdtool-tag",
	}
	if g.Step > 0 {
		o = append(o, "--step", strconv.Itoa(g.Step))
	}
	if g.Log {
		o = append(o, "--logarithmic")
	}
	if g.Lower != nil {
		o = append(o, "--lower-limit", strconv.FormatFloat(*g.Lower, 'g', -1, 64))
	}
	if g.Upper != nil {
		o = append(o, "--upper-limit", strconv.FormatFloat(*g.Upper, 'g', -1, 64))
	}
	if g.Lower != nil || g.Upper != nil {
		o = append(o, "--rigid")
	}
	o = append(o, g.rightAxisOptions()...)
	return append(o, g.themeOptions()...)
}

// GraphArgs is the complete `rrdtool graph -` argument list (after the
// file name), for tests and for people who want to reproduce a chart. Data
// series have no file until a worker writes one: their DEFs are missing.
func (g *Graph) GraphArgs() []string {
	a := []string{"--start", strconv.FormatInt(g.Start, 10), "--end", strconv.FormatInt(g.End, 10),
		"--title", g.Title, "--vertical-label", g.VLabel}
	a = append(a, g.Options()...)
	return append(a, g.GraphElements()...)
}

// XportStep is the step xport uses: the chosen one, else one image pixel.
func (g *Graph) XportStep() int {
	if g.Step > 0 {
		return g.Step
	}
	s := int((g.End - g.Start) / int64(g.Width))
	return max(s, 1)
}

// XportArgs is the `rrdtool xport` argument list of the drawn series.
func (g *Graph) XportArgs() []string {
	a := []string{"--start", strconv.FormatInt(g.Start, 10), "--end", strconv.FormatInt(g.End, 10),
		"--step", strconv.Itoa(g.XportStep())}
	a = append(a, g.dataElements()...)
	for _, d := range g.Draws {
		a = append(a, "XPORT:"+d.Name+":"+escape(d.Legend))
	}
	return a
}

// escape makes text safe inside one colon-separated rrd argument: colons
// are escaped and backslashes (rrd's own escapes such as \n, \g) removed.
func escape(s string) string {
	s = strings.ReplaceAll(s, `\`, "/")
	return strings.ReplaceAll(s, ":", `\:`)
}
