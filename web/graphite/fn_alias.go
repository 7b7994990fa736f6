package graphite

import (
	"cmp"
	"math"
	"regexp"
	"slices"
	"strings"
)

// Functions that rename series, and those that filter or order them.

func init() {
	str := func(name string) Param { return Param{Name: name, Type: "string", Required: true} }
	intP := Param{Name: "n", Type: "integer", Required: true}
	register(
		&Func{Name: "alias", Group: "Alias", Params: []Param{seriesParam(), str("newName")}, Fn: alias,
			Description: "Names every series newName."},
		&Func{Name: "aliasByNode", Group: "Alias", Fn: aliasByNode,
			Params:      []Param{seriesParam(), {Name: "nodes", Type: "nodeOrTag", Required: true, Multiple: true}},
			Description: "Names each series by the nodes (0-based, negative from the end) of its path, joined by dots."},
		&Func{Name: "aliasSub", Group: "Alias", Params: []Param{seriesParam(), str("search"), str("replace")}, Fn: aliasSub,
			Description: `Replaces regular expression search by replace (\1 for groups) in the names.`},
		&Func{Name: "sortByMaxima", Group: "Sorting", Params: []Param{seriesParam()}, Fn: sortBy("max", true, false),
			Description: "Orders the series by their largest value, largest first."},
		&Func{Name: "highestMax", Group: "Filter Series", Params: []Param{seriesParam(), intP}, Fn: sortBy("max", true, true),
			Description: "The n series with the largest maximum."},
		&Func{Name: "highestCurrent", Group: "Filter Series", Params: []Param{seriesParam(), intP}, Fn: sortBy("current", true, true),
			Description: "The n series with the largest last known value."},
		&Func{Name: "highestAverage", Group: "Filter Series", Params: []Param{seriesParam(), intP}, Fn: sortBy("average", true, true),
			Description: "The n series with the largest average."},
		&Func{Name: "lowestAverage", Group: "Filter Series", Params: []Param{seriesParam(), intP}, Fn: sortBy("average", false, true),
			Description: "The n series with the smallest average."},
		&Func{Name: "limit", Group: "Filter Series", Params: []Param{seriesParam(), intP}, Fn: limit,
			Description: "The first n series."},
		&Func{Name: "exclude", Group: "Filter Series", Params: []Param{seriesParam(), str("pattern")}, Fn: grepFn(false),
			Description: "The series whose names do not match the regular expression."},
		&Func{Name: "grep", Group: "Filter Series", Params: []Param{seriesParam(), str("pattern")}, Fn: grepFn(true),
			Description: "The series whose names match the regular expression."},
	)
}

func alias(c *call) ([]*Series, error) {
	list, err := c.series(0)
	if err != nil {
		return nil, err
	}
	name, err := c.str(1, "")
	if err != nil {
		return nil, err
	}
	return rename(list, func(*Series) string { return name }), nil
}

// rename changes names only: graphite-web keeps the path expression.
func rename(list []*Series, fn func(*Series) string) []*Series {
	out := make([]*Series, len(list))
	for i, s := range list {
		c := *s
		c.Name = fn(s)
		out[i] = &c
	}
	return out
}

func aliasByNode(c *call) ([]*Series, error) {
	list, err := c.series(0)
	if err != nil {
		return nil, err
	}
	nodes, err := c.nodes(1)
	if err != nil {
		return nil, err
	}
	return rename(list, func(s *Series) string { return aggKey(s, nodes) }), nil
}

// aggKey joins the given nodes of a series' path: of its first path
// expression when the name is a function call, as graphite-web does.
func aggKey(s *Series, nodes []int) string {
	path := s.Name
	if strings.HasSuffix(path, ")") {
		if e, err := Parse(path); err == nil {
			path = firstPath(e, path)
		}
	}
	elems := strings.Split(path, ".")
	parts := make([]string, len(nodes))
	for i, n := range nodes {
		if n < 0 {
			n += len(elems)
		}
		if n >= 0 && n < len(elems) {
			parts[i] = elems[n]
		}
	}
	return strings.Join(parts, ".")
}

func firstPath(e *Expr, def string) string {
	for e != nil {
		switch e.Kind {
		case KindPath:
			return e.Str
		case KindCall:
			if len(e.Args) == 0 {
				return def
			}
			e = e.Args[0]
		default:
			return def
		}
	}
	return def
}

var pyGroupRef = regexp.MustCompile(`\\(\d{1,2})|\\g<(\w+)>`)

func aliasSub(c *call) ([]*Series, error) {
	list, err := c.series(0)
	if err != nil {
		return nil, err
	}
	search, err := c.str(1, "")
	if err != nil {
		return nil, err
	}
	repl, err := c.str(2, "")
	if err != nil {
		return nil, err
	}
	re, err := compileRE(search)
	if err != nil {
		return nil, err
	}
	// Python's \1 and \g<name> become Go's ${1} and ${name}.
	repl = strings.ReplaceAll(repl, "$", "$$")
	repl = pyGroupRef.ReplaceAllString(repl, "$${$1$2}")
	return rename(list, func(s *Series) string { return re.ReplaceAllString(s.Name, repl) }), nil
}

func compileRE(p string) (*regexp.Regexp, error) {
	if len(p) > 1000 {
		return nil, inputErr("regular expression longer than 1000 bytes")
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, inputErr("bad regular expression %q: %v", p, err)
	}
	return re, nil
}

func grepFn(keep bool) func(c *call) ([]*Series, error) {
	return func(c *call) ([]*Series, error) {
		list, err := c.series(0)
		if err != nil {
			return nil, err
		}
		p, err := c.str(1, "")
		if err != nil {
			return nil, err
		}
		re, err := compileRE(p)
		if err != nil {
			return nil, err
		}
		var out []*Series
		for _, s := range list {
			if re.MatchString(s.Name) == keep {
				out = append(out, s)
			}
		}
		return out, nil
	}
}

func limit(c *call) ([]*Series, error) {
	list, err := c.series(0)
	if err != nil {
		return nil, err
	}
	n, err := c.integer(1, 0)
	if err != nil {
		return nil, err
	}
	return pySlice(list, n), nil
}

// pySlice is Python's list[:n] (a negative n counts from the end).
func pySlice(list []*Series, n int) []*Series {
	if n < 0 {
		n = max(len(list)+n, 0)
	}
	return list[:min(n, len(list))]
}

func sortSeries(list []*Series, cmp func(a, b *Series) int) { slices.SortStableFunc(list, cmp) }

// sortBy orders by an aggregate of each series (None counts as -inf),
// stably, and keeps the first n when take is set.
func sortBy(fn string, desc, take bool) func(c *call) ([]*Series, error) {
	agg := aggFuncs[aggAliasOr(fn)]
	return func(c *call) ([]*Series, error) {
		list, err := c.series(0)
		if err != nil {
			return nil, err
		}
		n := 0
		if take {
			if n, err = c.integer(1, 0); err != nil {
				return nil, err
			}
		}
		key := make(map[*Series]float64, len(list))
		for _, s := range list {
			k := agg(s.Values)
			if none(k) {
				k = math.Inf(-1)
			}
			key[s] = k
		}
		list = append([]*Series(nil), list...)
		sortSeries(list, func(a, b *Series) int {
			if desc {
				return cmp.Compare(key[b], key[a])
			}
			return cmp.Compare(key[a], key[b])
		})
		if take {
			list = pySlice(list, n)
		}
		return list, nil
	}
}

func aggAliasOr(fn string) string {
	if a, ok := aggAliases[fn]; ok {
		return a
	}
	return fn
}
