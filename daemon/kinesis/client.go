package kinesis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// newClient builds the SDK client from the standard AWS configuration
// chain (environment, shared files, instance roles). The SDK's own retries
// are off: the shard loops retry with their own backoff, which honours
// shutdown and is counted in Stats, and the SDK's retry quota would
// otherwise start failing calls by itself under sustained throttling.
func newClient(ctx context.Context, region, endpoint string) (API, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("kinesis: AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("kinesis: no region (set kinesis.region or AWS_REGION)")
	}
	return awskinesis.NewFromConfig(cfg, func(o *awskinesis.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	}), nil
}

// errKind sorts API errors by what the loop does about them.
type errKind int

const (
	errOther    errKind = iota // network, server, unknown: back off, re-create the iterator
	errThrottle                // throughput or rate limit: back off, keep the iterator
	errExpired                 // iterator too old: re-create it at once
	errGone                    // shard or stream not found: hand back to the stream loop
	errCanceled                // shutting down
)

func classify(err error) errKind {
	var (
		pt  *types.ProvisionedThroughputExceededException
		le  *types.LimitExceededException
		kt  *types.KMSThrottlingException
		ei  *types.ExpiredIteratorException
		rnf *types.ResourceNotFoundException
	)
	switch {
	case errors.Is(err, context.Canceled):
		return errCanceled
	case errors.As(err, &pt), errors.As(err, &le), errors.As(err, &kt):
		return errThrottle
	case errors.As(err, &ei):
		return errExpired
	case errors.As(err, &rnf):
		return errGone
	}
	return errOther
}

// backoff is exponential with jitter: attempt n waits a random time in
// [d/2, d) with d = base·2ⁿ capped at max, so shards throttled together do
// not retry together.
type backoff struct {
	base, max time.Duration
	n         int
}

func (b *backoff) next() time.Duration {
	d := b.base << min(b.n, 20)
	if d > b.max || d <= 0 {
		d = b.max
	}
	b.n++
	return d/2 + rand.N(d/2+1)
}

func (b *backoff) reset() { b.n = 0 }

// sleep waits d or until ctx ends; it reports whether the wait completed.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
