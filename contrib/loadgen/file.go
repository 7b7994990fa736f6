package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
)

// File mode (-mode file -out PATH) plays the bench fleet in event time, as
// fast as it can, into one file of the old pipeline's syslog-ng directory
// lines ("host customer instance RECORD", the records in time order) for
// `graphmetrics import -dir`: the same requests a bench run at -rate would
// send, without the real-time pacing that a shared machine cannot keep.

// fileSender writes each message as a directory line: the instance's host,
// then the message without its "<14>" priority.
type fileSender struct {
	w     *bufio.Writer
	fleet []*instance
	c     sendCounts
}

var priority = []byte("<14>")

func (f *fileSender) add(inst int, msg []byte) error {
	body := bytes.TrimPrefix(msg, priority)
	host := f.fleet[inst].host
	f.w.WriteString(host)
	f.w.WriteByte(' ')
	f.w.Write(body)
	err := f.w.WriteByte('\n') // bufio keeps the first error: this one reports it
	if err != nil {
		f.c.Errors++
		return err
	}
	f.c.Lines++
	f.c.Bytes += uint64(len(host) + 1 + len(body) + 1)
	return nil
}

// writeFile generates the fleet of o from o.start for o.duration of event
// time (in-flight requests then finish) into o.out. In the summary,
// Seconds is the event time in which requests start and TotalSeconds the
// event time to the last record, both from o.start.
func writeFile(ctx context.Context, o options) (Summary, error) {
	sum := Summary{Mode: o.mode, Transport: "file", Addr: o.out, Instances: o.instances, RequestedRate: o.rate}
	out, err := os.Create(o.out)
	if err != nil {
		return sum, err
	}
	rng := rand.New(rand.NewPCG(o.seed, 0x9e3779b97f4a7c15))
	start := o.start.UnixNano()
	// Directory lines name the host, so instance names restart per host.
	fleet := newFleet(fleetOptions{instances: o.instances, customers: o.customers, hosts: o.hosts,
		hostInHeader: true, rate: o.rate, start: start}, rng)
	fs := &fileSender{w: bufio.NewWriterSize(out, 1<<20), fleet: fleet}
	s := newSim(fleet, newFormatter(o.loc, headerNone, false), fs, rng, start)
	if o.patterns > 0 {
		s.urls = newURLPatterns(o.patterns, rng)
	}
	s.end = start + int64(o.duration)
	for n := 0; len(s.heap) > 0 && err == nil; n++ {
		if n%(1<<16) == 0 && ctx.Err() != nil {
			err = ctx.Err()
			break
		}
		err = s.step(s.heap.pop())
	}
	err = errors.Join(err, fs.w.Flush(), out.Close())
	sum.Sent, sum.Bytes, sum.SendErrors = fs.c.Lines, fs.c.Bytes, fs.c.Errors
	sum.Generated = s.lines
	sum.Requests, sum.Errors = s.requests, s.errors
	sum.Seconds = o.duration.Seconds()
	sum.Rate = float64(5*s.requests) / sum.Seconds
	sum.TotalSeconds = float64(s.cur-start) / 1e9
	if err != nil {
		return sum, fmt.Errorf("write %s: %w", o.out, err)
	}
	return sum, nil
}
