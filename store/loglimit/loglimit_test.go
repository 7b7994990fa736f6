package loglimit

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	ll := New(10*time.Second, func() time.Time { return now })
	var out bytes.Buffer
	log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))

	for i := range 5 {
		ll.Log(log, "a", "bad a", "i", i)
	}
	ll.Log(log, "b", "bad b")
	now = now.Add(9 * time.Second)
	ll.Log(log, "a", "bad a", "i", 5)
	now = now.Add(time.Second)
	ll.Log(log, "a", "bad a", "i", 6)
	ll.Log(log, "a", "bad a", "i", 7)
	now = now.Add(10 * time.Second)
	ll.LogLevel(log, slog.LevelDebug, "a", "not enabled") // below Info: neither logged nor counted
	ll.LogLevel(log, slog.LevelError, "a", "bad a", "i", 8)

	want := strings.Join([]string{
		`level=WARN msg="bad a" i=0`,
		`level=WARN msg="bad b"`,
		`level=WARN msg="bad a" i=6 suppressed=5`,
		`level=ERROR msg="bad a" i=8 suppressed=1`,
	}, "\n") + "\n"
	if out.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestLimiterNilAndConcurrent(t *testing.T) {
	var nilLimiter *Limiter
	for range 3 {
		if ok, _ := nilLimiter.Allow("x"); !ok {
			t.Fatal("nil limiter suppressed a line")
		}
	}

	ll := New(time.Hour, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if ok, _ := ll.Allow("r"); ok {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	ll.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	ok, suppressed := ll.Allow("r")
	if allowed != 1 || !ok || suppressed != 7999 {
		t.Fatalf("allowed %d, then ok=%v suppressed=%d", allowed, ok, suppressed)
	}
}

// Distinct reasons stay bounded: past 10,000 the quiet ones are forgotten
// (and let through again), one still suppressing is kept while it can be.
func TestLimiterBoundsReasons(t *testing.T) {
	now := time.Unix(1000, 0)
	ll := New(time.Minute, func() time.Time { return now })
	ll.Allow("busy")
	ll.Allow("busy") // suppressed: remembered
	for i := range maxReasons - 1 {
		ll.Allow(fmt.Sprint("k", i))
	}
	if len(ll.reasons) != maxReasons {
		t.Fatalf("%d reasons, want %d", len(ll.reasons), maxReasons)
	}
	now = now.Add(2 * time.Minute) // every interval is over
	if ok, _ := ll.Allow("new"); !ok {
		t.Fatal("new reason suppressed")
	}
	if len(ll.reasons) != 2 {
		t.Fatalf("%d reasons after forgetting the quiet ones, want 2", len(ll.reasons))
	}
	if ok, n := ll.Allow("busy"); !ok || n != 1 {
		t.Fatalf("busy: ok=%v suppressed=%d, want true 1", ok, n)
	}
	// All distinct and all within their interval: the map is cleared
	// rather than grown.
	for i := range 2 * maxReasons {
		ll.Allow(fmt.Sprint("flood", i))
	}
	if len(ll.reasons) > maxReasons {
		t.Fatalf("%d reasons, want at most %d", len(ll.reasons), maxReasons)
	}
}
