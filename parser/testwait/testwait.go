// Package testwait is the one helper tests use to wait for a condition
// instead of sleeping a fixed time. It imports nothing of graphmetrics and
// lives under parser, the bottom layer, so that a test in any package may
// import it.
package testwait

import (
	"testing"
	"time"
)

// For polls cond until it holds, and fails the test when timeout passes
// first. The poll interval starts at 1 ms and grows to 50 ms, so a quick
// condition is seen at once and an expensive one (an HTTP request, a file
// walk) is not run in a tight loop. Inside a testing/synctest bubble the
// waits advance the bubble's fake clock.
func For(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for every := time.Millisecond; !cond(); every = min(2*every, 50*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(every)
	}
}
