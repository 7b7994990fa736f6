package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// profile is how one simulated server process behaves.
type profile struct {
	threads   int           // application threads; 0 = unlimited (no backlog ever)
	appMedian time.Duration // median application time (C to A), log-normal
	appSigma  float64       // log-normal spread
	appMax    time.Duration // application times are capped here
	errRate   float64       // share of requests answered 5xx or "Error:"
	post      float64       // share of POST requests (with a body)
}

// instance is one simulated server process: its identity, its request
// state and what it is doing now.
type instance struct {
	host, customer, name string
	prof                 profile

	// Bench arrivals are evenly spaced: the k-th at first + k*interval.
	first, interval float64 // ns
	k               int64
	// Demo arrivals are a Poisson process at base req/s times the day
	// shape.
	base float64

	epoch    uint32 // bumped by a restart; events of older epochs are void
	down     bool   // between a crash and its S record: arrivals are lost
	slowTill int64  // end of a slow spell (ns); app times are much longer
	busy     int
	queue    []int32 // requests waiting for a thread (I seen, no C yet)
	reqs     []request
	free     []int32
	idle     []uint64 // RIDs of idle keep-alive connections
	ridBase  uint64
	ridNext  uint64
}

// request is one in-flight request.
type request struct {
	rid    uint64
	path   uint16
	post   bool
	status uint16 // 0 = "Error: ..." instead of a status
	length uint32
	app    int64 // ns
}

// newRequest takes a request slot and a connection RID for it: a
// keep-alive connection that is idle most of the time (the same RID is
// reused, as zc.zservertracelog names requests by connection), else a new
// one.
func (in *instance) newRequest(rng *rand.Rand) int32 {
	var rid uint64
	if n := len(in.idle); n > 0 && rng.IntN(10) != 0 {
		rid = in.idle[n-1]
		in.idle = in.idle[:n-1]
	} else {
		// Python's id() of a channel object: 16-byte aligned addresses.
		in.ridNext += 16 * uint64(1+rng.IntN(4096))
		rid = in.ridBase + in.ridNext
	}
	var idx int32
	if n := len(in.free); n > 0 {
		idx = in.free[n-1]
		in.free = in.free[:n-1]
	} else {
		in.reqs = append(in.reqs, request{})
		idx = int32(len(in.reqs) - 1)
	}
	in.reqs[idx] = request{rid: rid}
	return idx
}

// release returns a finished request's slot and its connection.
func (in *instance) release(idx int32) {
	if len(in.idle) < 64 {
		in.idle = append(in.idle, in.reqs[idx].rid)
	}
	in.free = append(in.free, idx)
}

// restart forgets everything in flight, as a new process would.
func (in *instance) restart(rng *rand.Rand) {
	in.epoch++
	in.busy = 0
	in.queue = in.queue[:0]
	in.reqs = in.reqs[:0]
	in.free = in.free[:0]
	in.idle = in.idle[:0]
	in.ridBase = newRIDBase(rng)
	in.ridNext = 0
}

func newRIDBase(rng *rand.Rand) uint64 {
	return 139_900_000_000_000 + 16*uint64(rng.IntN(1<<30))
}

// appTime draws an application time: log-normal around the median, much
// longer during a slow spell.
func (in *instance) appTime(rng *rand.Rand, now int64) int64 {
	d := float64(in.prof.appMedian) * math.Exp(in.prof.appSigma*rng.NormFloat64())
	if now < in.slowTill {
		d *= 15
	}
	return int64(min(d, float64(in.prof.appMax)))
}

// fleetOptions shape the simulated fleet.
type fleetOptions struct {
	instances, customers, hosts int
	hostInHeader                bool // names restart per host (the header tells hosts apart)
	demo                        bool
	rate                        float64 // bench: lines/s of the whole fleet
	start                       int64   // ns
}

var customerNames = []string{"acme", "globex", "initech", "umbrella", "hooli", "vandelay", "wonka", "stark"}

// newFleet lays instances out over hosts in contiguous blocks; host h
// serves customer h mod customers. Four in five instances of a host are
// HTTP servers named by port (app-8080, ...), the rest are workers
// (worker1, ...), so the UI groups them into "app-instances" and
// "worker-workers" pools. Without host names in the header every instance
// shares the sender's address as host, so names are then numbered per
// customer across hosts to stay unique.
func newFleet(o fleetOptions, rng *rand.Rand) []*instance {
	fleet := make([]*instance, 0, o.instances)
	type seq struct{ app, worker int }
	perCustomer := map[string]*seq{}
	for i := range o.instances {
		h := i * o.hosts / o.instances
		first := h * o.instances / o.hosts
		last := (h+1)*o.instances/o.hosts - 1
		j := i - first
		n := last - first + 1
		host := fmt.Sprintf("zope%d", h+1)
		cust := customerNames[h%o.customers%len(customerNames)]
		if o.customers > len(customerNames) {
			cust = fmt.Sprintf("%s%d", customerNames[h%len(customerNames)], h%o.customers)
		}
		key := cust
		if o.hostInHeader {
			key = host + "/" + cust
		}
		s := perCustomer[key]
		if s == nil {
			s = &seq{}
			perCustomer[key] = s
		}
		worker := n >= 5 && j >= n-n/5
		var name string
		prof := profile{appMedian: 40 * time.Millisecond, appSigma: 0.6, appMax: time.Second, errRate: 0.01, post: 0.1}
		if worker {
			s.worker++
			name = fmt.Sprintf("worker%d", s.worker)
		} else {
			name = fmt.Sprintf("app-%d", 8080+s.app)
			s.app++
		}
		in := &instance{host: host, customer: cust, name: name, ridBase: newRIDBase(rng)}
		if o.demo {
			prof = demoProfile(worker)
			// Customers differ in size; instances within one a little.
			in.base = demoRate(worker) * [3]float64{1, 0.6, 0.35}[h%o.customers%3] * (0.8 + 0.4*rng.Float64())
		} else {
			// 5 lines per request; each instance its share of the rate,
			// phases spread so the fleet's lines are evenly paced.
			in.interval = 5e9 * float64(o.instances) / o.rate
			in.first = float64(o.start) + in.interval*float64(i)/float64(o.instances)
		}
		in.prof = prof
		fleet = append(fleet, in)
	}
	return fleet
}

func demoProfile(worker bool) profile {
	if worker {
		return profile{threads: 2, appMedian: 300 * time.Millisecond, appSigma: 0.9, appMax: 60 * time.Second, errRate: 0.01, post: 0.5}
	}
	return profile{threads: 4, appMedian: 60 * time.Millisecond, appSigma: 0.8, appMax: 30 * time.Second, errRate: 0.005, post: 0.1}
}

// demoRate is an instance's request rate at the daily peak, req/s.
func demoRate(worker bool) float64 {
	if worker {
		return 1.2
	}
	return 8
}

// dayShape is the traffic of a working day, 0.15 at night to 1 at the
// afternoon peak, for phase in [0, 1) of the day from midnight.
func dayShape(phase float64) float64 {
	// A broad daytime hump (peak at 14:00) with a small evening bump.
	day := math.Exp(-math.Pow((phase-0.58)/0.16, 2))
	evening := 0.25 * math.Exp(-math.Pow((phase-0.86)/0.05, 2))
	return 0.15 + 0.85*min(1, day+evening)
}
