package graphite

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"graphmetrics/web/series"
)

// ErrTooMany is wrapped by errors for queries that match or visit more
// than a request may.
var ErrTooMany = errors.New("too many")

// Leaf is one readable series: a data source of a file, or a series
// derived from a tracelog file's data sources.
type Leaf struct {
	Path    string // Graphite name
	File    string // absolute, found by the series index's walk
	DS      string // stored data source ("" for derived)
	Derived int
}

type node struct {
	name string
	kids []*node // sorted by name
	byNm map[string]*node
	leaf *Leaf
}

func (n *node) child(name string) *node {
	if c := n.byNm[name]; c != nil {
		return c
	}
	c := &node{name: name}
	if n.byNm == nil {
		n.byNm = map[string]*node{}
	}
	n.byNm[name] = c
	n.kids = append(n.kids, c)
	return c
}

func (n *node) sortAll() {
	slices.SortFunc(n.kids, func(a, b *node) int { return strings.Compare(a.name, b.name) })
	for _, k := range n.kids {
		k.sortAll()
	}
}

// Tree is the name tree of one series index snapshot.
type Tree struct {
	root   *node
	leaves int
}

// Names keeps the Tree of the series index's current snapshot.
type Names struct {
	idx  *series.Index
	mu   sync.Mutex
	when time.Time
	tree *Tree
}

// NewNames builds trees from idx on demand.
func NewNames(idx *series.Index) *Names { return &Names{idx: idx} }

// Tree returns the tree of the current snapshot, building it when the
// snapshot changed.
func (n *Names) Tree() *Tree {
	all, when := n.idx.All()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.tree == nil || !when.Equal(n.when) {
		n.tree, n.when = buildTree(all), when
	}
	return n.tree
}

// Refresh asks the index for a new walk (rate-limited by the index) and
// returns the resulting tree.
func (n *Names) Refresh() *Tree {
	n.idx.Refresh()
	return n.Tree()
}

func buildTree(all []series.Series) *Tree {
	t := &Tree{root: &node{}}
	add := func(path string, l *Leaf) {
		cur := t.root
		for e := range strings.SplitSeq(path, ".") {
			cur = cur.child(e)
		}
		if cur.leaf == nil {
			cur.leaf = l
			t.leaves++
		}
	}
	for _, s := range all {
		if s.Quantile > 0 {
			continue // p50, p95, p99: derived below, beside the other derived series
		}
		path := graphiteName(s.Name)
		add(path, &Leaf{Path: path, File: s.File, DS: s.DS})
		if strings.HasPrefix(s.Name, series.TracelogPrefix) && s.DS == "requests" {
			base := path[:strings.LastIndexByte(path, '.')+1]
			for _, d := range derivedNames {
				add(base+d.name, &Leaf{Path: base + d.name, File: s.File, Derived: d.kind})
			}
		}
	}
	t.root.sortAll()
	return t
}

// Len is the number of leaves.
func (t *Tree) Len() int { return t.leaves }

// Match is one node a pattern found.
type Match struct {
	Path   string
	Leaf   *Leaf // nil for a branch only
	Branch bool  // has children
}

// Find returns the nodes matching pattern (leaves and branches), sorted
// by path; it visits at most maxVisit nodes and returns at most
// maxResults matches, else an error wrapping ErrTooMany.
func (t *Tree) Find(pattern string, maxResults, maxVisit int) ([]Match, error) {
	elems := strings.Split(pattern, ".")
	globs := make([]*glob, len(elems))
	for i, e := range elems {
		if e == "" {
			return nil, fmt.Errorf("pattern %q: empty element", pattern)
		}
		g, err := compileGlob(e)
		if err != nil {
			return nil, err
		}
		globs[i] = g
	}
	f := finder{globs: globs, maxResults: maxResults, maxVisit: maxVisit, prefix: make([]string, 0, len(elems))}
	if err := f.walk(t.root, 0); err != nil {
		return nil, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	slices.SortFunc(f.out, func(a, b Match) int { return strings.Compare(a.Path, b.Path) })
	return f.out, nil
}

type finder struct {
	globs                []*glob
	maxResults, maxVisit int
	visited              int
	prefix               []string
	out                  []Match
}

func (f *finder) walk(n *node, depth int) error {
	g := f.globs[depth]
	last := depth == len(f.globs)-1
	visit := func(c *node) error {
		f.visited++
		if f.visited > f.maxVisit {
			return fmt.Errorf("%w: visits more than %d names", ErrTooMany, f.maxVisit)
		}
		if !last {
			if len(c.kids) == 0 {
				return nil
			}
			f.prefix = append(f.prefix, c.name)
			err := f.walk(c, depth+1)
			f.prefix = f.prefix[:len(f.prefix)-1]
			return err
		}
		if len(f.out) >= f.maxResults {
			return fmt.Errorf("%w: matches more than %d", ErrTooMany, f.maxResults)
		}
		path := c.name
		if len(f.prefix) > 0 {
			path = strings.Join(f.prefix, ".") + "." + c.name
		}
		f.out = append(f.out, Match{Path: path, Leaf: c.leaf, Branch: len(c.kids) > 0})
		return nil
	}
	if g.alts == nil {
		if c := n.byNm[g.literal]; c != nil {
			return visit(c)
		}
		return nil
	}
	for _, c := range n.kids {
		if g.match(c.name) {
			if err := visit(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// Leaves returns the leaves matching pattern, sorted by path.
func (t *Tree) Leaves(pattern string, maxResults, maxVisit int) ([]*Leaf, error) {
	ms, err := t.Find(pattern, maxResults, maxVisit)
	if err != nil {
		return nil, err
	}
	out := make([]*Leaf, 0, len(ms))
	for _, m := range ms {
		if m.Leaf != nil {
			out = append(out, m.Leaf)
		}
	}
	return out, nil
}

// All calls fn for every leaf path, in tree order.
func (t *Tree) All(fn func(path string)) {
	var rec func(n *node)
	rec = func(n *node) {
		if n.leaf != nil {
			fn(n.leaf.Path)
		}
		for _, k := range n.kids {
			rec(k)
		}
	}
	rec(t.root)
}
