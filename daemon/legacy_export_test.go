package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"testing"
)

// checkLegacyExport compares /export of the imported instance's chart at a
// 1-minute step over the last hours of the history with the legacy rows
// (rrdtool fetch of the legacy file's 1-minute archive).
func checkLegacyExport(t *testing.T, c *http.Client, web, src string, end int64) {
	t.Helper()
	const hours = 6
	u := fmt.Sprintf("http://%s/export/tracelog.json?customer=acme&host=127.0.0.1&instance=inst1&start=%d&end=%d&step=60&w=800&h=250",
		web, end-hours*3600, end)
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("export: HTTP %d %s", resp.StatusCode, body)
	}
	var series []struct {
		Target     string        `json:"target"`
		Datapoints [][2]*float64 `json:"datapoints"`
	}
	if err := json.Unmarshal(body, &series); err != nil {
		t.Fatalf("export: %v\n%.500s", err, body)
	}
	legacy := rrdFetch(t, src, "AVERAGE", 60, end-1600*60, end)
	col := map[string]string{"rpm": "rpm", "epm": "epm", "waiting": "bl", "max rpm": "spr", "restarts": "start"}
	compared := 0
	for _, s := range series {
		if s.Target == "hung" {
			// The original kept no such level: the history leaves it unknown.
			for _, p := range s.Datapoints {
				if int64(*p[1]) <= end && p[0] != nil {
					t.Fatalf("hung at %d is %v in the imported history, want unknown", int64(*p[1]), *p[0])
				}
			}
			continue
		}
		ds, ok := col[s.Target]
		if !ok {
			t.Fatalf("export series %q", s.Target)
		}
		for _, p := range s.Datapoints {
			tm := int64(*p[1]) // labelled as rrdtool fetch labels rows
			lr, ok := legacy[tm]
			if !ok || tm > end {
				continue
			}
			want := lr[ds]
			if ds == "start" {
				want = map[bool]float64{true: 1, false: 0}[want > 0]
				if math.IsNaN(lr[ds]) {
					want = math.NaN()
				}
			}
			got := math.NaN()
			if p[0] != nil {
				got = *p[0]
			}
			if !near(got, want) {
				t.Fatalf("export %s at %d: %v, legacy %v", s.Target, tm, got, want)
			}
			compared++
		}
	}
	if compared < 5*hours*60*9/10 {
		t.Errorf("export: compared %d values", compared)
	}
}
