package legacy

import (
	"math"
	"testing"
)

func TestParseName(t *testing.T) {
	k, err := ParseName("zope1__acme__inst_1.rrd")
	if err != nil || k.Host != "zope1" || k.Customer != "acme" || k.Instance != "inst_1" {
		t.Fatalf("%+v %v", k, err)
	}
	for _, bad := range []string{"a__b.rrd", "a__b__c__d.rrd", "a____c.rrd", "a__b__c", "__b__c.rrd"} {
		if _, err := ParseName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The charts' max rpm (60·app_n/app_sum when app_sum > 0) gives spr back,
// and unknown when spr is.
func TestMapRow(t *testing.T) {
	nan := math.NaN()
	r := mapRow([5]float64{120, 6, 3, 900, 1})
	if r[0]*60 != 120 || r[1]*60 != 6 || r[4] != 3 || r[6]*60 != 1 || !math.IsNaN(r[5]) ||
		math.Abs(60*r[3]/r[2]-900) > 1e-9 {
		t.Errorf("known: %v", r)
	}
	for _, spr := range []float64{nan, 0} {
		r = mapRow([5]float64{120, 0, 0, spr, 0})
		if r[2] != 0 || r[3] != 0 {
			t.Errorf("spr %v: app_sum %v app_n %v, want 0 0 (max rpm unknown)", spr, r[2], r[3])
		}
	}
	r = mapRow([5]float64{nan, nan, nan, nan, nan})
	for _, v := range r {
		if !math.IsNaN(v) {
			t.Errorf("unknown row: %v", r)
		}
	}
}
