package main

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// statsdPackets are the stream both receivers get: perPacket metrics a
// datagram (a client pipeline), over keys distinct keys, a mix of
// counters (some sampled), timers and gauges.
func statsdPackets(keys, perPacket int) [][]byte {
	var out [][]byte
	var lines []string
	for i := 0; i < keys*4; i++ {
		k := i % keys
		switch i % 4 {
		case 0:
			lines = append(lines, fmt.Sprintf("bench.app%d.hits:1|c", k))
		case 1:
			lines = append(lines, fmt.Sprintf("bench.app%d.bytes:%d|c|@0.5", k, i%1500))
		case 2:
			lines = append(lines, fmt.Sprintf("bench.app%d.time:%d|ms", k, i%700))
		default:
			lines = append(lines, fmt.Sprintf("bench.app%d.depth:%d|g", k, i%50))
		}
		if len(lines) == perPacket {
			out = append(out, []byte(strings.Join(lines, "\n")))
			lines = lines[:0]
		}
	}
	return out
}

// sendUDP sends packets at rate metrics/s for d, paced every millisecond;
// it returns the metrics sent.
func sendUDP(addr string, pkts [][]byte, perPacket int, rate float64, d time.Duration) (uint64, error) {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	start := time.Now()
	var sent uint64
	i := 0
	for {
		el := time.Since(start)
		if el >= d {
			return sent, nil
		}
		due := uint64(rate * el.Seconds())
		for sent+uint64(perPacket) <= due {
			if _, err := c.Write(pkts[i%len(pkts)]); err != nil {
				return sent, err
			}
			i++
			sent += uint64(perPacket)
		}
		time.Sleep(time.Millisecond)
	}
}

// statsdStep is one rate tried on one receiver.
type statsdStep struct {
	Rate     float64 `json:"rate"`
	Achieved float64 `json:"achieved"`
	Sent     uint64  `json:"sent"`
	Drops    uint64  `json:"kernel_drops"`
	Counted  int64   `json:"counted"` // graphmetrics: lines taken + refused, -1 when not known
	CPU      float64 `json:"cpu_cores"`
	Lossless bool    `json:"lossless"`
}

// statsdStepOn sends one step to p and judges it: no kernel drops and,
// where the receiver counts, every line counted.
func statsdStepOn(p *proc, pkts [][]byte, perPacket int, rate float64, d time.Duration) (statsdStep, error) {
	port := portOf(p.addr)
	d0, _ := udpDrops(port)
	var l0 uint64
	if p.web != "" {
		h, err := p.health("statsd")
		if err != nil {
			return statsdStep{}, err
		}
		l0 = num(h, "lines")
	}
	c0, t0 := p.cpu(), time.Now()
	sent, err := sendUDP(p.addr, pkts, perPacket, rate, d)
	if err != nil {
		return statsdStep{}, err
	}
	el := time.Since(t0)
	s := statsdStep{Rate: rate, Sent: sent, Achieved: float64(sent) / el.Seconds(), Counted: -1}
	// Let the receiver drain its buffer, then look.
	deadline := time.Now().Add(5 * time.Second)
	for {
		time.Sleep(200 * time.Millisecond)
		d1, _ := udpDrops(port)
		s.Drops = d1 - d0
		if p.web != "" {
			h, err := p.health("statsd")
			if err != nil {
				return s, err
			}
			s.Counted = int64(num(h, "lines") - l0)
			if uint64(s.Counted)+s.Drops*uint64(perPacket) >= sent || time.Now().After(deadline) {
				break
			}
		} else if time.Now().After(deadline.Add(-3 * time.Second)) {
			break
		}
	}
	s.CPU = (p.cpu() - c0) / time.Since(t0).Seconds()
	s.Lossless = s.Drops == 0 && (s.Counted < 0 || uint64(s.Counted) == sent)
	return s, nil
}

// statsdResult is the statsd scenario's outcome.
type statsdResult struct {
	PerPacket int          `json:"metrics_per_packet"`
	Ours      []statsdStep `json:"graphmetrics"`
	Etsy      []statsdStep `json:"etsy"`
	OursBest  float64      `json:"graphmetrics_best"`
	EtsyBest  float64      `json:"etsy_best"`
	Ratio     float64      `json:"ratio"`
}

// statsdScenario climbs a ladder of rates on both receivers, the same
// stream, each rate on ours then on etsy; a receiver stops at its first
// rate that loses metrics twice.
func statsdScenario(ours, etsy *proc, ladder []float64, perPacket int, d time.Duration, logf func(string, ...any)) (statsdResult, error) {
	res := statsdResult{PerPacket: perPacket}
	pkts := statsdPackets(1000, perPacket)
	oursOn, etsyOn := true, true
	for _, rate := range ladder {
		for _, r := range []struct {
			p     *proc
			on    *bool
			steps *[]statsdStep
			best  *float64
		}{{ours, &oursOn, &res.Ours, &res.OursBest}, {etsy, &etsyOn, &res.Etsy, &res.EtsyBest}} {
			if !*r.on {
				continue
			}
			var s statsdStep
			var err error
			for try := 0; try < 2; try++ {
				if s, err = statsdStepOn(r.p, pkts, perPacket, rate, d); err != nil {
					return res, err
				}
				logf("statsd step", "receiver", r.p.name, "rate", rate, "achieved", int(s.Achieved), "drops", s.Drops, "counted", s.Counted, "sent", s.Sent, "lossless", s.Lossless)
				if s.Lossless {
					break
				}
			}
			*r.steps = append(*r.steps, s)
			if s.Lossless {
				*r.best = s.Achieved
			} else {
				*r.on = false
			}
		}
		if !oursOn && !etsyOn {
			break
		}
	}
	if res.EtsyBest > 0 {
		res.Ratio = res.OursBest / res.EtsyBest
	}
	return res, nil
}
