package kinesalitetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// CreateStream makes a stream of n shards and waits until it is ACTIVE.
func (s *Server) CreateStream(t testing.TB, name string, shards int32) {
	t.Helper()
	if _, err := s.Client.CreateStream(context.Background(), &kinesis.CreateStreamInput{
		StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatalf("create stream %s: %v", name, err)
	}
	s.WaitActive(t, name)
}

// WaitActive waits (up to 10 s) until the stream is ACTIVE again, after a
// create or a reshard.
func (s *Server) WaitActive(t testing.TB, name string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := s.Client.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err == nil && out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stream %s not active: %v", name, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// SplitShard splits an open shard at the middle of its hash key range
// and waits until the stream is ACTIVE: the shard is closed and two
// children take its keys.
func (s *Server) SplitShard(t testing.TB, stream, shard string) {
	t.Helper()
	ctx := context.Background()
	out, err := s.Client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatalf("list shards of %s: %v", stream, err)
	}
	var mid *big.Int
	for _, sh := range out.Shards {
		if aws.ToString(sh.ShardId) != shard {
			continue
		}
		lo, ok1 := new(big.Int).SetString(aws.ToString(sh.HashKeyRange.StartingHashKey), 10)
		hi, ok2 := new(big.Int).SetString(aws.ToString(sh.HashKeyRange.EndingHashKey), 10)
		if !ok1 || !ok2 {
			t.Fatalf("shard %s: hash key range %+v", shard, sh.HashKeyRange)
		}
		mid = lo.Add(lo, hi)
		mid.Add(mid, big.NewInt(1)).Rsh(mid, 1) // the upper half starts here
	}
	if mid == nil {
		t.Fatalf("stream %s has no shard %s", stream, shard)
	}
	if _, err := s.Client.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String(stream),
		ShardToSplit: aws.String(shard), NewStartingHashKey: aws.String(mid.String())}); err != nil {
		t.Fatalf("split %s/%s: %v", stream, shard, err)
	}
	s.WaitActive(t, stream)
}

// Entry is one record to put: a partition key (records of one key go to
// one shard, in order) and the data.
type Entry struct {
	Key, Data string
}

// Put writes entries in order, 500 per PutRecords call (the API's limit);
// any failed record fails the test.
func (s *Server) Put(t testing.TB, stream string, es []Entry) {
	t.Helper()
	if err := s.Send(context.Background(), stream, es); err != nil {
		t.Fatal(err)
	}
}

// Send is Put for a goroutine other than the test's: it returns the error.
func (s *Server) Send(ctx context.Context, stream string, es []Entry) error {
	for len(es) > 0 {
		n := min(len(es), 500)
		in := &kinesis.PutRecordsInput{StreamName: aws.String(stream)}
		for _, e := range es[:n] {
			in.Records = append(in.Records, types.PutRecordsRequestEntry{PartitionKey: aws.String(e.Key), Data: []byte(e.Data)})
		}
		out, err := s.Client.PutRecords(ctx, in)
		if err != nil {
			return fmt.Errorf("put records into %s: %w", stream, err)
		}
		if f := aws.ToInt32(out.FailedRecordCount); f > 0 {
			return fmt.Errorf("put records into %s: %d of %d failed", stream, f, n)
		}
		es = es[n:]
	}
	return nil
}

// Record is a metric record in the CIMAA agent's format (SPEC §5).
type Record struct {
	Time  time.Time
	Name  string // "//agent/file/section#metric"; "" for a stream with a fixed metric name
	Value float64
	Units string // optional
}

// JSON is the record as the agent sends it: the timestamp in UTC with
// microseconds and no zone, fields in the agent's order.
func (r Record) JSON() string {
	ts, _ := json.Marshal(r.Time.UTC().Format("2006-01-02T15:04:05.000000"))
	v, _ := json.Marshal(r.Value)
	out := `{"timestamp": ` + string(ts)
	if r.Name != "" {
		n, _ := json.Marshal(r.Name)
		out += `, "name": ` + string(n)
	}
	out += `, "value": ` + string(v)
	if r.Units != "" {
		u, _ := json.Marshal(r.Units)
		out += `, "units": ` + string(u)
	}
	return out + "}"
}

// Entry is the record keyed by its name, so a series stays in one shard
// and in order.
func (r Record) Entry() Entry { return Entry{Key: r.Name, Data: r.JSON()} }

// PutRecords puts CIMAA records, each keyed by its name (see Entry).
func (s *Server) PutRecords(t testing.TB, stream string, recs []Record) {
	t.Helper()
	s.Put(t, stream, Entries(recs))
}

// Entries are the records keyed by their names (see Record.Entry).
func Entries(recs []Record) []Entry {
	es := make([]Entry, len(recs))
	for i, r := range recs {
		es[i] = r.Entry()
		if r.Name == "" {
			es[i].Key = "fixed" // a fixed-metric stream: one series
		}
	}
	return es
}

// String names the server in logs and failures.
func (s *Server) String() string { return fmt.Sprintf("kinesalite at %s (pid %d)", s.URL, s.pid) }
