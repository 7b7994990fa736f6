// Package overview builds the fleet overview of issue 20: every customer,
// pool and instance with its rates over the last minute of data, its
// levels now, sparklines over the page's range and the reasons it is in
// trouble, worst first. It reads the daemon's in-memory state through
// State and the 1-minute archives of the tracelog RRD files through
// librrd; it knows nothing of HTTP.
package overview

import (
	"context"
	"time"
)

// Trouble reasons, as /overview.json names them, most serious first.
const (
	Hung     = "hung"
	Silent   = "silent"
	Backlog  = "backlog"
	Errors   = "errors"
	Headroom = "headroom"
)

var weight = map[string]int{Hung: 16, Silent: 8, Backlog: 4, Errors: 2, Headroom: 1}

// Thresholds say when a pool or instance is in trouble ([web.overview]).
type Thresholds struct {
	BacklogFor  time.Duration // backlog > 0 for longer than this
	ErrorPct    float64       // errors above this % of requests (last minute)
	HeadroomPct float64       // headroom below this %
	SilentAfter time.Duration // no record for longer, while the pool is live
}

// DefaultThresholds are issue 20's.
func DefaultThresholds() Thresholds {
	return Thresholds{BacklogFor: time.Minute, ErrorPct: 5, HeadroomPct: 20, SilentAfter: 2 * time.Minute}
}

// Live is one instance as the daemon's aggregators hold it now.
type Live struct {
	Host, Customer, Instance string
	Waiting, Busy            int
	Hung                     int       // requests running longer than hung_after, now
	HasHung                  bool      // Hung is known
	WaitingSince             time.Time // the backlog rose from 0; zero when nothing waits
	LastSeen                 time.Time // newest record's own time
	LastHeard                time.Time // wall-clock time the newest record arrived
}

// State is the daemon's in-memory view of its instances, wired by the
// daemon (web does not import it). Instances idle longer than the
// aggregator's idle_timeout are not in it.
type State interface {
	Live(ctx context.Context) ([]Live, error)
}

// Overview is /overview.json.
type Overview struct {
	Now       int64       `json:"now"`
	From      int64       `json:"from"`
	Until     int64       `json:"until"`
	Customers []*Customer `json:"customers"`
}

// Customer holds its pools, worst first.
type Customer struct {
	Customer string  `json:"customer"`
	Pools    []*Pool `json:"pools"`
	score    int
}

// Pool is a pool (or the port-less instances of a host, SPEC §6).
type Pool struct {
	Pool        string      `json:"pool"`
	RPM         *float64    `json:"rpm"`
	EPM         *float64    `json:"epm"`
	Waiting     int         `json:"waiting"`
	Busy        int         `json:"busy"`
	Hung        *int        `json:"hung"` // null until the tracelog files have a hung data source
	HeadroomPct *float64    `json:"headroom_pct"`
	P95         *float64    `json:"p95_s"` // app time, last minute of data; null without requests
	Trouble     []string    `json:"trouble"`
	Instances   []*Instance `json:"instances"`

	Customer, Kind string    `json:"-"` // Kind: tree.Pool or tree.Host
	SparkRPM       []float64 `json:"-"` // per row of the range, NaN unknown
	SparkBacklog   []float64 `json:"-"`
	score          int
}

// Instance is one instance's row.
type Instance struct {
	Host     string   `json:"host"`
	Instance string   `json:"instance"`
	RPM      *float64 `json:"rpm"`
	EPM      *float64 `json:"epm"`
	Waiting  int      `json:"waiting"`
	Busy     int      `json:"busy"`
	Hung     *int     `json:"hung"`
	P95      *float64 `json:"p95_s"`
	LastSeen *int64   `json:"last_seen"` // null: no record in the daemon's memory or the range
	Trouble  []string `json:"trouble"`

	Customer    string   `json:"-"`
	HeadroomPct *float64 `json:"-"`
	score       int
	spr         float64 // max rpm, last minute (0 unknown)
	heard       time.Time
}

// Troubled reports whether the row has a reason.
func (p *Pool) Troubled() bool { return len(p.Trouble) > 0 }

// Troubled reports whether the row has a reason.
func (i *Instance) Troubled() bool { return len(i.Trouble) > 0 }
