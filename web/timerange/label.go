package timerange

import (
	"net/url"
	"strconv"
	"time"
)

// Preset is one of the picker's trailing ranges.
type Preset struct {
	Label string // "15m"
	From  string // "-15min"
}

// Presets are the picker's trailing ranges, shortest first.
var Presets = []Preset{
	{"5m", "-5min"}, {"15m", "-15min"}, {"1h", "-1h"}, {"3h", "-3h"}, {"12h", "-12h"},
	{"24h", "-24h"}, {"7d", "-7d"}, {"30d", "-30d"}, {"90d", "-90d"}, {"1y", "-1y"},
}

// Preset returns the label of the preset r is, or "".
func (r Range) Preset() string {
	if !r.From.Rel || !r.From.Set || r.Until.Set && !(r.Until.Rel && r.Until.Ago == 0) {
		if r.IsZero() {
			return "24h"
		}
		return ""
	}
	for _, p := range Presets {
		if q, err := ParsePoint(p.From, time.UTC); err == nil && q.Ago == r.From.Ago {
			return p.Label
		}
	}
	return ""
}

const show = "2006-01-02 15:04"

// Label describes the range for people, in loc.
func (r Range) Label(loc *time.Location) string {
	f, u := r.From, r.Until
	switch {
	case r.IsZero():
		return "last 24 hours"
	case f.Rel && (!u.Set || u.Rel && u.Ago == 0):
		return "last " + words(f.Ago)
	case !f.Set && !u.Rel:
		return "24 hours until " + time.Unix(u.At, 0).In(loc).Format(show)
	case !f.Rel && (!u.Set || u.Rel && u.Ago == 0):
		return "since " + time.Unix(f.At, 0).In(loc).Format(show)
	case !f.Rel && !u.Rel:
		a, b := time.Unix(f.At, 0).In(loc), time.Unix(u.At, 0).In(loc)
		if a.Format("2006-01-02") == b.Format("2006-01-02") {
			return a.Format(show) + " to " + b.Format("15:04:05")
		}
		return a.Format(show) + " to " + b.Format(show)
	}
	return "from " + f.Format(loc) + " until " + orNow(u.Format(loc))
}

func orNow(s string) string {
	if s == "" {
		return "now"
	}
	return s
}

// words says a span in its largest whole unit: "15 minutes", "7 days".
func words(sec int64) string {
	for _, u := range []struct {
		name string
		sec  int64
	}{{"year", 365 * 86400}, {"day", 86400}, {"hour", 3600}, {"minute", 60}, {"second", 1}} {
		if sec%u.sec == 0 {
			n := sec / u.sec
			if n == 1 {
				return u.name
			}
			return strconv.FormatInt(n, 10) + " " + u.name + "s"
		}
	}
	return strconv.FormatInt(sec, 10) + " seconds"
}

// With returns base's query with r in it, as "?…" (keeping other keys such
// as a search).
func (r Range) With(base url.Values, loc *time.Location) string {
	v := url.Values{}
	for k, vs := range base {
		v[k] = append([]string(nil), vs...)
	}
	r.Encode(v, loc)
	if len(v) == 0 {
		return "?"
	}
	return "?" + v.Encode()
}
