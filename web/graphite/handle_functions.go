package graphite

import (
	"encoding/json"
	"net/http"
	"strings"
)

// funcInfo is one entry of /functions, in graphite-web's shape, which
// Grafana's query editor reads.
type funcInfo struct {
	Name        string  `json:"name"`
	Function    string  `json:"function"`
	Description string  `json:"description"`
	Module      string  `json:"module"`
	Group       string  `json:"group"`
	Params      []Param `json:"params"`
}

func info(f *Func) funcInfo {
	var sig []string
	for _, p := range f.Params {
		s := p.Name
		switch {
		case p.Multiple:
			s = "*" + s
		case p.Default != nil:
			b, _ := json.Marshal(p.Default)
			s += "=" + string(b)
		case !p.Required:
			s += "=None"
		}
		sig = append(sig, s)
	}
	return funcInfo{Name: f.Name, Function: f.Name + "(" + strings.Join(sig, ", ") + ")", Description: f.Description,
		Module: "graphmetrics", Group: f.Group, Params: f.Params}
}

// Functions is /functions[?group=…][&grouped=1]: every supported function.
func (a *API) Functions(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	q := r.URL.Query()
	group := q.Get("group")
	grouped := q.Get("grouped") == "1" || strings.EqualFold(q.Get("grouped"), "true")
	flat := map[string]funcInfo{}
	byGroup := map[string]map[string]funcInfo{}
	for name, f := range functions {
		if q.Has("group") && f.Group != group {
			continue
		}
		fi := info(f)
		flat[name] = fi
		if byGroup[f.Group] == nil {
			byGroup[f.Group] = map[string]funcInfo{}
		}
		byGroup[f.Group][name] = fi
	}
	var b []byte
	if grouped {
		b, _ = json.Marshal(byGroup)
	} else {
		b, _ = json.Marshal(flat)
	}
	writeJSONBytes(w, b)
}

// Function is /functions/<name>.
func (a *API) Function(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	f, ok := functions[name]
	if !ok {
		http.Error(w, "Function not found: "+name, http.StatusNotFound)
		return
	}
	b, _ := json.Marshal(info(f))
	writeJSONBytes(w, b)
}
