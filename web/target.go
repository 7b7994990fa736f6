package web

import (
	"cmp"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"graphmetrics/store"
	"graphmetrics/web/tree"
)

// target is what a /live or /urls page shows (issue 12): one instance, as
// a group of one, or a pool (else a host's group) of the tree. Names come
// only from the tree, so a path element that names no instance (.., an
// escaped slash, a huge one) is a 404 and never reaches the disk.
type target struct {
	g      *tree.Group
	pool   bool
	asJSON bool   // the path ended in ".json" (not part of a name)
	title  string // "host/customer/instance" or "pool/customer/pool"
	path   string // the page's path after /live or /urls, escaped
}

// onTarget serves the page of an instance or, with pool, of a pool;
// 404 when the tree has no such.
func (s *Server) onTarget(pool bool, serve func(http.ResponseWriter, *http.Request, target)) http.HandlerFunc {
	find, what := s.findInstance, "No such instance."
	if pool {
		find, what = s.findPool, "No such pool."
	}
	return func(w http.ResponseWriter, r *http.Request) {
		t, ok := find(r)
		if !ok {
			s.fail(w, r, http.StatusNotFound, what)
			return
		}
		serve(w, r, t)
	}
}

// findInstance resolves {host}/{customer}/{instance}[.json].
func (s *Server) findInstance(r *http.Request) (target, bool) {
	host, cust, name := chi.URLParam(r, "host"), chi.URLParam(r, "customer"), chi.URLParam(r, "instance")
	asJSON := false
	in := s.tree.Instance(host, cust, name)
	if base, ok := strings.CutSuffix(name, ".json"); in == nil && ok {
		in, asJSON = s.tree.Instance(host, cust, base), true
	}
	if in == nil {
		return target{}, false
	}
	return target{g: &tree.Group{Customer: in.Customer, Kind: tree.Host, Name: in.Host, Instances: []*tree.Instance{in}},
		asJSON: asJSON, title: in.Host + "/" + in.Customer + "/" + in.Name,
		path: instancePath(in.Host, in.Customer, in.Name)}, true
}

// findPool resolves pool/{customer}/{pool}[.json]: a pool, or else a
// host's group of instances.
func (s *Server) findPool(r *http.Request) (target, bool) {
	cust, name := chi.URLParam(r, "customer"), chi.URLParam(r, "pool")
	find := func(name string) *tree.Group {
		snap := s.tree.Get()
		if g := cmp.Or(snap.Group(cust, tree.Pool, name), snap.Group(cust, tree.Host, name)); g != nil {
			return g
		}
		snap = s.tree.Refresh()
		return cmp.Or(snap.Group(cust, tree.Pool, name), snap.Group(cust, tree.Host, name))
	}
	asJSON := false
	g := find(name)
	if base, ok := strings.CutSuffix(name, ".json"); g == nil && ok {
		g, asJSON = find(base), true
	}
	if g == nil {
		return target{}, false
	}
	return target{g: g, pool: true, asJSON: asJSON, title: "pool/" + g.Customer + "/" + g.Name,
		path: poolPath(g.Customer, g.Name)}, true
}

// keys are the target's instances as the store names them.
func (t target) keys() []store.Key {
	keys := make([]store.Key, len(t.g.Instances))
	for i, in := range t.g.Instances {
		keys[i] = store.Key{Host: in.Host, Customer: in.Customer, Instance: in.Name}
	}
	return keys
}

func instancePath(host, customer, instance string) string {
	return "/" + url.PathEscape(host) + "/" + url.PathEscape(customer) + "/" + url.PathEscape(instance)
}

func poolPath(customer, group string) string {
	return "/pool/" + url.PathEscape(customer) + "/" + url.PathEscape(group)
}

// The pages of an instance and of a pool (or host group).
func liveURL(host, customer, instance string) string {
	return "/live" + instancePath(host, customer, instance)
}
func livePoolURL(customer, group string) string { return "/live" + poolPath(customer, group) }
func urlsURL(host, customer, instance string) string {
	return "/urls" + instancePath(host, customer, instance)
}
func urlsPoolURL(customer, group string) string { return "/urls" + poolPath(customer, group) }
