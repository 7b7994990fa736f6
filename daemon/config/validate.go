package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"graphmetrics/store/urlpattern"
)

// Error is a validation error that names the key.
type Error struct {
	Key string
	Msg string
}

func (e *Error) Error() string { return "key " + e.Key + ": " + e.Msg }

// Validate checks every value; the error names the first bad key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, &Error{Key: key, Msg: fmt.Sprintf(format, a...)})
	}
	if strings.TrimSpace(c.DataDir) == "" {
		bad("data_dir", "must not be empty")
	}

	for _, a := range c.Syslog.UDP {
		if err := checkAddr(a); err != nil {
			bad("syslog.udp", "%v", err)
		}
	}
	for _, a := range c.Syslog.TCP {
		if err := checkAddr(a); err != nil {
			bad("syslog.tcp", "%v", err)
		}
	}
	if c.Syslog.RecvBuffer < 64<<10 || c.Syslog.RecvBuffer > 1<<30 {
		bad("syslog.recv_buffer", "%d is outside 65536..1073741824 bytes", c.Syslog.RecvBuffer)
	}
	if c.Syslog.MaxMessage < 480 || c.Syslog.MaxMessage > 16<<20 {
		bad("syslog.max_message", "%d is outside 480..16777216 bytes", c.Syslog.MaxMessage)
	}
	if c.Syslog.MaxConns < 1 {
		bad("syslog.max_conns", "must be at least 1")
	}
	if c.Syslog.IdleTimeout.Duration <= 0 {
		bad("syslog.idle_timeout", "must be positive")
	}
	if c.Syslog.MaxConnsPerSource < 1 {
		bad("syslog.max_conns_per_source", "must be at least 1")
	}
	for _, a := range c.Syslog.Allow {
		if _, err := ParseAllow(a); err != nil {
			bad("syslog.allow", "%v", err)
		}
	}

	for _, p := range c.Tail.Paths {
		if _, err := filepath.Match(p, ""); err != nil || p == "" {
			bad("tail.paths", "bad glob %q", p)
		}
	}
	if c.Tail.PollInterval.Duration <= 0 {
		bad("tail.poll_interval", "must be positive")
	}

	t := c.Tracelog
	if t.Lateness.Duration < 0 || t.Lateness.Duration > time.Hour {
		bad("tracelog.lateness", "%v is outside 0..1h", t.Lateness)
	}
	if t.FlushInterval.Duration < 100*time.Millisecond {
		bad("tracelog.flush_interval", "%v is shorter than 100ms", t.FlushInterval)
	}
	if t.IdleTimeout.Duration <= t.Lateness.Duration {
		bad("tracelog.idle_timeout", "%v must be longer than lateness (%v)", t.IdleTimeout, t.Lateness)
	}
	if t.HungAfter.Duration < time.Second || t.HungAfter.Duration > 24*time.Hour {
		bad("tracelog.hung_after", "%v is outside 1s..24h", t.HungAfter)
	}
	if t.Shards < 0 || t.Shards > 256 {
		bad("tracelog.shards", "%d is outside 0..256 (0 = one per core)", t.Shards)
	}
	if len(t.Archives) == 0 {
		bad("tracelog.archives", "needs at least one archive")
	}

	if t.MaxInstances < 1 {
		bad("tracelog.max_instances", "must be at least 1")
	}
	if t.NewInstancesPerMinute < 1 {
		bad("tracelog.new_instances_per_minute", "must be at least 1")
	}
	if t.MaxRequests < 1 {
		bad("tracelog.max_requests", "must be at least 1")
	}
	if t.RequestTimeout.Duration < time.Second {
		bad("tracelog.request_timeout", "%v is shorter than 1s", t.RequestTimeout)
	}
	if t.MaxFuture.Duration < time.Second || t.MaxFuture.Duration > 48*time.Hour {
		bad("tracelog.max_future", "%v is outside 1s..48h", t.MaxFuture)
	}

	if t.URLs.MaxPatterns < 0 || t.URLs.MaxPatterns > 100_000 {
		bad("tracelog.urls.max_patterns", "%d is outside 0..100000 (0 turns URL statistics off)", t.URLs.MaxPatterns)
	}
	for i, r := range t.URLs.Rewrite {
		if _, err := urlpattern.New([]urlpattern.Rule{{Regex: r.Regex, Replacement: r.Replacement}}); err != nil {
			bad("tracelog.urls.rewrite", "rule %d (%q): %v", i+1, r.Regex, errors.Unwrap(err))
		}
	}

	k := c.Kinesis
	if len(k.Streams) > 0 && k.Region == "" {
		bad("kinesis.region", "must be set when streams are configured")
	}
	if k.Endpoint != "" {
		if u, err := url.Parse(k.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("kinesis.endpoint", "%q is not an http(s) URL", k.Endpoint)
		}
	}
	if k.FailAfter.Duration < time.Second {
		bad("kinesis.fail_after", "must be at least 1s")
	}
	if k.MaxFuture.Duration < time.Second || k.MaxFuture.Duration > 48*time.Hour {
		bad("kinesis.max_future", "%v is outside 1s..48h", k.MaxFuture)
	}
	seen := map[string]bool{}
	for i, s := range k.Streams {
		key := fmt.Sprintf("kinesis.streams[%d]", i)
		if s.Name == "" {
			bad(key+".name", "must not be empty")
		} else if s.Name == "_self" {
			bad(key+".name", "_self is reserved for the daemon's own metrics")
		} else if seen[s.Name] {
			bad(key+".name", "stream %q listed twice", s.Name)
		}
		seen[s.Name] = true
		if s.Start != "trim_horizon" && s.Start != "latest" {
			bad(key+".start", "%q is not trim_horizon or latest", s.Start)
		}
		if s.Step.Duration < time.Second || s.Step.Duration%time.Second != 0 {
			bad(key+".step", "%v must be a whole number of seconds, at least 1s", s.Step)
		}
	}

	c.validateInputs(bad)

	if err := checkAddr(c.Web.Listen); err != nil {
		bad("web.listen", "%v", err)
	}
	if (c.Web.Cert == "") != (c.Web.Key == "") {
		bad("web.cert", "cert and key must be set together")
	}
	if c.Web.RenderWorkers < 0 || c.Web.RenderWorkers > 64 {
		bad("web.render_workers", "%d is outside 0..64 (0 = one per core)", c.Web.RenderWorkers)
	}
	if c.Web.MaxRenderSeries < 1 || c.Web.MaxRenderSeries > 100000 {
		bad("web.max_render_series", "%d is outside 1..100000", c.Web.MaxRenderSeries)
	}
	if c.Web.MaxExportPoints < 1000 || c.Web.MaxExportPoints > 5_000_000 {
		bad("web.max_export_points", "%d is outside 1000..5000000", c.Web.MaxExportPoints)
	}
	if c.Web.MaxExports < 1 || c.Web.MaxExports > 64 {
		bad("web.max_exports", "%d is outside 1..64", c.Web.MaxExports)
	}
	if c.Web.MaxPageCharts < 1 || c.Web.MaxPageCharts > 10000 {
		bad("web.max_page_charts", "%d is outside 1..10000", c.Web.MaxPageCharts)
	}
	ov := c.Web.Overview
	if d := ov.BacklogFor.Duration; d < time.Second || d > 24*time.Hour {
		bad("web.overview.backlog_for", "%v is outside 1s..24h", d)
	}
	if ov.ErrorPct <= 0 || ov.ErrorPct > 100 || math.IsNaN(ov.ErrorPct) {
		bad("web.overview.error_pct", "%v is outside (0, 100]", ov.ErrorPct)
	}
	if ov.HeadroomPct < 0 || ov.HeadroomPct > 100 || math.IsNaN(ov.HeadroomPct) {
		bad("web.overview.headroom_pct", "%v is outside 0..100 (0 = never)", ov.HeadroomPct)
	}
	if d := ov.SilentAfter.Duration; d < time.Second || d > 24*time.Hour {
		bad("web.overview.silent_after", "%v is outside 1s..24h", d)
	}
	if c.Web.MaxUserPages < 1 || c.Web.MaxUserPages > 1_000_000 {
		bad("web.max_user_pages", "%d is outside 1..1000000", c.Web.MaxUserPages)
	}
	if c.Self.Interval.Duration < time.Second {
		bad("self.interval", "must be at least 1s")
	}
	return errors.Join(errs...)
}

// ParseAllow reads one [syslog] allow entry: an address ("192.0.2.7",
// "2001:db8::1") or a CIDR network ("10.0.0.0/8", "2001:db8::/32").
func ParseAllow(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR network", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR network", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func checkAddr(a string) error {
	if _, _, err := net.SplitHostPort(a); err != nil {
		return fmt.Errorf("%q is not host:port", a)
	}
	return nil
}

// Location returns the configured tracelog zone (time.Local if unset).
func (c *Config) Location() *time.Location {
	if c.Timezone.Location == nil {
		return time.Local
	}
	return c.Timezone.Location
}
