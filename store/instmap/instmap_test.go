package instmap

import (
	"sync"
	"testing"
	"time"

	"graphmetrics/store"
)

type state struct {
	sync.Mutex
	n int
}

func TestForgetIdle(t *testing.T) {
	made := 0
	m := New(20*time.Millisecond, func(store.Key) *state { made++; return &state{} })
	a, b := store.Key{Instance: "a"}, store.Key{Instance: "b"}
	sa := m.Get(a)
	sa.n = 1
	if m.Get(a) != sa || made != 1 {
		t.Fatal("Get made a second state for the same key")
	}
	sb := m.Get(b)
	sb.Lock() // being written: never forgotten
	time.Sleep(30 * time.Millisecond)
	if n := m.Held(); n != 1 {
		t.Fatalf("held %d, want 1 (the locked one)", n)
	}
	sb.Unlock()
	if m.Get(a) == sa || made != 3 {
		t.Fatal("a forgotten state came back instead of a new one")
	}
	never := New(0, func(store.Key) *state { return &state{} })
	first := never.Get(a)
	if never.Get(a) != first || never.Held() != 1 {
		t.Fatal("forget 0 must keep states")
	}
}
