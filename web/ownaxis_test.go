package web

import (
	"bytes"
	"encoding/json"
	"image/png"
	"math"
	"net/http"
	"strconv"
	"testing"

	"graphmetrics/web/render"
)

// TestGraphWaitingOwnAxis: the server-drawn image puts waiting on a right
// axis of its own, scaled by the factor the JSON export's values call for,
// so the backlog fills the chart instead of lying flat under the rates.
func TestGraphWaitingOwnAxis(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.loggedIn("alice", alicePW)
	for _, view := range []string{"", "all", "headroom"} {
		q := sampleQuery("host", "h1", "instance", "app-8080")
		if view != "" {
			q = sampleQuery("gkind", "pool", "group", "app-instances", "view", view)
		}
		r := c.get("/graph/tracelog.png?" + q.Encode())
		wantStatus(t, r, http.StatusOK)
		scale, err := strconv.ParseFloat(r.Header.Get("X-Graph-Own-Scale"), 64)
		shift, err2 := strconv.ParseFloat(r.Header.Get("X-Graph-Own-Shift"), 64)
		if err != nil || err2 != nil || r.Header.Get("X-Graph-Error") != "" {
			t.Fatalf("%s: X-Graph-Own-Scale %q (%v), error %q", view, r.Header.Get("X-Graph-Own-Scale"), err, r.Header.Get("X-Graph-Error"))
		}
		x := c.get("/export/tracelog.json?" + q.Encode())
		wantStatus(t, x, http.StatusOK)
		var series []struct {
			Target     string        `json:"target"`
			Datapoints [][2]*float64 `json:"datapoints"`
		}
		if err := json.Unmarshal([]byte(x.body), &series); err != nil {
			t.Fatal(err)
		}
		left, low, wait := math.Inf(-1), 0.0, math.Inf(-1)
		for _, s := range series {
			for _, p := range s.Datapoints {
				switch {
				case p[0] == nil || s.Target == "restarts":
				case s.Target == "waiting":
					wait = max(wait, *p[0])
				default:
					left, low = max(left, *p[0]), min(low, *p[0])
				}
			}
		}
		// The left axis' span from its minimum (or zero, rounded down):
		// headroom goes below zero, and waiting's zero is put there.
		if shift > low || shift < low-(left-low)/4 || (low == 0) != (shift == 0) {
			t.Fatalf("%s: shift %v for the export's span %v..%v", view, shift, low, left)
		}
		if want := render.NiceScale(left-shift, wait); scale != want || wait <= 0 || wait*scale < 0.4*(left-shift) {
			t.Fatalf("%s: scale %v, want %v from the export's span %v..%v and waiting max %v", view, scale, want, shift, left, wait)
		}
		if view == "" {
			// Waiting peaks above half the plot: its colour reaches the
			// upper half of the image (the legend is at the bottom).
			if top := highest(t, r.body, 0x00, 0x9e, 0x73); top > 150 {
				t.Errorf("waiting's highest pixel at row %d of 300; scaled by %v it should reach the upper half", top, scale)
			}
		}
	}
}

// highest is the topmost row of img holding a pixel near the colour.
func highest(t *testing.T, b string, r, g, bl uint8) int {
	img, err := png.Decode(bytes.NewReader([]byte(b)))
	if err != nil {
		t.Fatal(err)
	}
	bd := img.Bounds()
	near := func(a uint32, b uint8) bool { return math.Abs(float64(a>>8)-float64(b)) < 24 }
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if near(cr, r) && near(cg, g) && near(cb, bl) {
				return y
			}
		}
	}
	return bd.Max.Y
}
