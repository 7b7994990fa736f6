// Package tree lists the tracelog instances that have RRD files, grouped
// the way operators think of them: customer, then pool or host, then
// instance (SPEC §6). It is the only source of instance names the web UI
// accepts; the files and their paths come from store.TracelogFiles.
package tree

import (
	"cmp"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"graphmetrics/store"
)

// Group kinds.
const (
	Pool = "pool" // instances of one name pattern across hosts
	Host = "host" // the other instances of one host
)

// Instance is one RRD file rrd/tracelog/<host>/<customer>/<name>.rrd.
// The names are the original ones (store.ShownElem), not the escaped file
// names.
type Instance struct {
	Host, Customer, Name string
	File                 string // absolute path
}

// Group is a pool or a host's instances within one customer.
type Group struct {
	Customer  string
	Kind      string // Pool or Host
	Name      string
	Instances []*Instance
}

// Label names an instance within its group: pools span hosts.
func (g *Group) Label(i *Instance) string {
	if g.Kind == Pool {
		return i.Name + " on " + i.Host
	}
	return i.Name
}

// Customer holds the groups of one customer.
type Customer struct {
	Name   string
	Groups []*Group
}

// Snapshot is the tree at one moment; it is never modified.
type Snapshot struct {
	Customers []*Customer
	Instances []*Instance // all, sorted
	Time      time.Time
	byKey     map[[3]string]*Instance
}

// Instance returns the instance or nil.
func (s *Snapshot) Instance(host, customer, name string) *Instance {
	return s.byKey[[3]string{host, customer, name}]
}

// Group returns the group or nil.
func (s *Snapshot) Group(customer, kind, name string) *Group {
	for _, c := range s.Customers {
		if c.Name != customer {
			continue
		}
		for _, g := range c.Groups {
			if g.Kind == kind && g.Name == name {
				return g
			}
		}
	}
	return nil
}

// Options configures a Tree.
type Options struct {
	Root   string        // <data_dir>/rrd/tracelog: store.TracelogRoot
	MaxAge time.Duration // a snapshot older than this is rebuilt; default 30s
	MinAge time.Duration // a miss rebuilds only a snapshot older than this; default 2s
	Logger *slog.Logger
	Now    func() time.Time
}

// Tree caches the snapshot and rebuilds it when it is old, or when a name
// is looked up that is not in it (a new instance appeared).
type Tree struct {
	o    Options
	mu   sync.Mutex
	snap *Snapshot
}

// New returns a Tree; nothing is read until the first use.
func New(o Options) *Tree {
	if o.MaxAge <= 0 {
		o.MaxAge = 30 * time.Second
	}
	if o.MinAge <= 0 {
		o.MinAge = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Tree{o: o}
}

// Get returns a snapshot no older than MaxAge.
func (t *Tree) Get() *Snapshot { return t.get(t.o.MaxAge) }

// Refresh returns a snapshot no older than MinAge.
func (t *Tree) Refresh() *Snapshot { return t.get(t.o.MinAge) }

func (t *Tree) get(age time.Duration) *Snapshot {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.snap == nil || t.o.Now().Sub(t.snap.Time) >= age {
		t.snap = t.walk()
	}
	return t.snap
}

// Instance looks an instance up, rebuilding the snapshot once on a miss.
func (t *Tree) Instance(host, customer, name string) *Instance {
	if i := t.Get().Instance(host, customer, name); i != nil {
		return i
	}
	return t.Refresh().Instance(host, customer, name)
}

// Group looks a group up, rebuilding the snapshot once on a miss.
func (t *Tree) Group(customer, kind, name string) *Group {
	if g := t.Get().Group(customer, kind, name); g != nil {
		return g
	}
	return t.Refresh().Group(customer, kind, name)
}

func (t *Tree) walk() *Snapshot {
	s := &Snapshot{Time: t.o.Now(), byKey: map[[3]string]*Instance{}}
	logErr := func(dir string, err error) { t.o.Logger.Warn("read instance directory", "dir", dir, "err", err) }
	for e := range store.TracelogFiles(t.o.Root, ValidName, logErr) {
		i := &Instance{Host: e.Host, Customer: e.Customer, Name: e.Instance, File: e.File}
		s.Instances = append(s.Instances, i)
		s.byKey[[3]string{e.Host, e.Customer, e.Instance}] = i
	}
	slices.SortFunc(s.Instances, func(a, b *Instance) int {
		return cmp.Or(cmp.Compare(a.Customer, b.Customer), Natural(a.Name, b.Name), Natural(a.Host, b.Host))
	})
	s.Customers = group(s.Instances)
	return s
}

func group(all []*Instance) []*Customer {
	var out []*Customer
	groups := map[[3]string]*Group{}
	for _, i := range all {
		if len(out) == 0 || out[len(out)-1].Name != i.Customer {
			out = append(out, &Customer{Name: i.Customer})
		}
		c := out[len(out)-1]
		add := func(kind, name string) {
			k := [3]string{i.Customer, kind, name}
			g := groups[k]
			if g == nil {
				g = &Group{Customer: i.Customer, Kind: kind, Name: name}
				groups[k] = g
				c.Groups = append(c.Groups, g)
			}
			g.Instances = append(g.Instances, i)
		}
		// An instance named after its port is in its pool and, as in
		// the original, under its host too; others are in one group.
		pool := PoolName(i.Name)
		if pool != "" {
			add(Pool, pool)
		}
		if pool == "" || strings.HasSuffix(pool, "-instances") {
			add(Host, i.Host)
		}
	}
	for _, c := range out {
		slices.SortFunc(c.Groups, func(a, b *Group) int { return Natural(a.Name, b.Name) })
	}
	return out
}

// PoolName returns the pool an instance name belongs to, or "": a name
// ending in a port number (4 or 5 digits) is one of "<prefix>-instances"
// (app-8080 → app-instances), one ending in a shorter number is one of
// "<prefix>-workers" (worker3 → worker-workers).
func PoolName(name string) string {
	i := len(name)
	for i > 0 && name[i-1] >= '0' && name[i-1] <= '9' {
		i--
	}
	digits := len(name) - i
	prefix := strings.TrimRight(name[:i], "-_.")
	switch {
	case digits == 0 || prefix == "":
		return ""
	case digits >= 4 && digits <= 5:
		return prefix + "-instances"
	case digits < 4:
		return prefix + "-workers"
	}
	return ""
}

// ValidShown reports whether a name as shown (an element of a series name)
// can be one: printable UTF-8 without a slash or backslash, not too long; unlike a
// file name it may start with a dot.
func ValidShown(s string) bool {
	if s == "" || len(s) > 300 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || r == '\\' || r == '/' {
			return false
		}
	}
	return true
}

// ValidName reports whether a file name may be shown and used: printable
// UTF-8, no leading dot, no backslash, not too long. Names are shown as
// store.ShownElem makes them: the original name, unescaped.
func ValidName(s string) bool {
	if s == "" || len(s) > 200 || s[0] == '.' || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) || r == '\\' || r == '/' {
			return false
		}
	}
	return true
}

// Natural compares strings with runs of digits compared as numbers, so
// worker2 sorts before worker10.
func Natural(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if c := cmp.Or(cmp.Compare(len(na), len(nb)), cmp.Compare(na, nb)); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
