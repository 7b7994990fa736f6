package main

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"graphmetrics/store"
	"graphmetrics/store/hist"
	"graphmetrics/store/sampletest"
	"graphmetrics/store/urlstore"
)

// goldenURL is one line of testdata/urls-golden.tsv (urls-golden.py
// derives it from the sample by tracereport's rules).
type goldenURL struct {
	count, errors, sumUS, maxUS, hangs uint64
	apps                               []float64
}

func readGolden(t *testing.T) map[string]goldenURL {
	t.Helper()
	f, err := os.Open(filepath.Join(filepath.Dir(sampletest.Path(t)), "urls-golden.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]goldenURL{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		fs := strings.Split(sc.Text(), "\t")
		n := func(i int) uint64 {
			v, err := strconv.ParseUint(fs[i], 10, 64)
			if err != nil {
				t.Fatalf("golden %q: field %d: %v", sc.Text(), i, err)
			}
			return v
		}
		g := goldenURL{count: n(1), errors: n(2), sumUS: n(3), maxUS: n(4), hangs: n(7)}
		for i := 8; i < len(fs); i++ {
			g.apps = append(g.apps, float64(n(i))/1e6)
		}
		out[fs[0]] = g
	}
	return out
}

// An import of the sample gives each URL the counts and app times that
// tracereport's rules give it (testdata/urls-golden.tsv).
func TestImportURLsGolden(t *testing.T) {
	dataDir := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "gm.toml")
	if err := os.WriteFile(cfg, []byte(testConfig(dataDir, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	runImportCmd(t, cfg, "-customer", "acme", "-instance", "imported", "-host", "zope1", sampletest.Path(t))
	golden := readGolden(t)
	k := store.Key{Host: "zope1", Customer: "acme", Instance: "imported"}
	from := int64(1248968838) - 3600 // the sample is 2009-07-30 15:47–15:52 UTC
	rows, err := urlstore.Table(dataDir, []store.Key{k}, from, from+3*3600)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		g, ok := golden[r.URL]
		if !ok {
			t.Errorf("pattern %q not in the golden file", r.URL)
			continue
		}
		seen[r.URL] = true
		if r.Count != g.count || r.Errors != g.errors || r.Hangs != g.hangs ||
			math.Abs(r.TotalS-float64(g.sumUS)/1e6) > 1e-6 || r.MaxS != float64(g.maxUS)/1e6 {
			t.Errorf("%s: %d requests, %d errors, %d hangs, %.6f s total, %.6f s max; golden %d %d %d %.6f %.6f",
				r.URL, r.Count, r.Errors, r.Hangs, r.TotalS, r.MaxS, g.count, g.errors, g.hangs, float64(g.sumUS)/1e6, float64(g.maxUS)/1e6)
		}
		for _, q := range []float64{0.5, 0.95, 0.99} {
			if len(g.apps) == 0 {
				break
			}
			if want, got := hist.NearestRank(g.apps, q), r.Quantile(q); !urlstore.Scheme.Within(got, want) {
				t.Errorf("%s p%g: %g s, golden %g s", r.URL, 100*q, got, want)
			}
		}
	}
	for url, g := range golden {
		if !seen[url] && (g.count > 0 || g.hangs > 0) {
			t.Errorf("%s (golden: %d requests) missing from the table", url, g.count)
		}
	}
	if len(seen) < 30 {
		t.Errorf("only %d patterns", len(seen))
	}
}

// TestImportURLsOff: with max_patterns = 0 the import writes the tracelog
// RRD file but no URL statistics at all.
func TestImportURLsOff(t *testing.T) {
	dataDir := t.TempDir()
	cfg := filepath.Join(t.TempDir(), "gm.toml")
	if err := os.WriteFile(cfg, []byte(testConfig(dataDir, "[tracelog.urls]\nmax_patterns = 0\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	runImportCmd(t, cfg, "-customer", "acme", "-instance", "imported", "-host", "zope1", sampletest.Path(t))
	k := store.Key{Host: "zope1", Customer: "acme", Instance: "imported"}
	if _, err := os.Stat(store.TracelogFile(dataDir, k)); err != nil {
		t.Fatalf("import wrote no tracelog file: %v", err)
	}
	if _, err := os.Stat(urlstore.Root(dataDir)); !os.IsNotExist(err) {
		t.Fatalf("URL statistics off, yet %s: %v", urlstore.Root(dataDir), err)
	}
}
