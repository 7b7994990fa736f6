package render

import (
	"fmt"
	"strconv"
)

// The calm theme shared with the browser charts (web/static/app.js and
// style.css): no frame, arrows or shading, light grid, a sans font, and
// a dark variant for browsers that prefer it.
var (
	lightColors = []string{"BACK#ffffff", "CANVAS#ffffff", "SHADEA#ffffff", "SHADEB#ffffff",
		"GRID#eef0f3", "MGRID#dde1e6", "FONT#374151", "AXIS#c4c9d0", "ARROW#ffffff00", "FRAME#ffffff00"}
	darkColors = []string{"BACK#16191d", "CANVAS#16191d", "SHADEA#16191d", "SHADEB#16191d",
		"GRID#23272d", "MGRID#2f343b", "FONT#c9d1d9", "AXIS#3d434b", "ARROW#16191d00", "FRAME#16191d00"}
)

// Font is the sans font of server-drawn charts (fontconfig finds it, or
// its closest match).
const Font = "DejaVu Sans"

// themeOptions are the rrd graph options of the theme, at zoom (1 or 2,
// for HiDPI screens).
func (g *Graph) themeOptions() []string {
	o := []string{"--border", "0", "--font", "DEFAULT:8:" + Font, "--font", "TITLE:10:" + Font,
		"--font", "LEGEND:8:" + Font, "--tabwidth", "30"}
	colors := lightColors
	if g.Dark {
		colors = darkColors
	}
	for _, c := range colors {
		o = append(o, "--color", c)
	}
	if g.Zoom == 2 {
		o = append(o, "--zoom", "2")
	}
	return o
}

// maxStatsLines: charts with more lines than this (group comparisons)
// show legends only, or the stats would crowd out the plot.
const maxStatsLines = 6

// GraphElements are Elements with, after each line's legend, its last,
// mean and maximum over the drawn range (VDEFs named z<kind><n>, a prefix
// no other name of a graph uses) on a line of its own.
func (g *Graph) GraphElements() []string {
	if len(g.Draws) > maxStatsLines {
		return g.Elements()
	}
	out := g.dataElements()
	for i, d := range g.Draws {
		out = append(out, d.element(g.drawName(i)))
		if d.Type == "TICK" || d.Legend == "" {
			continue
		}
		n := strconv.Itoa(i)
		for _, s := range []struct{ kind, fn, label string }{{"l", "LAST", "last"}, {"a", "AVERAGE", "mean"}, {"x", "MAXIMUM", "max"}} {
			v := "z" + s.kind + n
			out = append(out, "VDEF:"+v+"="+d.Name+","+s.fn, fmt.Sprintf(`GPRINT:%s:%s %%8.1lf`, v, s.label))
		}
		out = append(out, `COMMENT:\n`)
	}
	return out
}
