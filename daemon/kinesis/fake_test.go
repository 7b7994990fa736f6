package kinesis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"graphmetrics/store"
)

// fakeAPI is an in-memory Kinesis stream with fault injection: what
// kinesalite cannot do (throttling, expired iterators, network errors,
// paged listings). Iterators are "shard|position".
type fakeAPI struct {
	mu       sync.Mutex
	stream   string
	shards   []*fakeShard
	seq      int
	pageSize int // ListShards page size; 0 = all

	// hooks return an error to fail a call (before it is served).
	listHook func(n int) error
	iterHook func(shard string, n int) error
	getHook  func(shard string, n int) error

	listCalls int
	iterCalls map[string]int
	getCalls  map[string][]time.Time
	iterTypes []types.ShardIteratorType
}

type fakeShard struct {
	id, parent, adjacent string
	recs                 []types.Record
	closed               bool
}

func newFake(stream string, shards ...string) *fakeAPI {
	f := &fakeAPI{stream: stream, iterCalls: map[string]int{}, getCalls: map[string][]time.Time{}}
	for _, id := range shards {
		f.shards = append(f.shards, &fakeShard{id: id})
	}
	return f
}

func (f *fakeAPI) shard(id string) *fakeShard {
	for _, s := range f.shards {
		if s.id == id {
			return s
		}
	}
	return nil
}

// put appends records to a shard and returns their sequence numbers.
func (f *fakeAPI) put(shard string, data ...string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.shard(shard)
	if s == nil || s.closed {
		panic("put to missing or closed shard " + shard)
	}
	var seqs []string
	for _, d := range data {
		f.seq++
		seq := fmt.Sprintf("%020d", f.seq)
		s.recs = append(s.recs, types.Record{Data: []byte(d), SequenceNumber: aws.String(seq),
			ApproximateArrivalTimestamp: aws.Time(time.Now()), PartitionKey: aws.String("k")})
		seqs = append(seqs, seq)
	}
	return seqs
}

// split closes parent and adds children (one child with two parents is a
// merge: use addChild twice... kept simple: children of one or two parents).
func (f *fakeAPI) addChild(id, parent, adjacent string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range []string{parent, adjacent} {
		if p != "" {
			f.shard(p).closed = true
		}
	}
	f.shards = append(f.shards, &fakeShard{id: id, parent: parent, adjacent: adjacent})
}

// trim drops a shard from the stream, as retention does.
func (f *fakeAPI) trim(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shards = slices.DeleteFunc(f.shards, func(s *fakeShard) bool { return s.id == id })
}

func (f *fakeAPI) ListShards(ctx context.Context, in *awskinesis.ListShardsInput, _ ...func(*awskinesis.Options)) (*awskinesis.ListShardsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listCalls++
	if f.listHook != nil {
		if err := f.listHook(f.listCalls); err != nil {
			return nil, err
		}
	}
	start := 0
	switch {
	case in.NextToken != nil && in.StreamName != nil:
		return nil, &types.InvalidArgumentException{Message: aws.String("NextToken and StreamName cannot be provided together")}
	case in.NextToken != nil:
		n, err := strconv.Atoi(strings.TrimPrefix(*in.NextToken, "tok-"))
		if err != nil {
			return nil, &types.InvalidArgumentException{Message: aws.String("bad token")}
		}
		start = n
	case aws.ToString(in.StreamName) != f.stream:
		return nil, &types.ResourceNotFoundException{Message: aws.String("no stream")}
	}
	end := len(f.shards)
	if f.pageSize > 0 {
		end = min(end, start+f.pageSize)
	}
	out := &awskinesis.ListShardsOutput{}
	for _, s := range f.shards[start:end] {
		sh := types.Shard{ShardId: aws.String(s.id), SequenceNumberRange: &types.SequenceNumberRange{StartingSequenceNumber: aws.String("0")}}
		if s.parent != "" {
			sh.ParentShardId = aws.String(s.parent)
		}
		if s.adjacent != "" {
			sh.AdjacentParentShardId = aws.String(s.adjacent)
		}
		if s.closed {
			sh.SequenceNumberRange.EndingSequenceNumber = aws.String("9")
		}
		out.Shards = append(out.Shards, sh)
	}
	if end < len(f.shards) {
		out.NextToken = aws.String("tok-" + strconv.Itoa(end))
	}
	return out, nil
}

func (f *fakeAPI) GetShardIterator(ctx context.Context, in *awskinesis.GetShardIteratorInput, _ ...func(*awskinesis.Options)) (*awskinesis.GetShardIteratorOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.ShardId)
	f.iterCalls[id]++
	f.iterTypes = append(f.iterTypes, in.ShardIteratorType)
	if f.iterHook != nil {
		if err := f.iterHook(id, f.iterCalls[id]); err != nil {
			return nil, err
		}
	}
	s := f.shard(id)
	if s == nil || aws.ToString(in.StreamName) != f.stream {
		return nil, &types.ResourceNotFoundException{Message: aws.String("no shard " + id)}
	}
	pos := 0
	switch in.ShardIteratorType {
	case types.ShardIteratorTypeTrimHorizon:
	case types.ShardIteratorTypeLatest:
		pos = len(s.recs)
	case types.ShardIteratorTypeAfterSequenceNumber:
		pos = -1
		for i, r := range s.recs {
			if *r.SequenceNumber == aws.ToString(in.StartingSequenceNumber) {
				pos = i + 1
			}
		}
		if pos < 0 {
			return nil, &types.InvalidArgumentException{Message: aws.String("no such sequence")}
		}
	case types.ShardIteratorTypeAtTimestamp:
		pos = len(s.recs)
		for i, r := range s.recs {
			if !r.ApproximateArrivalTimestamp.Before(*in.Timestamp) {
				pos = i
				break
			}
		}
	default:
		return nil, &types.InvalidArgumentException{Message: aws.String("type")}
	}
	return &awskinesis.GetShardIteratorOutput{ShardIterator: aws.String(fmt.Sprintf("%s|%d", id, pos))}, nil
}

func (f *fakeAPI) GetRecords(ctx context.Context, in *awskinesis.GetRecordsInput, _ ...func(*awskinesis.Options)) (*awskinesis.GetRecordsOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	parts := strings.Split(aws.ToString(in.ShardIterator), "|")
	if len(parts) != 2 {
		return nil, &types.InvalidArgumentException{Message: aws.String("iterator")}
	}
	id := parts[0]
	pos, _ := strconv.Atoi(parts[1])
	f.getCalls[id] = append(f.getCalls[id], time.Now())
	if f.getHook != nil {
		if err := f.getHook(id, len(f.getCalls[id])); err != nil {
			return nil, err
		}
	}
	s := f.shard(id)
	end := min(len(s.recs), pos+int(aws.ToInt32(in.Limit)))
	out := &awskinesis.GetRecordsOutput{Records: slices.Clone(s.recs[pos:end]), MillisBehindLatest: aws.Int64(int64(len(s.recs)-end) * 1000)}
	if !(s.closed && end == len(s.recs)) {
		out.NextShardIterator = aws.String(fmt.Sprintf("%s|%d", id, end))
	}
	return out, nil
}

func (f *fakeAPI) getCount(shard string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.getCalls[shard])
}

// recSink records every point per series, in call order, and can be made
// to fail or block.
type recSink struct {
	mu     sync.Mutex
	series map[string][]store.Point
	order  []string // series key of each call
	calls  int
	fail   func(call int, path []string) error
	block  chan struct{} // if set, WriteMetric waits on it
}

func newRecSink() *recSink { return &recSink{series: map[string][]store.Point{}} }

func (r *recSink) WriteMetric(path []string, step time.Duration, pts []store.Point) error {
	if r.block != nil {
		<-r.block
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.fail != nil {
		if err := r.fail(r.calls, path); err != nil {
			return err
		}
	}
	key := strings.Join(path, "/")
	r.series[key] = append(r.series[key], pts...)
	r.order = append(r.order, key)
	return nil
}

func (r *recSink) points(key string) []store.Point {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.series[key])
}

func (r *recSink) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, p := range r.series {
		n += len(p)
	}
	return n
}

var errNetwork = errors.New("dial tcp 127.0.0.1:1: connect: connection refused")
