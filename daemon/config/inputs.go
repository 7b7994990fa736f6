package config

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// validateInputs checks [graphite], [statsd] and [metlog].
func (c *Config) validateInputs(bad func(key, format string, a ...any)) {
	addrs := func(key string, as []string) {
		for _, a := range as {
			if err := checkAddr(a); err != nil {
				bad(key, "%v", err)
			}
		}
	}
	g := c.Graphite
	addrs("graphite.udp", g.UDP)
	addrs("graphite.tcp", g.TCP)
	if g.MaxSeries < 1 {
		bad("graphite.max_series", "must be at least 1")
	}
	for i, s := range g.Schemas {
		key := fmt.Sprintf("graphite.schemas[%d]", i)
		if _, err := regexp.Compile(s.Pattern); err != nil {
			bad(key+".pattern", "%v", err)
		}
		if s.Step.Duration < time.Second || s.Step.Duration%time.Second != 0 {
			bad(key+".step", "%v must be a whole number of seconds, at least 1s", s.Step)
			continue
		}
		if len(s.Archives) == 0 {
			bad(key+".archives", "needs at least one archive")
		}
		for _, a := range s.Archives {
			if a.Step%s.Step.Duration != 0 {
				bad(key+".archives", "archive %s: step is not a multiple of %v", a, s.Step)
			}
		}
	}

	s := c.Statsd
	addrs("statsd.udp", s.UDP)
	addrs("statsd.tcp", s.TCP)
	if d := s.FlushInterval.Duration; d < time.Second || d%time.Second != 0 {
		bad("statsd.flush_interval", "%v must be a whole number of seconds, at least 1s (it is the RRD step)", s.FlushInterval)
	}
	for _, p := range s.Percentiles {
		if p == 0 || p <= -100 || p >= 100 || math.IsNaN(p) {
			bad("statsd.percentiles", "%v is not in (-100, 100) without 0", p)
		}
	}
	if s.MaxSeries < 1 {
		bad("statsd.max_series", "must be at least 1")
	}
	addrs("metlog.udp", c.Metlog.UDP)

	z := c.Zibrato
	if z.Connect != "" {
		u, err := url.Parse(z.Connect)
		if err != nil || (u.Scheme != "tcp" && u.Scheme != "ipc") || (u.Host == "" && u.Path == "") {
			bad("zibrato.connect", "%q is not a ZeroMQ endpoint such as tcp://127.0.0.1:5551", z.Connect)
		}
	}
	if len(z.Levels) == 0 {
		bad("zibrato.levels", "needs at least one level")
	}
	for _, l := range z.Levels {
		if l == "" || strings.ContainsAny(l, "|\n") {
			bad("zibrato.levels", "level %q is empty or holds '|'", l)
		}
	}
}
