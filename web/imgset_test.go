package web

import (
	"image/png"
	"net/http"
	"strings"
	"testing"
)

// TestImageWidth: iw draws a chart's image at another width (for srcset),
// within the render limits.
func TestImageWidth(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.loggedIn("alice", alicePW)
	q := sampleQuery("host", "h1", "instance", "app-8080").Encode()
	for _, tc := range []struct {
		iw         string
		status, px int
	}{{"1200", 200, 1200}, {"400", 200, 400}, {"", 200, 640}, {"199", 400, 640}, {"2001", 400, 640}, {"x", 400, 640}} {
		r := c.get("/graph/tracelog.png?" + q + "&iw=" + tc.iw + "&zoom=1")
		wantStatus(t, r, tc.status)
		cfg, err := png.DecodeConfig(strings.NewReader(r.body))
		if err != nil || cfg.Width != tc.px || cfg.Height != 300 {
			t.Errorf("iw=%s: %v %dx%d, want %dx300", tc.iw, err, cfg.Width, cfg.Height, tc.px)
		}
		if (tc.status == http.StatusBadRequest) != strings.Contains(r.Header.Get("X-Graph-Error"), "iw") {
			t.Errorf("iw=%s: X-Graph-Error %q", tc.iw, r.Header.Get("X-Graph-Error"))
		}
	}
	if s := srcset("/graph/x.png?a=1", "dark", 2); !strings.HasPrefix(s, "/graph/x.png?a=1&iw=400&theme=dark&zoom=2 800w, ") {
		t.Errorf("srcset %q", s)
	}
}
