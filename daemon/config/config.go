// Package config holds graphmetrics' configuration: defaults, strict TOML
// decoding on top of them, and validation with errors that name the key.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	toml "github.com/pelletier/go-toml/v2"

	"graphmetrics/store"
)

// Config is the whole graphmetrics.toml (SPEC §7).
type Config struct {
	DataDir  string `toml:"data_dir" comment:"RRD files, state, database"`
	Timezone Zone   `toml:"timezone" comment:"zone of tracelog timestamps (IANA name or Local)"`
	LogLevel Level  `toml:"log_level" comment:"debug, info, warn or error"`

	Syslog   Syslog   `toml:"syslog"`
	Tail     Tail     `toml:"tail"`
	Tracelog Tracelog `toml:"tracelog"`
	Kinesis  Kinesis  `toml:"kinesis"`
	Graphite Graphite `toml:"graphite"`
	Statsd   Statsd   `toml:"statsd"`
	Metlog   Metlog   `toml:"metlog"`
	Zibrato  Zibrato  `toml:"zibrato"`
	Web      Web      `toml:"web"`
	Self     Self     `toml:"self"`
}

// Syslog configures the direct syslog listeners.
type Syslog struct {
	UDP         []string `toml:"udp"`
	TCP         []string `toml:"tcp"`
	RecvBuffer  int      `toml:"recv_buffer"`
	MaxMessage  int      `toml:"max_message"`
	MaxConns    int      `toml:"max_conns"`
	IdleTimeout Duration `toml:"idle_timeout"`
	// Allow lists the sources (addresses and CIDR networks) that may
	// send; empty: everyone.
	Allow []string `toml:"allow"`
	// MaxConnsPerSource caps the TCP connections of one source address.
	MaxConnsPerSource int `toml:"max_conns_per_source"`
	// Timezones overrides the zone per syslog host (or per "host/customer").
	Timezones map[string]Zone `toml:"timezones"`
}

// Tail configures the syslog-ng directory tailer.
type Tail struct {
	Paths        []string `toml:"paths"`
	PollInterval Duration `toml:"poll_interval"`
}

// Tracelog configures aggregation and the tracelog RRD files.
type Tracelog struct {
	Lateness      Duration `toml:"lateness"`
	FlushInterval Duration `toml:"flush_interval"`
	IdleTimeout   Duration `toml:"idle_timeout"`
	HungAfter     Duration `toml:"hung_after"`
	Shards        int      `toml:"shards"`
	Archives      Archives `toml:"archives"`
	// Limits against hostile and runaway senders (issue 11).
	MaxInstances          int      `toml:"max_instances"`
	NewInstancesPerMinute int      `toml:"new_instances_per_minute"`
	MaxRequests           int      `toml:"max_requests"`
	RequestTimeout        Duration `toml:"request_timeout"`
	MaxFuture             Duration `toml:"max_future"`
	// URL statistics (issue 12).
	URLs URLs `toml:"urls"`
}

// URLs configures the per-URL-pattern statistics: Rewrite rules apply in
// order to each path after the built-in steps (query dropped, numbers
// {n}, hex ids and UUIDs {id}); at most MaxPatterns patterns per instance
// are kept, the rest count under "other"; MaxPatterns 0 turns URL
// statistics off.
type URLs struct {
	Rewrite     []URLRule `toml:"rewrite"`
	MaxPatterns int       `toml:"max_patterns"`
}

// URLRule is one rewrite rule: matches of Regex (Go syntax) become
// Replacement ($1, ${name} refer to groups).
type URLRule struct {
	Regex       string `toml:"regex"`
	Replacement string `toml:"replacement"`
}

// Kinesis configures the metrics stream readers.
type Kinesis struct {
	Region    string   `toml:"region"`
	Endpoint  string   `toml:"endpoint"`
	FailAfter Duration `toml:"fail_after"`
	// MaxFuture refuses records stamped further ahead of the clock.
	MaxFuture Duration `toml:"max_future"`
	Streams   []Stream `toml:"streams"`
}

// Stream is one Kinesis stream.
type Stream struct {
	Name   string   `toml:"name"`
	Start  string   `toml:"start"`
	Step   Duration `toml:"step"`
	Metric string   `toml:"metric"`
}

// Graphite configures the Graphite plaintext input (off without addresses).
type Graphite struct {
	UDP       []string         `toml:"udp"`
	TCP       []string         `toml:"tcp"`
	MaxSeries int              `toml:"max_series"`
	Schemas   []GraphiteSchema `toml:"schemas"`
}

// GraphiteSchema gives new Graphite files whose name matches Pattern (a Go
// regexp) their step and archives; the first match wins.
type GraphiteSchema struct {
	Pattern  string   `toml:"pattern"`
	Step     Duration `toml:"step"`
	Archives Archives `toml:"archives"`
}

// Statsd configures the statsd input and the aggregation that Metlog
// shares (off without addresses).
type Statsd struct {
	UDP           []string  `toml:"udp"`
	TCP           []string  `toml:"tcp"`
	FlushInterval Duration  `toml:"flush_interval"`
	Percentiles   []float64 `toml:"percentiles"`
	MaxSeries     int       `toml:"max_series"`
}

// Metlog configures the Metlog (metlog-py UDP JSON) input.
type Metlog struct {
	UDP []string `toml:"udp"`
}

// Zibrato configures the Zibrato (ZeroMQ) subscriber (off without connect).
type Zibrato struct {
	Connect string   `toml:"connect"`
	Levels  []string `toml:"levels"`
}

// Web configures the UI.
type Web struct {
	Listen        string `toml:"listen"`
	Cert          string `toml:"cert"`
	Key           string `toml:"key"`
	RenderWorkers int    `toml:"render_workers"`
	// Limits (issue 11): values in one export, exports in flight, charts
	// on a page, pages of a user.
	MaxExportPoints int `toml:"max_export_points"`
	MaxExports      int `toml:"max_exports"`
	MaxPageCharts   int `toml:"max_page_charts"`
	MaxUserPages    int `toml:"max_user_pages"`
	// MaxRenderSeries bounds the series one Graphite /render request reads.
	MaxRenderSeries int `toml:"max_render_series"`
	// Overview: when the first page marks a pool or instance in trouble.
	Overview Overview `toml:"overview"`
}

// Overview holds the overview's trouble thresholds (issue 20).
type Overview struct {
	BacklogFor  Duration `toml:"backlog_for"`
	ErrorPct    float64  `toml:"error_pct"`
	HeadroomPct float64  `toml:"headroom_pct"`
	SilentAfter Duration `toml:"silent_after"`
}

// Self configures the daemon's own metrics.
type Self struct {
	Interval Duration `toml:"interval"`
}

// Default returns every default in one place.
func Default() Config {
	return Config{
		DataDir:  "var",
		Timezone: Zone{time.Local},
		LogLevel: Level{slog.LevelInfo},
		Syslog: Syslog{
			UDP:         []string{"127.0.0.1:5514"},
			TCP:         []string{"127.0.0.1:5514"},
			RecvBuffer:  8 << 20,
			MaxMessage:  64 << 10,
			MaxConns:    1000,
			IdleTimeout: Duration{5 * time.Minute},
			Timezones:   map[string]Zone{},
			Allow:       []string{},

			MaxConnsPerSource: 64,
		},
		Tail: Tail{Paths: []string{}, PollInterval: Duration{time.Second}},
		Tracelog: Tracelog{
			Lateness:      Duration{5 * time.Second},
			FlushInterval: Duration{10 * time.Second},
			IdleTimeout:   Duration{5 * time.Minute},
			HungAfter:     Duration{time.Minute},
			Archives:      store.DefaultTracelogArchives(),

			MaxInstances:          10000,
			NewInstancesPerMinute: 600,
			MaxRequests:           10000,
			RequestTimeout:        Duration{time.Hour},
			URLs:                  URLs{Rewrite: []URLRule{}, MaxPatterns: 500},
			MaxFuture:             Duration{5 * time.Minute},
		},
		Kinesis:  Kinesis{Region: "us-east-1", FailAfter: Duration{2 * time.Minute}, MaxFuture: Duration{time.Hour}, Streams: []Stream{}},
		Graphite: Graphite{UDP: []string{}, TCP: []string{}, MaxSeries: 100_000, Schemas: []GraphiteSchema{}},
		Statsd: Statsd{UDP: []string{}, TCP: []string{}, FlushInterval: Duration{10 * time.Second},
			Percentiles: []float64{90, 95, 99}, MaxSeries: 100_000},
		Metlog:  Metlog{UDP: []string{}},
		Zibrato: Zibrato{Levels: []string{"info"}},
		Web: Web{Listen: "127.0.0.1:8080", MaxRenderSeries: 1000, MaxExportPoints: 1_000_000, MaxExports: 2,
			MaxPageCharts: 100, MaxUserPages: 1000,
			Overview: Overview{BacklogFor: Duration{time.Minute}, ErrorPct: 5, HeadroomPct: 20, SilentAfter: Duration{2 * time.Minute}}},
		Self: Self{Interval: Duration{10 * time.Second}},
	}
}

// Load reads path on top of Default and validates the result.
func Load(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, b)
}

// Parse decodes b (named name in errors) on top of Default and validates it.
func Parse(name string, b []byte) (Config, error) {
	c := Default()
	// Lists in the file replace the defaults rather than merge into them.
	c.Syslog.UDP, c.Syslog.TCP, c.Tracelog.Archives, c.Syslog.Allow = nil, nil, nil, nil
	c.Statsd.Percentiles, c.Zibrato.Levels = nil, nil
	dec := toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Config{}, decodeError(name, err)
	}
	d := Default()
	if c.Syslog.UDP == nil {
		c.Syslog.UDP = d.Syslog.UDP
	}
	if c.Syslog.TCP == nil {
		c.Syslog.TCP = d.Syslog.TCP
	}
	if c.Syslog.Allow == nil {
		c.Syslog.Allow = d.Syslog.Allow
	}
	if c.Tracelog.Archives == nil {
		c.Tracelog.Archives = d.Tracelog.Archives
	}
	if c.Zibrato.Levels == nil {
		c.Zibrato.Levels = d.Zibrato.Levels
	}
	if c.Statsd.Percentiles == nil {
		c.Statsd.Percentiles = d.Statsd.Percentiles
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

func decodeError(name string, err error) error {
	var se *toml.StrictMissingError
	if errors.As(err, &se) {
		keys := make([]string, 0, len(se.Errors))
		for _, e := range se.Errors {
			keys = append(keys, strings.Join(e.Key(), "."))
		}
		return fmt.Errorf("%s: unknown key %s", name, strings.Join(keys, ", "))
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if k := de.Key(); len(k) > 0 {
			return fmt.Errorf("%s:%d: key %s: %s", name, row, strings.Join(k, "."), msg)
		}
		return fmt.Errorf("%s:%d: %s", name, row, msg)
	}
	return fmt.Errorf("%s: %w", name, err)
}

// TOML renders c as a TOML document (print-config).
func (c Config) TOML() ([]byte, error) {
	var buf bytes.Buffer
	enc := toml.NewEncoder(&buf).SetIndentTables(true)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
