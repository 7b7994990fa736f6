package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"graphmetrics/web/tree"
)

// A viewer may change the charts of someone else's page for the moment:
// nothing is saved, the page's URL carries each changed chart as
// o<ID>=<the chart's own encoding> (its graph query, or a /metrics chart's
// JSON), and "save as" copies the page with the changes. The change form
// of a chart (GET, edit=<ID>) leads there; its owner's form (POST) saves.

func overrideKey(id int) string { return "o" + strconv.Itoa(id) }

// encodeOverride is a chart's o<ID> value.
func encodeOverride[T charted](c T) string {
	switch c := any(c).(type) {
	case Chart:
		return c.Query().Encode()
	case MetricChart:
		c.ID = 0
		b, _ := json.Marshal(c) // plain data: cannot fail
		return string(b)
	}
	return ""
}

// decodeOverride reads a chart's o<ID> value; a value that does not parse
// leaves the chart as saved.
func decodeOverride[T charted](s string, loc *time.Location) (T, error) {
	var zero T
	switch any(zero).(type) {
	case Chart:
		v, err := url.ParseQuery(s)
		if err != nil {
			return zero, err
		}
		c, err := parseChart(v, loc)
		return any(c).(T), err
	default:
		c, err := parseMetricQuery(url.Values{"c": {s}}, loc)
		return any(c).(T), err
	}
}

// applyOverrides replaces the charts the query changes; it reports how
// many.
func applyOverrides[T charted](cs []T, q url.Values, loc *time.Location) int {
	n := 0
	for i := range cs {
		id := cs[i].chartID()
		s := q.Get(overrideKey(id))
		if s == "" || len(s) > maxChartJSON {
			continue
		}
		if c, err := decodeOverride[T](s, loc); err == nil {
			cs[i] = withID(c, id)
			n++
		}
	}
	return n
}

func withID[T charted](c T, id int) T {
	switch x := any(&c).(type) {
	case *Chart:
		x.ID = id
	case *MetricChart:
		x.ID = id
	}
	return c
}

// overrideParams are the query's o<ID> values and the page range, which
// links and forms of the page keep.
func overrideParams(q url.Values) url.Values {
	out := url.Values{}
	for k, vs := range q {
		if k == "from" || k == "until" || (len(k) > 1 && k[0] == 'o' && strings.Trim(k[1:], "0123456789") == "") {
			out[k] = vs
		}
	}
	return out
}

// previewEdit answers a viewer's change form (edit=<ID> in the query): the
// chart, or with all=1 every chart, changed by change, then a redirect to
// the page with the changes in its URL. ok is false when the query is no
// such form.
func previewEdit[T charted](s *Server, w http.ResponseWriter, r *http.Request, base string, cs []T,
	change func(c *T, q url.Values, all bool) error) bool {
	q := r.URL.Query()
	id, err := strconv.Atoi(q.Get("edit"))
	if err != nil {
		return false
	}
	keep := overrideParams(q)
	applyOverrides(cs, q, s.loc)
	all := q.Get("all") != ""
	found := false
	for i := range cs {
		if cs[i].chartID() != id && !all {
			continue
		}
		found = true
		if err := change(&cs[i], q, cs[i].chartID() != id); err != nil {
			s.sessions.Put(r.Context(), "flash", fmt.Sprintf("Chart not changed: %v", err))
			http.Redirect(w, r, base+"?"+keep.Encode(), http.StatusSeeOther)
			return true
		}
		keep.Set(overrideKey(cs[i].chartID()), encodeOverride(cs[i]))
	}
	if !found {
		s.sessions.Put(r.Context(), "flash", errNoChart.Error())
	}
	http.Redirect(w, r, base+"?"+keep.Encode()+"#chart-"+strconv.Itoa(id), http.StatusSeeOther)
	return true
}

// copyControls sets what "apply to all" copies (range, step, scale and
// size) from src to dst.
func copyControls(dst *Controls, src Controls) {
	page := dst.Page
	*dst = src
	dst.Page = page
}

// targetValue names what a tracelog chart shows, as the change form's
// "target" field does: customer/instance@host, customer/pool:name or
// customer/host:name.
func targetValue(c *Chart) string {
	if c.IsGroup() {
		return c.Customer + "/" + c.GroupKind + ":" + c.Group
	}
	return c.Customer + "/" + c.Instance + "@" + c.Host
}

// setTarget points c at the instance or group named by a target value
// (see targetValue), with view for a group (kept when empty).
func setTarget(c *Chart, target, view string) error {
	cust, rest, ok := strings.Cut(strings.TrimSpace(target), "/")
	if !ok || cust == "" || rest == "" {
		return fmt.Errorf("target %q: use customer/instance@host or customer/pool:name", target)
	}
	if kind, name, ok := strings.Cut(rest, ":"); ok && (kind == tree.Pool || kind == tree.Host) && name != "" {
		if view == "" {
			view = c.View
		}
		if viewTitles[view] == "" {
			view = viewAll
		}
		c.Customer, c.GroupKind, c.Group, c.View, c.Host, c.Instance = cust, kind, name, view, "", ""
		return nil
	}
	inst, host, ok := strings.Cut(rest, "@")
	if !ok || inst == "" || host == "" {
		return fmt.Errorf("target %q: use customer/instance@host or customer/pool:name", target)
	}
	c.Customer, c.Instance, c.Host, c.GroupKind, c.Group, c.View = cust, inst, host, "", "", ""
	return nil
}

// targets are the datalist of the change forms' target field.
func targets(t *tree.Snapshot) []string {
	var out []string
	for _, c := range t.Customers {
		for _, g := range c.Groups {
			out = append(out, c.Name+"/"+g.Kind+":"+g.Name)
			for _, i := range g.Instances {
				if g.Kind == tree.Pool || tree.PoolName(i.Name) == "" {
					out = append(out, c.Name+"/"+i.Name+"@"+i.Host)
				}
			}
		}
	}
	return out
}

// changeTracelog applies a change form to c: its controls, and unless
// the form is another chart's applied to all (other), what it shows.
func (s *Server) changeTracelog(c *Chart, f url.Values, other bool) error {
	ctl, err := parseControls(f, s.loc)
	if err != nil {
		return err
	}
	copyControls(&c.Controls, ctl)
	if other {
		return nil
	}
	target, view := f.Get("target"), f.Get("view")
	if (target == "" || target == targetValue(c)) && (view == "" || view == c.View) {
		return nil
	}
	if target == "" {
		target = targetValue(c)
	}
	n := *c
	if err := setTarget(&n, target, view); err != nil {
		return err
	}
	if _, err := resolve(s.tree, &n); err != nil {
		return err
	}
	*c = n
	return nil
}

// changeMetric applies a change form's controls to a /metrics chart.
func (s *Server) changeMetric(c *MetricChart, f url.Values, _ bool) error {
	ctl, err := parseControls(f, s.loc)
	if err == nil {
		copyControls(&c.Controls, ctl)
	}
	return err
}

// keptParams lists values for hidden inputs.
func keptParams(v url.Values) []keptParam {
	var out []keptParam
	for k, vs := range v {
		for _, x := range vs {
			out = append(out, keptParam{k, x})
		}
	}
	slices.SortFunc(out, func(a, b keptParam) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// withOverrides applies a viewer's changes in form to a page's saved
// charts (for "save as").
func withOverrides(k *pageKind, charts []byte, form url.Values, loc *time.Location) ([]byte, error) {
	if len(overrideParams(form)) == 0 {
		return charts, nil
	}
	if k == tracelogKind {
		cs, err := decodeList[Chart](charts)
		if err != nil {
			return nil, err
		}
		applyOverrides(cs, form, loc)
		return encodeList(cs)
	}
	cs, err := decodeList[MetricChart](charts)
	if err != nil {
		return nil, err
	}
	applyOverrides(cs, form, loc)
	return encodeList(cs)
}

// confirmBody is the "confirm" page: a question, and a form that sends
// Fields again to Action when the answer is yes.
type confirmBody struct {
	Question, Action, Back, Yes string
	Fields                      []keptParam
}
