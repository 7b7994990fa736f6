package web

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"graphmetrics/web/render"
	"graphmetrics/web/tree"
)

var errNoTarget = errors.New("no such instance or group")

const maxGroupInstances = 200

// Colours of the one-instance lines, and a palette for comparisons: Okabe
// and Ito's colour-blind-safe set first (also in web/static/app.js).
const (
	colRPM     = "0072b2"
	colEPM     = "d55e00"
	colWaiting = "009e73"
	colMaxRPM  = "cc79a7"
	colRestart = "e69f00aa"
	colHung    = "56b4e9"
)

var palette = []string{"0072b2", "e69f00", "009e73", "d55e00", "cc79a7", "56b4e9", "f0e442",
	"7f7f7f", "332288", "88ccee", "117733", "999933", "882255", "44aa99", "aa4499"}

// resolve finds the chart's instances in the tree: only names that exist
// there ever lead to a file path.
func resolve(t *tree.Tree, c *Chart) (*tree.Group, error) {
	if c.IsGroup() {
		g := t.Group(c.Customer, c.GroupKind, c.Group)
		if g == nil {
			return nil, fmt.Errorf("%w: group %q of %q", errNoTarget, c.Group, c.Customer)
		}
		return g, nil
	}
	i := t.Instance(c.Host, c.Customer, c.Instance)
	if i == nil {
		return nil, fmt.Errorf("%w: instance %q of %q on %q", errNoTarget, c.Instance, c.Customer, c.Host)
	}
	return &tree.Group{Customer: i.Customer, Kind: tree.Host, Name: i.Host, Instances: []*tree.Instance{i}}, nil
}

// chartGraph builds the librrd drawing of a chart.
func chartGraph(t *tree.Tree, c *Chart, now time.Time) (*render.Graph, error) {
	grp, err := resolve(t, c)
	if err != nil {
		return nil, err
	}
	if len(grp.Instances) > maxGroupInstances {
		return nil, fmt.Errorf("group %s has %d instances; charts take at most %d", grp.Name, len(grp.Instances), maxGroupInstances)
	}
	g := c.Controls.graph(now, c.Title())
	g.VLabel = "per minute"
	b := builder{g: g}
	switch {
	case !c.IsGroup():
		b.instance(grp.Instances[0])
	case c.View == viewAll:
		b.all(grp.Instances)
	case c.View == viewRPM:
		for k, i := range grp.Instances {
			b.line("LINE1", b.rpm(k, i), palette[k%len(palette)], grp.Label(i), false)
		}
		b.restarts(grp.Instances)
	case c.View == viewMaxRPM:
		for k, i := range grp.Instances {
			b.line("LINE1", b.spr(k, i), palette[k%len(palette)], grp.Label(i), false)
		}
		b.restarts(grp.Instances)
	case c.View == viewHeadroom:
		b.headroom(grp.Instances)
		g.VLabel = "percent"
	}
	return g, nil
}

// builder appends DEFs, CDEFs and drawings with generated names; RRD data
// source names are the fixed SPEC §4 ones.
type builder struct{ g *render.Graph }

func (b *builder) def(name string, i *tree.Instance, ds string) string {
	b.g.Defs = append(b.g.Defs, render.Def{Name: name, File: i.File, DS: ds, CF: "AVERAGE"})
	return name
}

func (b *builder) cdef(name string, rpn ...string) string {
	b.g.CDefs = append(b.g.CDefs, render.CDef{Name: name, RPN: rpn})
	return name
}

func (b *builder) line(typ, name, color, legend string, dashed bool) {
	b.g.Draws = append(b.g.Draws, render.Draw{Type: typ, Name: name, Color: color, Legend: legend, Dashed: dashed})
}

func n(prefix string, k int) string { return prefix + strconv.Itoa(k) }

// rpm is requests×60: the per-second average times 60 is the per-minute rate.
func (b *builder) rpm(k int, i *tree.Instance) string {
	return b.cdef(n("rpm", k), b.def(n("req", k), i, "requests"), "60", "*")
}

// spr is the estimated maximum rate, 60 × app_n / app_sum; unknown when no
// request finished in the interval.
func (b *builder) spr(k int, i *tree.Instance) string {
	as := b.def(n("asum", k), i, "app_sum")
	an := b.def(n("an", k), i, "app_n")
	return b.cdef(n("spr", k), as, "0", "GT", an, as, "/", "60", "*", "UNKN", "IF")
}

// sum adds names, treating unknown as zero unless all are unknown.
func sum(names []string) []string {
	rpn := []string{names[0]}
	for _, x := range names[1:] {
		rpn = append(rpn, x, "ADDNAN")
	}
	return rpn
}

func (b *builder) instance(i *tree.Instance) {
	rpm := b.rpm(0, i)
	epm := b.cdef("epm", b.def("err", i, "errors"), "60", "*")
	wait := b.def("wait", i, "waiting")
	spr := b.spr(0, i)
	restart := b.cdef("restart", b.def("st", i, "starts"), "0", "GT")
	b.lines(rpm, epm, wait, spr, restart)
	// hung is a level like waiting: on waiting's axis in browser charts.
	b.line("LINE1", b.def("hung", i, "hung"), colHung, "hung", false)
	b.g.Draws[len(b.g.Draws)-1].Own = true
}

func (b *builder) lines(rpm, epm, wait, spr, restart string) {
	b.line("LINE2", rpm, colRPM, "rpm", false)
	b.line("LINE1", epm, colEPM, "epm", false)
	b.waiting(wait)
	b.line("LINE1", spr, colMaxRPM, "max rpm", true)
	b.line("TICK", restart, colRestart, "restarts", false)
}

// waiting is the backlog, on its own axis in browser charts.
func (b *builder) waiting(name string) {
	b.line("LINE1", name, colWaiting, "waiting", false)
	b.g.Draws[len(b.g.Draws)-1].Own = true
	b.g.OwnLabel = "waiting"
}

// restarts ticks where any instance of the group started.
func (b *builder) restarts(is []*tree.Instance) {
	st := make([]string, len(is))
	for k, i := range is {
		st[k] = b.def(n("st", k), i, "starts")
	}
	b.line("TICK", b.cdef("restart", append(sum(st), "0", "GT")...), colRestart, "restarts", false)
}

func (b *builder) all(is []*tree.Instance) {
	var rpm, epm, wait, spr, st []string
	for k, i := range is {
		rpm = append(rpm, b.rpm(k, i))
		epm = append(epm, b.def(n("err", k), i, "errors"))
		wait = append(wait, b.def(n("wait", k), i, "waiting"))
		spr = append(spr, b.spr(k, i))
		st = append(st, b.def(n("st", k), i, "starts"))
	}
	b.lines(
		b.cdef("sumrpm", sum(rpm)...),
		b.cdef("sumepm", append(sum(epm), "60", "*")...),
		b.cdef("sumwait", sum(wait)...),
		b.cdef("sumspr", sum(spr)...),
		b.cdef("restart", append(sum(st), "0", "GT")...),
	)
}

// headroom is (Σspr − Σrpm) / Σspr × 100 over the group, with the
// group's epm and waiting, as the original drew them.
func (b *builder) headroom(is []*tree.Instance) {
	var rpm, spr, epm, wait []string
	for k, i := range is {
		rpm = append(rpm, b.rpm(k, i))
		spr = append(spr, b.spr(k, i))
		epm = append(epm, b.def(n("err", k), i, "errors"))
		wait = append(wait, b.def(n("wait", k), i, "waiting"))
	}
	s := b.cdef("sumspr", sum(spr)...)
	r := b.cdef("sumrpm", sum(rpm)...)
	h := b.cdef("headroom", s, "0", "GT", s, r, "-", s, "/", "100", "*", "UNKN", "IF")
	b.line("LINE2", h, colRPM, "headroom %", false)
	b.line("LINE1", b.cdef("sumepm", append(sum(epm), "60", "*")...), colEPM, "epm", false)
	b.waiting(b.cdef("sumwait", sum(wait)...))
	b.restarts(is)
}
