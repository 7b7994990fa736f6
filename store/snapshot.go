package store

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"graphmetrics/store/urlpattern"
	"slices"

	"graphmetrics/store/hist"
)

// The snapshot is what a replayable input stores with its read position
// (SPEC §10): everything an aggregator holds that is not yet in RRD files.
// gob keeps RIDs (untrusted bytes) intact and needs no schema upkeep; the
// version guards against reading a snapshot of another layout.

const snapshotVersion = 1

type snapshot struct {
	Version   int
	Instances []snapInstance
}

type snapInstance struct {
	Key                   Key
	Final                 int64
	Newest                int64
	BaseWaiting, BaseBusy int32
	NWaiting, NBusy       int32
	Pend                  []snapBucket
	RIDs                  []snapRID
}

type snapBucket struct {
	Requests, Errors, AppN, Starts uint32
	AppSum                         float64
	DWaiting, DBusy                int32
	App                            []byte // encoded hist.Default histogram
	URLs                           []snapHit
}

// snapHit is a urlHit (URL statistics) of a pending second.
type snapHit struct {
	Pat       string
	US        int64
	Err, Hang bool
}

type snapRID struct {
	ID                  string
	Start, C, Run, Done int64
	Phase               uint8
	Req                 []byte
}

func (s *shard) snapshot() []snapInstance {
	out := make([]snapInstance, 0, len(s.inst))
	for _, in := range s.inst {
		si := snapInstance{
			Key: in.key, Final: in.final, Newest: in.newest,
			BaseWaiting: in.baseWaiting, BaseBusy: in.baseBusy,
			NWaiting: in.nWaiting, NBusy: in.nBusy,
			Pend: make([]snapBucket, len(in.pend)),
			RIDs: make([]snapRID, 0, len(in.rids)),
		}
		for i, p := range in.pend {
			si.Pend[i] = snapBucket{p.requests, p.errors, p.appN, p.starts, p.appSum, p.dWaiting, p.dBusy, nil, nil}
			for _, h := range p.urls {
				si.Pend[i].URLs = append(si.Pend[i].URLs, snapHit{h.pat, h.us, h.err, h.hang})
			}
			if len(p.app) > 0 {
				si.Pend[i].App = hist.AppendEncodeIndexes(nil, slices.Clone(p.app))
			}
		}
		for id, i := range in.rids {
			r := in.slots[i]
			si.RIDs = append(si.RIDs, snapRID{id, r.Start, r.C, r.Run, r.Done, r.Phase, r.Req})
		}
		out = append(out, si)
	}
	return out
}

// instance rebuilds the state; wall time does not survive a restart, so the
// instance counts as having just been heard from.
func (si *snapInstance) instance(wall int64) (*instance, error) {
	in := &instance{
		key: si.Key, final: si.Final, newest: si.Newest, wall: wall,
		baseWaiting: si.BaseWaiting, baseBusy: si.BaseBusy,
		nWaiting: si.NWaiting, nBusy: si.NBusy,
		rids: make(map[string]int32, len(si.RIDs)),
		pend: make([]pbucket, len(si.Pend)),
	}
	for i, p := range si.Pend {
		in.pend[i] = pbucket{p.Requests, p.Errors, p.AppN, p.Starts, p.AppSum, p.DWaiting, p.DBusy, nil, nil}
		if len(p.URLs) > 1<<24 {
			return nil, fmt.Errorf("snapshot of %v: %d URL hits in a second", si.Key, len(p.URLs))
		}
		for _, h := range p.URLs {
			pat := urlpattern.Clean(h.Pat)
			in.pend[i].urls = append(in.pend[i].urls, urlHit{pat, h.US, h.Err, h.Hang})
		}
		if len(p.App) > 0 {
			h := hist.New(hist.Default)
			if _, err := h.Decode(p.App); err != nil {
				return nil, fmt.Errorf("snapshot of %v: app-time histogram: %w", si.Key, err)
			}
			if h.Total() > 1<<24 {
				return nil, fmt.Errorf("snapshot of %v: app-time histogram of %d values in a second", si.Key, h.Total())
			}
			for k := 0; k < h.Scheme().Len(); k++ {
				for range h.Count(k) {
					in.pend[i].app = append(in.pend[i].app, uint16(k))
				}
			}
		}
	}
	for _, r := range si.RIDs {
		n := in.putRID([]byte(r.ID), ridState{Start: r.Start, C: r.C, Run: r.Run, Done: r.Done, Phase: r.Phase})
		n.Req = append(n.Req, r.Req[:min(len(r.Req), MaxRequestData)]...)
		in.lastDone = max(in.lastDone, r.Done)
	}
	return in, nil
}

func (s *snapshot) encode() ([]byte, error) {
	s.Version = snapshotVersion
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(s); err != nil {
		return nil, fmt.Errorf("encode aggregator snapshot: %w", err)
	}
	return buf.Bytes(), nil
}

func decodeSnapshot(data []byte) (*snapshot, error) {
	var s snapshot
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&s); err != nil {
		return nil, fmt.Errorf("decode aggregator snapshot: %w", err)
	}
	if s.Version != snapshotVersion {
		return nil, fmt.Errorf("aggregator snapshot version %d, want %d", s.Version, snapshotVersion)
	}
	return &s, nil
}
