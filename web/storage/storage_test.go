package storage

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func openTest(t *testing.T) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), DBFile))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Sessions are found until they expire, and DeleteExpired removes exactly
// the expired ones.
func TestSessions(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := openTest(t).Sessions(func() time.Time { return now })
	if err := s.CommitCtx(ctx, "a", []byte("A"), now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.CommitCtx(ctx, "b", []byte("B"), now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if b, ok, err := s.FindCtx(ctx, "a"); err != nil || !ok || string(b) != "A" {
		t.Fatalf("find a: %q %v %v", b, ok, err)
	}
	now = now.Add(2 * time.Minute)
	if _, ok, err := s.FindCtx(ctx, "b"); err != nil || ok {
		t.Fatalf("expired b found: %v %v", ok, err)
	}
	if n, err := s.DeleteExpired(ctx); err != nil || n != 1 {
		t.Fatalf("delete expired: %d %v", n, err)
	}
	if err := s.DeleteCtx(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.FindCtx(ctx, "a"); ok {
		t.Fatal("deleted session found")
	}
}

// An edit that fails saves nothing; one that succeeds is read back, listed
// and is the owner's default page.
func TestEditPage(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	if err := db.AddUser(ctx, "ann", "ann-password"); err != nil {
		t.Fatal(err)
	}
	err := db.EditPage(ctx, "ann", "tracelog", "p", func(p *Page) error {
		p.Charts = []byte(`[1]`)
		return ErrPageExists
	})
	if !errors.Is(err, ErrPageExists) {
		t.Fatalf("edit error: %v", err)
	}
	if p, err := db.GetPage(ctx, "ann", "tracelog", "p"); err != nil || p.Exists {
		t.Fatalf("a failed edit saved the page: %+v %v", p, err)
	}
	if name, err := db.DefaultPage(ctx, "ann", "tracelog"); err != nil || name != "main" {
		t.Fatalf("default page %q %v", name, err)
	}
	if err := db.EditPage(ctx, "ann", "tracelog", "p", func(p *Page) error {
		p.Charts, p.NextID = []byte(`[{"id":1},{"id":2}]`), 3
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	p, err := db.GetPage(ctx, "ann", "tracelog", "p")
	if err != nil || !p.Exists || p.NextID != 3 || string(p.Charts) != `[{"id":1},{"id":2}]` {
		t.Fatalf("page %+v %v", p, err)
	}
	ps, err := db.ListPages(ctx, "tracelog", "ann")
	if err != nil || len(ps) != 1 || ps[0].Count != 2 {
		t.Fatalf("list %+v %v", ps, err)
	}
	if ps, _ := db.ListPages(ctx, "metrics", ""); len(ps) != 0 {
		t.Fatalf("metrics pages: %+v", ps)
	}
	if name, err := db.DefaultPage(ctx, "ann", "tracelog"); err != nil || name != "p" {
		t.Fatalf("default page %q %v", name, err)
	}
}
