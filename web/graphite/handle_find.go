package graphite

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

type treeNode struct {
	Text          string `json:"text"`
	ID            string `json:"id"`
	Leaf          int    `json:"leaf"`
	Expandable    int    `json:"expandable"`
	AllowChildren int    `json:"allowChildren"`
}

func (a *API) find(pattern string, leavesOnly bool) ([]Match, error) {
	t := a.ev.Names.Tree()
	ms, err := t.Find(pattern, maxFindResults, defaultMaxVisit)
	if err == nil && len(ms) == 0 {
		ms, err = a.ev.Names.Refresh().Find(pattern, maxFindResults, defaultMaxVisit)
	}
	if err != nil {
		return nil, &InputError{Msg: err.Error()}
	}
	if leavesOnly {
		ms = slices.DeleteFunc(ms, func(m Match) bool { return m.Leaf == nil })
	}
	return ms, nil
}

// Find is /metrics/find?query=…: treejson (Grafana's tree browsing, the
// default) or completer.
func (a *API) Find(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		badRequest(w, "Invalid parameters (cannot read the form)")
		return
	}
	q := r.Form
	query := q.Get("query")
	if !q.Has("query") {
		badRequest(w, "Invalid parameters (Missing required parameter 'query')")
		return
	}
	if query == "" {
		badRequest(w, "Invalid parameters (Required parameter 'query' is empty)")
		return
	}
	format := q.Get("format")
	if format == "" {
		format = "treejson"
	}
	if format == "completer" {
		query = strings.ReplaceAll(query, "..", "*.")
		if !strings.HasSuffix(query, "*") {
			query += "*"
		}
	}
	ms, err := a.find(query, q.Get("leavesOnly") == "1")
	if err != nil {
		a.fail(w, r, nil, err)
		return
	}
	base := ""
	if i := strings.LastIndexByte(query, '.'); i >= 0 {
		base = query[:i+1]
	}
	var out any
	switch format {
	case "treejson":
		nodes := []treeNode{}
		var leaves []treeNode
		seen := map[string]bool{}
		for _, m := range ms {
			name := m.Path[strings.LastIndexByte(m.Path, '.')+1:]
			if seen[name] {
				continue
			}
			seen[name] = true
			if m.Branch {
				nodes = append(nodes, treeNode{Text: name, ID: base + name, Expandable: 1, AllowChildren: 1})
			} else {
				leaves = append(leaves, treeNode{Text: name, ID: base + name, Leaf: 1})
			}
		}
		out = append(nodes, leaves...)
	case "completer":
		type entry struct {
			Path   string `json:"path"`
			Name   string `json:"name"`
			IsLeaf string `json:"is_leaf"`
		}
		res := []entry{}
		for _, m := range ms {
			e := entry{Path: m.Path, Name: m.Path[strings.LastIndexByte(m.Path, '.')+1:], IsLeaf: "1"}
			if m.Branch {
				e.Path += "."
				e.IsLeaf = "0"
			}
			res = append(res, e)
		}
		out = map[string]any{"metrics": res}
	default:
		badRequest(w, "Invalid value for 'format' parameter")
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		a.fail(w, r, nil, err)
		return
	}
	writeJSONBytes(w, b)
}

// Expand is /metrics/expand?query=…[&query=…][&leavesOnly=1][&groupByExpr=1].
func (a *API) Expand(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		badRequest(w, "Invalid parameters (cannot read the form)")
		return
	}
	queries := r.Form["query"]
	if len(queries) > maxTargets {
		badRequest(w, "Invalid parameters (too many queries)")
		return
	}
	groups := map[string][]string{}
	var all []string
	for _, qy := range queries {
		ms, err := a.find(qy, r.Form.Get("leavesOnly") == "1")
		if err != nil {
			a.fail(w, r, nil, err)
			return
		}
		paths := []string{}
		for _, m := range ms {
			paths = append(paths, m.Path)
		}
		slices.Sort(paths)
		groups[qy] = slices.Compact(paths)
		all = append(all, paths...)
	}
	slices.Sort(all)
	var res any = slices.Compact(all)
	if all == nil {
		res = []string{}
	}
	if r.Form.Get("groupByExpr") == "1" {
		res = groups
	}
	b, _ := json.Marshal(map[string]any{"results": res})
	writeJSONBytes(w, b)
}

// IndexJSON is /metrics/index.json: every leaf name, sorted.
func (a *API) IndexJSON(w http.ResponseWriter, r *http.Request) {
	names := []string{}
	a.ev.Names.Tree().All(func(p string) { names = append(names, p) })
	slices.Sort(names)
	b, _ := json.Marshal(names)
	writeJSONBytes(w, b)
}
