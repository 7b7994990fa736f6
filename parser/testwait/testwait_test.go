package testwait

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestForReturnsOnceTheConditionHolds(t *testing.T) {
	var calls atomic.Int32
	For(t, 10*time.Second, "the third call", func() bool { return calls.Add(1) == 3 })
	if n := calls.Load(); n != 3 {
		t.Errorf("cond called %d times, want 3", n)
	}
}

// fakeTB records a Fatalf instead of ending the test.
type fakeTB struct {
	testing.TB
	failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = format
	panic(f)
}

func TestForFailsAtTheTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tb := &fakeTB{TB: t}
		start := time.Now()
		func() {
			defer func() {
				if r := recover(); r != tb {
					panic(r)
				}
			}()
			For(tb, time.Second, "never", func() bool { return false })
		}()
		if tb.failed == "" {
			t.Fatal("For returned without the condition")
		}
		if d := time.Since(start); d < time.Second || d > time.Second+50*time.Millisecond {
			t.Errorf("failed after %v, want 1s", d)
		}
	})
}
