package store

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"

	"graphmetrics/parser"
)

// A Batch carries records to the aggregator. Records are split by shard as
// they are added, and their bytes are copied into one arena per shard, so a
// batch costs one channel send per shard and no allocation per record.
// A Batch is used by one goroutine and must not be touched after Submit.
type Batch struct {
	a     *Aggregator
	parts []*part // by shard; nil until a record goes there
	n     int
	key   []byte // scratch for the encoded key
	// The previous record's instance: runs of one instance skip hashing
	// and copying the key again.
	last      int // shard, -1 when none
	lastOff   uint32
	lastLen   uint32
	lastValid bool
}

// part is the share of a batch that goes to one shard.
type part struct {
	arena []byte
	recs  []entry
}

// entry is one record; key and rid point into the part's arena.
type entry struct {
	keyOff, keyLen uint32
	ridOff, ridLen uint32
	reqOff, reqLen uint32 // a B record's data ("METHOD URL"), truncated to MaxRequestData
	time           int64  // µs; of a repeated wall time, its first occurrence
	repeat         int32  // s from the first occurrence to the second; 0: one occurrence
	code           byte
	isErr          bool
}

const maxField = 0xffff // longer names and RIDs are truncated (they are garbage)

// MaxRequestData bounds the "METHOD URL" kept per in-flight request (the
// live view); longer data is truncated.
const MaxRequestData = 2048

// NewBatch returns an empty batch from the aggregator's pool.
func (a *Aggregator) NewBatch() *Batch {
	b, _ := a.batches.Get().(*Batch)
	if b == nil {
		b = &Batch{parts: make([]*part, len(a.shards))}
	}
	b.a = a
	b.last = -1
	b.lastValid = false
	return b
}

// Len is the number of records added.
func (b *Batch) Len() int { return b.n }

// Add copies one record of the instance (host, customer, instance) into the
// batch; the caller may reuse all the byte slices afterwards.
func (b *Batch) Add(host, customer, instance []byte, rec parser.Record) {
	host, customer, instance = trunc(host), trunc(customer), trunc(instance)
	sh, p, off, ln := b.placeKey(host, customer, instance)
	rid := trunc(rec.RID)
	ridOff := uint32(len(p.arena))
	p.arena = append(p.arena, rid...)
	reqOff, reqLen := uint32(len(p.arena)), uint32(0)
	if rec.Code == 'B' {
		d := rec.Data[:min(len(rec.Data), MaxRequestData)]
		p.arena = append(p.arena, d...)
		reqLen = uint32(len(d))
	}
	p.recs = append(p.recs, entry{
		keyOff: off, keyLen: ln,
		ridOff: ridOff, ridLen: uint32(len(rid)),
		reqOff: reqOff, reqLen: reqLen,
		time:   rec.Time,
		repeat: int32(rec.Repeat / 1e6),
		code:   rec.Code,
		isErr:  rec.Code == 'A' && isError(rec.Data),
	})
	b.n++
	b.last, b.lastOff, b.lastLen, b.lastValid = sh, off, ln, true
}

// isError: HTTP 5xx, or an exception reported instead of a status (SPEC §3).
func isError(data []byte) bool {
	return len(data) > 0 && data[0] == '5' || bytes.HasPrefix(data, []byte("Error:"))
}

func trunc(b []byte) []byte {
	if len(b) > maxField {
		return b[:maxField]
	}
	return b
}

// placeKey finds the record's shard and the key's place in that shard's
// arena, copying the key there unless the previous record had the same one.
func (b *Batch) placeKey(host, customer, instance []byte) (int, *part, uint32, uint32) {
	if b.lastValid {
		p := b.parts[b.last]
		if sameKey(p.arena[b.lastOff:b.lastOff+b.lastLen], host, customer, instance) {
			return b.last, p, b.lastOff, b.lastLen
		}
	}
	b.key = appendKey(b.key[:0], host, customer, instance)
	sh := int(maphash.Bytes(b.a.seed, b.key) % uint64(len(b.parts)))
	p := b.parts[sh]
	if p == nil {
		p = b.a.getPart()
		b.parts[sh] = p
	}
	off := uint32(len(p.arena))
	p.arena = append(p.arena, b.key...)
	return sh, p, off, uint32(len(b.key))
}

// appendKey encodes a key unambiguously: two 16-bit lengths, then the bytes.
// The encoded key is also the shard's map key.
func appendKey(dst, host, customer, instance []byte) []byte {
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(host)))
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(customer)))
	dst = append(dst, host...)
	dst = append(dst, customer...)
	return append(dst, instance...)
}

func sameKey(enc, host, customer, instance []byte) bool {
	if len(enc) != 4+len(host)+len(customer)+len(instance) ||
		int(binary.LittleEndian.Uint16(enc)) != len(host) ||
		int(binary.LittleEndian.Uint16(enc[2:])) != len(customer) {
		return false
	}
	enc = enc[4:]
	return bytes.Equal(enc[:len(host)], host) &&
		bytes.Equal(enc[len(host):len(host)+len(customer)], customer) &&
		bytes.Equal(enc[len(host)+len(customer):], instance)
}

func decodeKey(enc []byte) Key {
	h := int(binary.LittleEndian.Uint16(enc))
	c := int(binary.LittleEndian.Uint16(enc[2:]))
	enc = enc[4:]
	return Key{Host: string(enc[:h]), Customer: string(enc[h : h+c]), Instance: string(enc[h+c:])}
}

func encodeKey(k Key) []byte {
	return appendKey(nil, trunc([]byte(k.Host)), trunc([]byte(k.Customer)), trunc([]byte(k.Instance)))
}

func (a *Aggregator) getPart() *part {
	if p, _ := a.parts.Get().(*part); p != nil {
		return p
	}
	return &part{arena: make([]byte, 0, 4096), recs: make([]entry, 0, 128)}
}

func (a *Aggregator) putPart(p *part) {
	if cap(p.arena) > 1<<20 || cap(p.recs) > 1<<16 {
		return // an outsized batch: let it go rather than pin the memory
	}
	p.arena, p.recs = p.arena[:0], p.recs[:0]
	a.parts.Put(p)
}

func (a *Aggregator) putBatch(b *Batch) {
	clear(b.parts)
	b.n = 0
	b.a = nil
	a.batches.Put(b)
}
