package main

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// Event kinds. Request events carry the request's slot and the instance's
// epoch at the time they were scheduled.
const (
	evArrive uint8 = iota // a new request (B)
	evInput               // I: body read, waiting for a thread
	evCall                // C: a thread took it
	evApp                 // A: application done
	evEnd                 // E: response handed to the network
	evCrash               // demo: the process dies; in-flight requests vanish
	evStart               // demo: the new process logs S with RID 0
	evSlow                // demo: a slow spell starts (a slow database, say)
)

type event struct {
	at    int64 // ns since the Unix epoch: the record's timestamp
	inst  int32
	req   int32
	epoch uint32
	kind  uint8
}

// eventHeap is a binary min-heap on at, typed to stay off interfaces on
// the hot path.
type eventHeap []event

func (h *eventHeap) push(e event) {
	*h = append(*h, e)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if s[p].at <= s[i].at {
			break
		}
		s[p], s[i] = s[i], s[p]
		i = p
	}
}

func (h *eventHeap) pop() event {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && s[r].at < s[l].at {
			m = r
		}
		if s[i].at <= s[m].at {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// emitter receives each generated message for instance inst; msg is valid
// only during the call.
type emitter interface {
	add(inst int, msg []byte) error
}

// sim is the fleet's event simulation. Records are stamped with the time of
// the event they describe; run emits each when the wall clock reaches it.
type sim struct {
	fleet  []*instance
	heap   eventHeap
	rng    *rand.Rand
	fmt    *formatter
	out    emitter
	demo   bool
	end    int64 // no arrivals at or after this (ns); 0 = never
	cur    int64 // time of the event being handled (ns)
	day    time.Duration
	events demoEvents
	// urls, when set (-patterns), replace paths: URL patterns picked with
	// Zipf popularity, each followed by a random numeric id.
	urls *urlPatterns

	lines, requests, errors, restarts, slowSpells uint64
	arrivals                                      int // arrival chains still scheduled
}

// demoEvents are the mean times between rare events per instance.
type demoEvents struct {
	restartEvery, slowEvery time.Duration
}

func newSim(fleet []*instance, f *formatter, out emitter, rng *rand.Rand, start int64) *sim {
	s := &sim{fleet: fleet, rng: rng, fmt: f, out: out}
	for i, in := range fleet {
		at := int64(in.first)
		if in.base > 0 {
			at = start + int64(rng.ExpFloat64()*1e9/in.base)
		}
		s.heap.push(event{at: at, inst: int32(i), kind: evArrive})
	}
	s.arrivals = len(fleet)
	return s
}

// scheduleDemo adds the rare events of the demo fleet.
func (s *sim) scheduleDemo(start int64) {
	for i := range s.fleet {
		if s.events.restartEvery > 0 {
			s.heap.push(event{at: start + s.expNs(s.events.restartEvery), inst: int32(i), kind: evCrash})
		}
		if s.events.slowEvery > 0 {
			s.heap.push(event{at: start + s.expNs(s.events.slowEvery), inst: int32(i), kind: evSlow})
		}
	}
}

func (s *sim) expNs(mean time.Duration) int64 {
	return int64(s.rng.ExpFloat64() * float64(mean))
}

// uniform returns a duration in [lo, hi) in ns.
func (s *sim) uniform(lo, hi time.Duration) int64 {
	return int64(lo) + s.rng.Int64N(int64(hi-lo))
}

// step handles one event: emits its record, if any, and schedules what
// follows from it.
func (s *sim) step(e event) error {
	s.cur = e.at
	in := s.fleet[e.inst]
	if e.kind >= evInput && e.kind <= evEnd && e.epoch != in.epoch {
		return nil // the process restarted since
	}
	switch e.kind {
	case evArrive:
		return s.arrive(e, in)
	case evInput:
		r := &in.reqs[e.req]
		var data []byte
		if r.post {
			data = strconv.AppendUint(s.fmt.data[:0], uint64(r.length/3), 10)
		} else {
			data = append(s.fmt.data[:0], '0')
		}
		if err := s.emit(e, in, 'I', r.rid, data); err != nil {
			return err
		}
		if in.prof.threads == 0 || in.busy < in.prof.threads {
			in.busy++
			s.push(e, evCall, e.at+s.uniform(20*time.Microsecond, 300*time.Microsecond))
		} else {
			in.queue = append(in.queue, e.req)
		}
	case evCall:
		r := &in.reqs[e.req]
		r.app = in.appTime(s.rng, e.at)
		if err := s.emit(e, in, 'C', r.rid, nil); err != nil {
			return err
		}
		s.push(e, evApp, e.at+r.app)
	case evApp:
		r := &in.reqs[e.req]
		data := s.fmt.data[:0]
		if r.status == 0 {
			data = append(data, "Error: ConflictError"...)
		} else {
			data = strconv.AppendUint(data, uint64(r.status), 10)
			data = append(data, ' ')
			data = strconv.AppendUint(data, uint64(r.length), 10)
		}
		if err := s.emit(e, in, 'A', r.rid, data); err != nil {
			return err
		}
		in.busy--
		if len(in.queue) > 0 {
			next := in.queue[0]
			in.queue = in.queue[1:]
			in.busy++
			s.push(event{inst: e.inst, req: next, epoch: e.epoch}, evCall, e.at+s.uniform(20*time.Microsecond, 100*time.Microsecond))
		}
		s.push(e, evEnd, e.at+s.uniform(100*time.Microsecond, 3*time.Millisecond))
	case evEnd:
		if err := s.emit(e, in, 'E', in.reqs[e.req].rid, nil); err != nil {
			return err
		}
		in.release(e.req)
	case evCrash:
		in.restart(s.rng)
		in.down = true
		s.restarts++
		// The supervisor brings it back after a few seconds.
		s.heap.push(event{at: e.at + s.uniform(2*time.Second, 8*time.Second), inst: e.inst, kind: evStart})
	case evStart:
		in.down = false
		if err := s.emit(e, in, 'S', 0, nil); err != nil {
			return err
		}
		s.heap.push(event{at: e.at + max(s.expNs(s.events.restartEvery), int64(time.Minute)), inst: e.inst, kind: evCrash})
	case evSlow:
		in.slowTill = e.at + s.uniform(20*time.Second, 60*time.Second)
		s.slowSpells++
		s.heap.push(event{at: in.slowTill + s.expNs(s.events.slowEvery), inst: e.inst, kind: evSlow})
	}
	return nil
}

func (s *sim) push(e event, kind uint8, at int64) {
	e.kind, e.at = kind, at
	s.heap.push(e)
}

// arrive starts a request (B) and schedules the next arrival.
func (s *sim) arrive(e event, in *instance) error {
	var next int64
	if in.base > 0 {
		rate := in.base
		if s.day > 0 {
			phase := math.Mod(float64(e.at), float64(s.day)) / float64(s.day)
			rate *= dayShape(phase)
		}
		next = e.at + int64(s.rng.ExpFloat64()*1e9/rate)
	} else {
		in.k++
		next = int64(in.first + float64(in.k)*in.interval)
	}
	if s.end == 0 || next < s.end {
		s.heap.push(event{at: next, inst: e.inst, kind: evArrive})
	} else {
		s.arrivals--
	}
	if in.down {
		return nil // nobody listening: the client gets a connection error
	}

	idx := in.newRequest(s.rng)
	r := &in.reqs[idx]
	if s.urls == nil {
		r.path = uint16(s.rng.IntN(len(paths)))
	} else {
		r.path = uint16(s.urls.zipf.Uint64())
	}
	r.post = s.rng.Float64() < in.prof.post
	r.status, r.length = 200, uint32(500+s.rng.IntN(120000))
	errRate := in.prof.errRate
	if e.at < in.slowTill {
		errRate = max(errRate, 0.05) // timeouts pile up
	}
	if s.rng.Float64() < errRate {
		s.errors++
		r.status = 500
		if s.demo && s.rng.IntN(4) == 0 {
			r.status = 0
		}
	}
	s.requests++
	e.req, e.epoch = idx, in.epoch
	data := s.fmt.data[:0]
	if r.post {
		data = append(data, "POST "...)
	} else {
		data = append(data, "GET "...)
	}
	if s.urls == nil {
		data = append(data, paths[r.path]...)
	} else {
		data = append(data, s.urls.prefix[r.path]...)
		data = strconv.AppendUint(data, s.rng.Uint64N(1e6), 10)
	}
	if err := s.emit(e, in, 'B', r.rid, data); err != nil {
		return err
	}
	read := s.uniform(50*time.Microsecond, 800*time.Microsecond)
	if r.post {
		read += s.uniform(time.Millisecond, 20*time.Millisecond)
	}
	s.push(e, evInput, e.at+read)
	return nil
}

func (s *sim) emit(e event, in *instance, code byte, rid uint64, data []byte) error {
	s.lines++
	return s.out.add(int(e.inst), s.fmt.message(in, code, rid, e.at, data))
}

// urlPatterns are -patterns URL patterns "/app/section-K/items/{n}" with
// Zipf popularity (s = 1.1: the first about 17% of the requests with 200).
type urlPatterns struct {
	prefix []string
	zipf   *rand.Zipf
}

func newURLPatterns(n int, rng *rand.Rand) *urlPatterns {
	u := &urlPatterns{zipf: rand.NewZipf(rng, 1.1, 1, uint64(n-1))}
	for i := range n {
		u.prefix = append(u.prefix, "/app/section-"+strconv.Itoa(i)+"/items/")
	}
	return u
}

// paths are what the simulated clients ask for.
var paths = []string{
	"/", "/login", "/logout", "/@@search?q=report", "/@@search?q=invoice&page=2",
	"/++resource++app.js", "/++resource++style.css", "/api/items/1841", "/api/items?limit=50",
	"/api/orders/77120/lines", "/folder/page-12", "/folder/page-12/@@edit",
	"/reports/2026/q3.pdf", "/@@ping", "/users/jdoe/preferences", "/cart/checkout",
}
