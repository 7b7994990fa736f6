package graphite

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseTime reads Graphite's from/until forms (graphite-web's
// parseATTime): "now", offsets ("-15min", "-6h", "-7d", "+1w",
// "now-2h30min"), "HH:MM_YYYYMMDD", "YYYYMMDD", "MM/DD/YY[YY]", day and
// time references ("midnight", "noon", "teatime", "yesterday",
// "6pm today", "jan1", "monday") with an offset, and epoch seconds.
func ParseTime(s string, now time.Time, loc *time.Location) (time.Time, error) {
	orig := s
	if len(s) > 100 {
		return time.Time{}, fmt.Errorf("time %q: too long", s[:40]+"…")
	}
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("_", "", ",", "", " ", "").Replace(s)
	if s != "" && allDigits(s) {
		if !(len(s) == 8 && atoi(s[:4]) > 1900 && atoi(s[4:6]) < 13 && atoi(s[6:]) < 32) {
			v, err := strconv.ParseInt(s, 10, 64)
			if err != nil || v > 1<<40 {
				return time.Time{}, fmt.Errorf("time %q: bad epoch seconds", orig)
			}
			return time.Unix(v, 0).In(loc), nil
		}
	}
	ref, off := s, ""
	if i := strings.IndexByte(s, '+'); i >= 0 {
		ref, off = s[:i], s[i:]
	} else if i := strings.IndexByte(s, '-'); i >= 0 {
		ref, off = s[:i], s[i:]
	}
	t, err := timeReference(ref, now.In(loc), loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %w", orig, err)
	}
	d, err := ParseOffset(off)
	if err != nil {
		return time.Time{}, fmt.Errorf("time %q: %w", orig, err)
	}
	return t.Add(d), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func atoi(s string) int {
	v, _ := strconv.Atoi(s)
	return v
}

var months = []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}
var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

func timeReference(ref string, now time.Time, loc *time.Location) (time.Time, error) {
	if ref == "" || ref == "now" {
		return now, nil
	}
	raw := ref
	hour, minute := 0, 0
	if i := strings.IndexByte(ref, ':'); i > 0 && i < 3 {
		if len(ref) < i+3 || !allDigits(ref[:i]) || !allDigits(ref[i+1:i+3]) {
			return time.Time{}, fmt.Errorf("bad time of day %q", raw)
		}
		hour, minute = atoi(ref[:i]), atoi(ref[i+1:i+3])
		ref = ref[i+3:]
		if strings.HasPrefix(ref, "am") {
			ref = ref[2:]
		} else if strings.HasPrefix(ref, "pm") {
			hour = (hour + 12) % 24
			ref = ref[2:]
		}
	}
	if i := strings.Index(ref, "am"); i > 0 && i < 3 && allDigits(ref[:i]) {
		hour, ref = atoi(ref[:i]), ref[i+2:]
	}
	if i := strings.Index(ref, "pm"); i > 0 && i < 3 && allDigits(ref[:i]) {
		hour, ref = (atoi(ref[:i])+12)%24, ref[i+2:]
	}
	switch {
	case strings.HasPrefix(ref, "noon"):
		hour, minute, ref = 12, 0, ref[4:]
	case strings.HasPrefix(ref, "midnight"):
		hour, minute, ref = 0, 0, ref[8:]
	case strings.HasPrefix(ref, "teatime"):
		hour, minute, ref = 16, 0, ref[7:]
	}
	if hour > 23 || minute > 59 {
		return time.Time{}, fmt.Errorf("bad time of day %q", raw)
	}
	y, m, d := now.Date()
	date := func(y int, m time.Month, d int) (time.Time, error) {
		t := time.Date(y, m, d, hour, minute, 0, 0, loc)
		if t.Day() != d || t.Month() != m {
			return time.Time{}, fmt.Errorf("bad date %q", raw)
		}
		return t, nil
	}
	switch {
	case ref == "" || ref == "today":
		return date(y, m, d)
	case ref == "yesterday":
		return time.Date(y, m, d-1, hour, minute, 0, 0, loc), nil
	case ref == "tomorrow":
		return time.Date(y, m, d+1, hour, minute, 0, 0, loc), nil
	case strings.Count(ref, "/") == 2:
		p := strings.Split(ref, "/")
		if !allDigits(p[0]) || !allDigits(p[1]) || !allDigits(p[2]) || p[0] == "" || p[1] == "" || p[2] == "" {
			return time.Time{}, fmt.Errorf("bad date %q", raw)
		}
		yy := atoi(p[2])
		if yy < 1900 {
			yy += 1900
		}
		if yy < 1970 {
			yy += 100
		}
		return date(yy, time.Month(atoi(p[0])), atoi(p[1]))
	case len(ref) == 8 && allDigits(ref):
		return date(atoi(ref[:4]), time.Month(atoi(ref[4:6])), atoi(ref[6:]))
	case len(ref) >= 3 && indexOf(months, ref[:3]) >= 0:
		dd := ""
		if n := len(ref); n >= 5 && allDigits(ref[n-2:]) {
			dd = ref[n-2:]
		} else if allDigits(ref[n-1:]) {
			dd = ref[n-1:]
		} else {
			return time.Time{}, fmt.Errorf("day of month required after month name in %q", raw)
		}
		return date(y, time.Month(indexOf(months, ref[:3])+1), atoi(dd))
	case len(ref) >= 3 && indexOf(weekdays, ref[:3]) >= 0:
		back := int(now.Weekday()) - indexOf(weekdays, ref[:3])
		if back < 0 {
			back += 7
		}
		return time.Date(y, m, d-back, hour, minute, 0, 0, loc), nil
	}
	return time.Time{}, fmt.Errorf("unknown day reference %q", raw)
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// ParseOffset reads "-6h", "+1d12h", "3min", "-1w" (months are 30 days,
// years 365, as in Graphite).
func ParseOffset(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	orig := s
	sign := time.Duration(1)
	switch s[0] {
	case '+':
		s = s[1:]
	case '-':
		sign, s = -1, s[1:]
	}
	if s == "" {
		return 0, fmt.Errorf("bad offset %q", orig)
	}
	var total time.Duration
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i > 9 {
			return 0, fmt.Errorf("bad offset %q", orig)
		}
		num := time.Duration(atoi(s[:i]))
		s = s[i:]
		j := 0
		for j < len(s) && s[j] >= 'a' && s[j] <= 'z' {
			j++
		}
		unit, err := unitOf(s[:j])
		if err != nil {
			return 0, fmt.Errorf("offset %q: %w", orig, err)
		}
		s = s[j:]
		total += num * unit
		if total > 200*365*24*time.Hour {
			return 0, fmt.Errorf("offset %q too large", orig)
		}
	}
	return sign * total, nil
}

// unitOf follows graphite-web's getUnitString: the first letters decide.
func unitOf(u string) (time.Duration, error) {
	const day = 24 * time.Hour
	switch {
	case strings.HasPrefix(u, "s"):
		return time.Second, nil
	case strings.HasPrefix(u, "min"):
		return time.Minute, nil
	case strings.HasPrefix(u, "h"):
		return time.Hour, nil
	case strings.HasPrefix(u, "d"):
		return day, nil
	case strings.HasPrefix(u, "w"):
		return 7 * day, nil
	case strings.HasPrefix(u, "mon"):
		return 30 * day, nil
	case strings.HasPrefix(u, "y"):
		return 365 * day, nil
	}
	return 0, fmt.Errorf("invalid unit %q", u)
}
