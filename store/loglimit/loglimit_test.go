package listen

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLogLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	ll := NewLogLimiter(10 * time.Second)
	ll.now = func() time.Time { return now }
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

func TestLogLimiterNilAndConcurrent(t *testing.T) {
	var nilLimiter *LogLimiter
	for range 3 {
		if ok, _ := nilLimiter.Allow("x"); !ok {
			t.Fatal("nil limiter suppressed a line")
		}
	}

	ll := NewLogLimiter(time.Hour)
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
