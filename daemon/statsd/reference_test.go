package statsd

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"graphmetrics/daemon/graphite"
	"graphmetrics/daemon/listen"
)

// referencePackets are statsd packets of every type etsy and we agree on:
// counters with and without sample rates and several values per line,
// timers (every key's samples in one packet, so both daemons see them in
// one flush), gauges with deltas, sets; several metrics per packet.
func referencePackets() []string {
	r := rand.New(rand.NewPCG(1, 2))
	var ps []string
	for i := range 40 {
		ps = append(ps, fmt.Sprintf("app.hits:1|c\napp.bytes:%d|c|@0.1\napp.multi:1|c:2|c:-1|c", r.IntN(5000)))
		ps = append(ps, fmt.Sprintf("app.load:%d|g\napp.depth:+%d|g\napp.depth:-1|g", i, r.IntN(9)))
	}
	for k := range 6 {
		var lines []string
		for range 1 + k*17 {
			rate := ""
			if k%2 == 1 {
				rate = "|@0.5"
			}
			lines = append(lines, fmt.Sprintf("api.t%d:%.3f|ms%s", k, r.Float64()*800, rate))
		}
		ps = append(ps, strings.Join(lines, "\n"))
	}
	ps = append(ps, "users.uniq:joe|s\nusers.uniq:ann|s\nusers.uniq:joe|s\nusers.uniq:bob|s")
	ps = append(ps, "odd key/with:chars!:3|c")
	return ps
}

// The same packets to etsy statsd 0.9.0 (its graphite backend flushing
// into our Graphite input) and to our statsd: the same series names, and
// per series counts and sums exactly, timer statistics and gauges equal.
func TestAgainstEtsyStatsd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two statsd daemons for several seconds")
	}
	pcts := []float64{90, 95, 99}
	// A: etsy statsd -> our Graphite input.
	wA, dirA := newWriter(t)
	g, err := graphite.New(graphite.Options{Listen: listen.Options{TCP: []string{"127.0.0.1:0"}},
		Schemas: oneSecond, Sink: wA})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close(context.Background()) })
	etsy := startEtsy(t, g.Addrs()[0].(*net.TCPAddr), pcts)
	// B: our statsd.
	in, _, wB, dirB := startOurs(t, pcts)

	start := time.Now().Unix()
	ce, err := net.Dial("udp", etsy)
	if err != nil {
		t.Fatal(err)
	}
	defer ce.Close()
	co, err := net.Dial("udp", in.Addrs()[0].String())
	if err != nil {
		t.Fatal(err)
	}
	defer co.Close()
	for _, p := range append(referencePackets(), "sentinel:1|c") {
		ce.Write([]byte(p))
		co.Write([]byte(p))
		time.Sleep(time.Millisecond) // pace: etsy's socket buffer is the default
	}
	done := func(dir string) bool {
		s := series(t, dir, start-5, time.Now().Unix()+5)
		return sum(s["stats.counters.sentinel.count"]) == 1
	}
	deadline := time.Now().Add(20 * time.Second)
	for !done(dirA) || !done(dirB) {
		if time.Now().After(deadline) {
			t.Fatalf("sentinel not flushed by both: etsy %v, ours %v", done(dirA), done(dirB))
		}
		time.Sleep(200 * time.Millisecond)
	}
	wA.Sync(context.Background())
	wB.Sync(context.Background())
	end := time.Now().Unix() + 5
	a, b := series(t, dirA, start-5, end), series(t, dirB, start-5, end)

	// Names: etsy's, less the four about its TCP posts to carbon.
	var na, nb []string
	for n := range a {
		if !strings.HasPrefix(n, "stats.statsd.graphiteStats.") || n == "stats.statsd.graphiteStats.calculationtime" {
			na = append(na, n)
		}
	}
	for n := range b {
		nb = append(nb, n)
	}
	slices.Sort(na)
	slices.Sort(nb)
	if !slices.Equal(na, nb) {
		t.Errorf("series differ:\netsy %v\nours %v", na, nb)
	}
	if len(nb) < 60 {
		t.Errorf("only %d series", len(nb))
	}

	checked := 0
	for _, n := range nb {
		switch {
		case strings.HasPrefix(n, "stats.counters.statsd."), strings.HasPrefix(n, "stats.statsd."),
			n == "stats.gauges.statsd.timestamp_lag":
			// The daemons' own bookkeeping: times and packet counts differ.
		case strings.HasPrefix(n, "stats.counters."):
			if sum(a[n]) != sum(b[n]) || sum(b[n]) == 0 {
				t.Errorf("%s: sum etsy %v, ours %v", n, sum(a[n]), sum(b[n]))
			}
			checked++
		case strings.HasPrefix(n, "stats.gauges."):
			if last(a[n]) != last(b[n]) {
				t.Errorf("%s: last etsy %v, ours %v", n, last(a[n]), last(b[n]))
			}
			checked++
		case strings.HasPrefix(n, "stats.sets."):
			va, ka := nonZero(a[n])
			vb, kb := nonZero(b[n])
			if va != vb || ka != 1 || kb != 1 || vb != 3 {
				t.Errorf("%s: etsy %v (%d rows), ours %v (%d rows), want 3", n, va, ka, vb, kb)
			}
			checked++
		case strings.HasPrefix(n, "stats.timers."):
			// The row where the timer's count is not zero, in each tree.
			key := n[:strings.LastIndexByte(n, '.')]
			ta, tb := dataRow(a[key+".count"]), dataRow(b[key+".count"])
			va, oka := a[n][ta]
			vb, okb := b[n][tb]
			if !oka || !okb || va != vb {
				t.Errorf("%s: etsy %v (%v), ours %v (%v)", n, va, oka, vb, okb)
			}
			checked++
		}
	}
	if checked < 60 {
		t.Errorf("only %d series compared", checked)
	}
	t.Logf("%d series, %d compared", len(nb), checked)
}

// dataRow is the time of the row with a non-zero value.
func dataRow(rows map[int64]float64) int64 {
	for ts, v := range rows {
		if v != 0 {
			return ts
		}
	}
	return -1
}

var _ = netip.Addr{}
