package web

import (
	"compress/gzip"
	"testing"
)

// The JS and CSS a page of charts loads stay within 100 KB gzipped, uPlot
// (fetched by make into static/vendor) included.
func TestAssetsSize(t *testing.T) {
	total := 0
	for _, f := range []string{"static/app.js", "static/style.css", "static/vendor/uplot.js", "static/vendor/uplot.css"} {
		b, err := staticFS.ReadFile(f)
		if err != nil || len(b) == 0 {
			t.Fatalf("%s is not embedded (make web-assets fetches uPlot): %v", f, err)
		}
		n := gzipSize(t, b)
		t.Logf("%s: %d bytes, %d gzipped", f, len(b), n)
		total += n
	}
	if total > 100<<10 {
		t.Fatalf("JS and CSS: %d bytes gzipped, more than 100 KB", total)
	}
	t.Logf("JS and CSS: %d bytes gzipped", total)
}

func gzipSize(t *testing.T, b []byte) int {
	n := &counter{}
	w, _ := gzip.NewWriterLevel(n, gzip.BestCompression)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return n.n
}

type counter struct{ n int }

func (c *counter) Write(p []byte) (int, error) { c.n += len(p); return len(p), nil }
