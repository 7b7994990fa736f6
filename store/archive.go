package store

import (
	"fmt"
	"strings"
	"time"
)

// Archive is one round-robin archive of an RRD file: consolidation function
// (AVERAGE, MIN, MAX or LAST), the interval one row covers (a multiple of
// the file's step) and how long the archive reaches back. Its text form,
// as in the config's [tracelog] archives, is CF:STEP:SPAN ("AVERAGE:1m:8d").
type Archive struct {
	CF   string
	Step time.Duration
	Span time.Duration
}

const day = 24 * time.Hour

// DefaultTracelogArchives are SPEC §4's tracelog archives (about 3 MB a
// file), the default of [tracelog] archives.
func DefaultTracelogArchives() []Archive {
	return []Archive{
		{"AVERAGE", time.Second, 3 * time.Hour},
		{"AVERAGE", time.Minute, 8 * day},
		{"MAX", time.Minute, 8 * day},
		{"AVERAGE", time.Hour, 400 * day},
		{"MAX", time.Hour, 400 * day},
	}
}

// MetricArchives are SPEC §4's generic metric archives for a file step.
func MetricArchives(step time.Duration) []Archive {
	var out []Archive
	for _, cf := range []string{"AVERAGE", "MIN", "MAX"} {
		out = append(out, Archive{cf, step, 14 * day}, Archive{cf, max(time.Hour, step), 730 * day})
	}
	return out
}

// ParseArchive reads CF:STEP:SPAN. STEP and SPAN are Go durations or, like
// rrdtool's, a whole number of days (d) or weeks (w); STEP is at least 1s
// and SPAN at least STEP.
func ParseArchive(s string) (Archive, error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return Archive{}, fmt.Errorf("archive %q is not CF:STEP:SPAN", s)
	}
	a := Archive{CF: parts[0]}
	switch a.CF {
	case "AVERAGE", "MIN", "MAX", "LAST":
	default:
		return Archive{}, fmt.Errorf("archive %q: CF must be AVERAGE, MIN, MAX or LAST", s)
	}
	var err error
	if a.Step, err = parseSpan(parts[1]); err != nil || a.Step < time.Second {
		return Archive{}, fmt.Errorf("archive %q: bad step", s)
	}
	if a.Span, err = parseSpan(parts[2]); err != nil || a.Span < a.Step {
		return Archive{}, fmt.Errorf("archive %q: bad span", s)
	}
	return a, nil
}

// parseSpan is time.ParseDuration plus d (days) and w (weeks), like rrdtool.
func parseSpan(s string) (time.Duration, error) {
	for suffix, unit := range map[string]time.Duration{"d": day, "w": 7 * day} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			var v int
			if _, err := fmt.Sscanf(n, "%d", &v); err != nil || v <= 0 || fmt.Sprint(v) != n {
				return 0, fmt.Errorf("bad span %q", s)
			}
			return time.Duration(v) * unit, nil
		}
	}
	return time.ParseDuration(s)
}

// formatSpan writes whole days as "8d" and the rest as a Go duration
// without zero tails ("3h", "1m", "1m30s").
func formatSpan(d time.Duration) string {
	if d >= day && d%day == 0 {
		return fmt.Sprintf("%dd", d/day)
	}
	s := d.String()
	if t, ok := strings.CutSuffix(s, "m0s"); ok {
		s = t + "m"
	}
	if t, ok := strings.CutSuffix(s, "h0m"); ok {
		s = t + "h"
	}
	return s
}

// String is the CF:STEP:SPAN form.
func (a Archive) String() string { return a.CF + ":" + formatSpan(a.Step) + ":" + formatSpan(a.Span) }

// MarshalText writes CF:STEP:SPAN.
func (a Archive) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads CF:STEP:SPAN (ParseArchive).
func (a *Archive) UnmarshalText(b []byte) error {
	v, err := ParseArchive(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}
