package graphite

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// Param describes one parameter, in the shape /functions serves.
type Param struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"` // seriesList, seriesLists, float, integer, string, boolean, node, interval, aggFunc
	Required bool     `json:"required,omitempty"`
	Multiple bool     `json:"multiple,omitempty"`
	Default  any      `json:"default,omitempty"`
	Options  []string `json:"options,omitempty"`
}

// Func is one supported function.
type Func struct {
	Name        string
	Group       string
	Description string
	Params      []Param
	Fn          func(c *call) ([]*Series, error)
}

// functions is filled by the fn_*.go files' tables.
var functions = map[string]*Func{}

func register(fs ...*Func) {
	for _, f := range fs {
		functions[f.Name] = f
	}
}

// call is one function call with its arguments bound to parameters.
type call struct {
	ec   *evalCtx
	f    *Func
	e    *Expr
	args []*Expr // by parameter; the last may be repeated when Multiple
}

// bind checks a call's arguments against the function's parameters, as
// graphite-web's validateParams does, before anything is evaluated.
func bind(ec *evalCtx, f *Func, e *Expr) (*call, error) {
	c := &call{ec: ec, f: f, e: e}
	ps := f.Params
	multi := len(ps) > 0 && ps[len(ps)-1].Multiple
	if len(e.Args)+len(e.Kwargs) > len(ps) && !multi {
		return nil, inputErr(`Too many parameters specified for function "%s"`, f.Name)
	}
	c.args = append(c.args, e.Args...)
	for len(c.args) < len(ps) {
		c.args = append(c.args, nil)
	}
	for _, kw := range e.Kwargs {
		i := -1
		for j, p := range ps {
			if p.Name == kw.Name {
				i = j
			}
		}
		if i < 0 || i < len(e.Args) {
			return nil, inputErr("Unexpected key word arguments: %s", kw.Name)
		}
		c.args[i] = kw.Value
	}
	for i, p := range ps {
		if p.Required && (c.args[i] == nil || c.args[i].Kind == KindNone) {
			return nil, inputErr(`Missing required parameter "%s" for function "%s"`, p.Name, f.Name)
		}
		if len(p.Options) > 0 && c.args[i] != nil && c.args[i].Kind == KindString {
			ok := false
			for _, o := range p.Options {
				ok = ok || o == c.args[i].Str
			}
			if !ok {
				return nil, inputErr(`Invalid option specified for function "%s" parameter "%s": '%s'`, f.Name, p.Name, c.args[i].Str)
			}
		}
	}
	return c, nil
}

func (c *call) badType(i int, typ string) error {
	p := c.f.Params[min(i, len(c.f.Params)-1)]
	raw := "None"
	if i < len(c.args) && c.args[i] != nil {
		raw = c.args[i].Raw
	}
	return inputErr(`Invalid "%s" value specified for function "%s" parameter "%s": %s`, typ, c.f.Name, p.Name, raw)
}

func (c *call) has(i int) bool {
	return i < len(c.args) && c.args[i] != nil && c.args[i].Kind != KindNone
}

// series evaluates argument i as a series list.
func (c *call) series(i int) ([]*Series, error) {
	if !c.has(i) {
		return nil, nil
	}
	a := c.args[i]
	if a.Kind != KindPath && a.Kind != KindCall {
		return nil, c.badType(i, "seriesList")
	}
	return c.ec.eval(a)
}

// seriesNum reads a series list and a number (scale(seriesList, factor)).
func (c *call) seriesNum() ([]*Series, float64, error) {
	list, err := c.series(0)
	if err != nil {
		return nil, 0, err
	}
	f, err := c.number(1, 0)
	return list, f, err
}

// seriesInterval reads a series list and a positive interval
// (summarize(seriesList, "5min")).
func (c *call) seriesInterval() ([]*Series, int64, string, error) {
	list, err := c.series(0)
	if err != nil {
		return nil, 0, "", err
	}
	interval, text, err := c.interval(1, "")
	if err == nil && interval <= 0 {
		err = c.badType(1, "interval")
	}
	return list, interval, text, err
}

// seriesFrom evaluates arguments i… (a Multiple seriesLists parameter)
// into one list, in order.
func (c *call) seriesFrom(i int) ([]*Series, error) {
	var out []*Series
	for j := i; j < len(c.args); j++ {
		l, err := c.series(j)
		if err != nil {
			return nil, err
		}
		out = append(out, l...)
	}
	return out, nil
}

func (c *call) number(i int, def float64) (float64, error) {
	if !c.has(i) {
		return def, nil
	}
	a := c.args[i]
	switch a.Kind {
	case KindNumber:
		return a.Num, nil
	case KindBool:
		if a.Bool {
			return 1, nil
		}
		return 0, nil
	}
	return 0, c.badType(i, "float")
}

func (c *call) integer(i int, def int) (int, error) {
	if !c.has(i) {
		return def, nil
	}
	a := c.args[i]
	if a.Kind != KindNumber || a.Num != math.Trunc(a.Num) || strings.ContainsAny(a.Raw, ".eE") || math.Abs(a.Num) > 1e9 {
		return 0, c.badType(i, "integer")
	}
	return int(a.Num), nil
}

func (c *call) str(i int, def string) (string, error) {
	if !c.has(i) {
		return def, nil
	}
	if c.args[i].Kind != KindString {
		return "", c.badType(i, "string")
	}
	return c.args[i].Str, nil
}

func (c *call) boolean(i int, def bool) (bool, error) {
	if !c.has(i) {
		return def, nil
	}
	a := c.args[i]
	switch {
	case a.Kind == KindBool:
		return a.Bool, nil
	case a.Kind == KindNumber && (a.Num == 0 || a.Num == 1):
		return a.Num == 1, nil
	case a.Kind == KindString && strings.EqualFold(a.Str, "true"):
		return true, nil
	case a.Kind == KindString && strings.EqualFold(a.Str, "false"):
		return false, nil
	}
	return false, c.badType(i, "boolean")
}

// interval reads an offset string such as "5min" or "-1d".
func (c *call) interval(i int, def string) (int64, string, error) {
	s, err := c.str(i, def)
	if err != nil {
		return 0, "", err
	}
	d, err := ParseOffset(strings.ToLower(s))
	if err != nil || s == "" {
		return 0, "", inputErr(`Invalid "interval" value specified for function "%s" parameter "%s": '%s'`, c.f.Name, c.f.Params[i].Name, s)
	}
	return int64(d / time.Second), s, nil
}

// nodes reads arguments i… as node indexes (integers); strings (tags) are
// refused, as graphmetrics has no tags.
func (c *call) nodes(i int) ([]int, error) {
	var out []int
	for j := i; j < len(c.args); j++ {
		n, err := c.integer(j, 0)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// pathExprs joins the distinct path expressions of list in first-seen
// order, as graphite-web's formatPathExpressions does for names such as
// sumSeries(a.*,b).
func pathExprs(list []*Series) string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s.PathExpr] {
			seen[s.PathExpr] = true
			out = append(out, s.PathExpr)
		}
	}
	return strings.Join(out, ",")
}

// pyFloat writes v as Python's str() of a float: 10.0, 0.5, 1e-05.
func pyFloat(v float64) string {
	if s, ok := pySpecial(v); ok {
		return s
	}
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e16:
		return fmt.Sprintf("%.1f", v)
	}
	s := fmt.Sprintf("%v", v)
	if strings.Contains(s, "e") {
		// Python: 1e-05, 1e+16
		m, e, _ := strings.Cut(s, "e")
		sign := e[0]
		e = strings.TrimLeft(e[1:], "0")
		if len(e) < 2 {
			e = "0" + e
		}
		s = m + "e" + string(sign) + e
	}
	return s
}
