package histstore

import (
	"math"
	"path/filepath"
	"strings"
)

// DirOfTracelogFile maps an instance's RRD file,
// <data_dir>/rrd/tracelog/<host>/<customer>/<instance>.rrd (as the web
// UI's walks find it, path elements escaped), to its histogram directory,
// <data_dir>/hist/tracelog/<host>/<customer>/<instance>; false for any
// other path.
func DirOfTracelogFile(file string) (string, bool) {
	inst, ok := strings.CutSuffix(file, ".rrd")
	cust, name := filepath.Split(inst)
	host, c := filepath.Split(filepath.Clean(cust))
	root, h := filepath.Split(filepath.Clean(host))
	data, t := filepath.Split(filepath.Clean(root))
	dd, r := filepath.Split(filepath.Clean(data))
	if !ok || t != "tracelog" || r != "rrd" || name == "" || c == "" || h == "" {
		return "", false
	}
	return filepath.Join(Root(dd), h, c, name), true
}

// Quantile is the q-quantile of each step in seconds, NaN for a step in
// which no request finished.
func (s *Series) Quantile(q float64) []float64 {
	out := make([]float64, len(s.H))
	for i, h := range s.H {
		out[i] = math.NaN()
		if h != nil {
			out[i] = h.Quantile(q)
		}
	}
	return out
}
