package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"strconv"
	"time"
)

// receiver is a process that load is sent to and that counts the lines it
// got: graphmetrics, the bare reader, syslog-ng.
type receiver interface {
	name() string
	addr(transport string) string
	pid() int
	// received is the lines counted so far on transport; done is false
	// while lines received are still being processed (graphmetrics'
	// aggregator behind its listener).
	received(ctx context.Context, transport string) (n uint64, done bool, err error)
}

// env is what every scenario shares.
type env struct {
	bin      string // graphmetrics
	loadgen  string
	syslogNG string
	tmp      string
	step     time.Duration // one search step
	budget   time.Duration // one search
	runs     int
	tries    int // tries of a rate that loses lines
	quick    bool
	urlRate  float64 // urls: requests/s
	urlBase  string  // urls: baseline binary measured beside bin
	log      *slog.Logger
}

// step is one paced run against one receiver.
type step struct {
	Receiver      string  `json:"receiver"`
	Transport     string  `json:"transport"`
	Instances     int     `json:"instances"`
	Requested     float64 `json:"requested"`
	Achieved      float64 `json:"achieved"`
	Seconds       float64 `json:"seconds"`
	Sent          uint64  `json:"sent"`
	Received      uint64  `json:"received"`
	Lost          int64   `json:"lost"`
	KernelDrops   uint64  `json:"kernel_drops"`
	SendErrors    uint64  `json:"send_errors"`
	Lossless      bool    `json:"lossless"`
	SenderLimited bool    `json:"sender_limited"` // achieved < 97% of requested
	CPU           float64 `json:"cpu_seconds"`    // the receiver's, load and drain
	CPUPerM       float64 `json:"cpu_s_per_mline"`
	SenderCPU     float64 `json:"sender_cpu_seconds"`
	MaxLagMs      float64 `json:"sender_max_lag_ms"`
}

func (s step) String() string {
	v := "lossless"
	if !s.Lossless {
		v = fmt.Sprintf("LOST %d (%.2f%%, kernel drops %d)", s.Lost, 100*float64(s.Lost)/float64(max(s.Sent, 1)), s.KernelDrops)
	}
	if s.SenderLimited {
		v += ", sender-limited"
	}
	return fmt.Sprintf("%s %s %s/s for %.0fs: achieved %s/s, %s, %.2f CPU-s/Mline", s.Receiver, s.Transport,
		num(s.Requested), s.Seconds, num(s.Achieved), v, s.CPUPerM)
}

// runStep sends l to r, waits until r has counted what it will, and
// compares.
func (e *env) runStep(ctx context.Context, r receiver, l load) (step, error) {
	l.addr = r.addr(l.transport)
	st := step{Receiver: r.name(), Transport: l.transport, Instances: l.instances, Requested: l.rate}
	before, _, err := r.received(ctx, l.transport)
	if err != nil {
		return st, err
	}
	port := portOf(l.addr)
	drops0, _ := udpDrops(port)
	cpu0, err := cpuSeconds(r.pid())
	if err != nil {
		return st, err
	}
	sum, err := runLoad(ctx, e.loadgen, l)
	if err != nil {
		return st, err
	}
	after, err := settle(ctx, r, l.transport, before+sum.Sent)
	if err != nil {
		return st, err
	}
	cpu1, err := cpuSeconds(r.pid())
	if err != nil {
		return st, err
	}
	drops1, _ := udpDrops(port)
	if c, ok := r.(interface{ afterStep() error }); ok {
		if err := c.afterStep(); err != nil {
			return st, err
		}
	}
	st.Achieved, st.Seconds, st.Sent = sum.Rate, sum.Seconds, sum.Sent
	st.Received = after - before
	st.Lost = int64(sum.Sent) - int64(st.Received)
	st.KernelDrops = drops1 - drops0
	if l.transport != "udp" {
		st.KernelDrops = 0
	}
	st.SendErrors = sum.SendErrors
	st.Lossless = st.Lost == 0 && sum.SendErrors == 0
	st.SenderLimited = sum.Rate < 0.97*l.rate
	st.CPU = cpu1 - cpu0
	st.CPUPerM = st.CPU / (float64(max(sum.Sent, 1)) / 1e6)
	st.SenderCPU, st.MaxLagMs = sum.CPU, sum.MaxLagMs
	e.log.Info("step", "result", st.String())
	return st, nil
}

// settle waits until r has counted want lines and processed them, or has
// stopped counting for two seconds (the rest is lost), at most 30 s.
func settle(ctx context.Context, r receiver, transport string, want uint64) (uint64, error) {
	deadline := time.Now().Add(30 * time.Second)
	var last uint64
	lastChange := time.Now()
	for {
		n, done, err := r.received(ctx, transport)
		if err != nil {
			return n, err
		}
		if n >= want && done {
			return n, nil
		}
		if n != last {
			last, lastChange = n, time.Now()
		}
		if (done && time.Since(lastChange) > 2*time.Second) || time.Now().After(deadline) {
			return n, nil
		}
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func portOf(addr string) int {
	_, p, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(p)
	return n
}

// search is a highest-lossless-rate search against one receiver.
type search struct {
	Receiver  string `json:"receiver"`
	Transport string `json:"transport"`
	Instances int    `json:"instances"`
	// MaxLossless is the highest requested rate that was lossless and
	// achieved by the sender; BestAchieved the highest rate achieved in a
	// lossless step (a sender-limited one included).
	MaxLossless  float64 `json:"max_lossless"`
	BestAchieved float64 `json:"best_achieved"`
	// FirstBad is the lowest rate that lost lines or could not be sent;
	// LimitedBy says which: "loss", "sender" (nothing lost, but the
	// sender fell short: TCP backpressure or the sender's own limit),
	// "budget" or "cap".
	FirstBad  float64 `json:"first_bad"`
	LimitedBy string  `json:"limited_by"`
	Steps     []step  `json:"steps"`
}

const rateCap = 4e6

// bracket is the search's state: the highest good rate and the lowest bad
// one seen so far.
type bracket struct {
	res       *search
	start     float64
	good, bad float64
	badStep   step
}

// record takes the tries of one rate: the rate is good if a try lost
// nothing and was not short of it.
func (b *bracket) record(tries ...step) {
	if len(tries) == 0 {
		return
	}
	good := false
	for _, s := range tries {
		b.res.Steps = append(b.res.Steps, s)
		if s.Lossless {
			b.res.BestAchieved = max(b.res.BestAchieved, s.Achieved)
		}
		good = good || s.Lossless && !s.SenderLimited
	}
	rate := tries[0].Requested
	if good {
		b.good = max(b.good, rate)
	} else if b.bad == 0 || rate < b.bad {
		b.bad, b.badStep = rate, tries[len(tries)-1]
	}
}

// next is the rate to try next: double from start until a bad step, halve
// until a good one, then bisect geometrically until the bracket is within
// 10%. It returns 0 when done, with the reason if it is not the bracket.
func (b *bracket) next() (float64, string) {
	var rate float64
	switch {
	case b.bad == 0:
		rate = b.start
		if b.good > 0 {
			rate = 2 * b.good
		}
	case b.good == 0:
		rate = math.Round(b.bad / 2)
	case b.bad/b.good <= 1.1:
		return 0, ""
	default:
		rate = math.Round(math.Sqrt(b.good*b.bad)/1000) * 1000
	}
	if rate < 1000 {
		return 0, ""
	}
	if rate > rateCap {
		return 0, "cap"
	}
	return rate, ""
}

// done fills in the result.
func (b *bracket) done(stopped string) {
	b.res.MaxLossless, b.res.FirstBad, b.res.LimitedBy = b.good, b.bad, stopped
	if b.bad > 0 {
		b.res.LimitedBy = "loss"
		if b.badStep.Lossless {
			b.res.LimitedBy = "sender"
		}
	}
}

// searcher is one receiver's rate search.
type searcher struct {
	r       receiver
	l       load // the load shape; the search sets its rate
	res     search
	b       *bracket
	stopped string
	done    bool
}

// newSearcher starts a search from start; earlier steps at the same load
// shape may be passed in seed, each a rate of its own.
func newSearcher(r receiver, l load, start float64, seed ...step) *searcher {
	s := &searcher{r: r, l: l, res: search{Receiver: r.name(), Transport: l.transport, Instances: l.instances}}
	s.b = &bracket{res: &s.res, start: start}
	for _, st := range seed {
		s.b.record(st)
	}
	return s
}

// searchTogether runs the searches a step each in turn, so that receivers
// (or load shapes) compared with each other are measured in the same
// minutes of a shared, noisy machine. Each search sends its own load shape;
// l gives the step duration. The time budget is -budget per search.
func (e *env) searchTogether(ctx context.Context, l load, ss ...*searcher) error {
	deadline := time.Now().Add(time.Duration(len(ss)) * e.budget)
	for {
		busy := false
		for _, s := range ss {
			if s.done {
				continue
			}
			rate, why := s.b.next()
			if rate == 0 || time.Until(deadline) < l.duration+5*time.Second {
				if rate != 0 {
					why = "budget"
				}
				s.done, s.stopped = true, why
				continue
			}
			sl := s.l
			sl.rate, sl.duration = rate, l.duration
			tries, err := e.tryStep(ctx, s.r, sl)
			if err != nil {
				return err
			}
			s.b.record(tries...)
			busy = true
		}
		if !busy {
			break
		}
	}
	for _, s := range ss {
		s.b.done(s.stopped)
		r := s.res
		e.log.Info("search done", "receiver", r.Receiver, "transport", r.Transport, "max_lossless", num(r.MaxLossless),
			"best_achieved", num(r.BestAchieved), "first_bad", num(r.FirstBad), "limited_by", r.LimitedBy)
	}
	return nil
}

// tryStep runs a step and, while it loses lines, tries the same rate again
// up to -tries times in all: on a shared machine a neighbour's burst can
// cost a receiver a few thousand datagrams once, which says little about
// the rate it sustains.
func (e *env) tryStep(ctx context.Context, r receiver, l load) ([]step, error) {
	var tries []step
	for range e.tries {
		s, err := e.runStep(ctx, r, l)
		if err != nil {
			return tries, err
		}
		tries = append(tries, s)
		if s.Lost <= 0 {
			break
		}
	}
	return tries, nil
}

// num formats a rate with thousands separators.
func num(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
