package store

import (
	"testing"
	"time"
)

func TestParseArchive(t *testing.T) {
	a, err := ParseArchive("MAX:1h:400d")
	if err != nil || a.CF != "MAX" || a.Step != time.Hour || a.Span != 400*24*time.Hour {
		t.Errorf("got %+v, %v", a, err)
	}
	for _, bad := range []string{"MAX:1h", "MAX:0s:1d", "MAX:1h:1m", "MAX:1h:xd", "MAX:1h:-3d"} {
		if _, err := ParseArchive(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The text form reads back as the same archive, and the defaults print as
// the config example writes them.
func TestArchiveText(t *testing.T) {
	var got []string
	for _, a := range DefaultTracelogArchives() {
		got = append(got, a.String())
	}
	want := []string{"AVERAGE:1s:3h", "AVERAGE:1m:8d", "MAX:1m:8d", "AVERAGE:1h:400d", "MAX:1h:400d"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("got %q, want %q", got[i], want[i])
		}
	}
	for _, s := range []string{"AVERAGE:1s:3h", "LAST:90s:1h30m", "MIN:1m:2w", "MAX:2h:25h", "AVERAGE:1500ms:1h"} {
		a, err := ParseArchive(s)
		if err != nil {
			t.Fatal(err)
		}
		b, err := a.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Archive
		if err := back.UnmarshalText(b); err != nil || back != a {
			t.Errorf("%s → %s → %+v %v", s, b, back, err)
		}
	}
}
