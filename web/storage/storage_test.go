package storage

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
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

// A user added again under a deleted user's name has another identity, and
// deleting a user deletes exactly their sessions.
func TestIdentityNotReused(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	for _, u := range []string{"eve", "bob"} {
		if err := db.AddUser(ctx, u, u+"-password"); err != nil {
			t.Fatal(err)
		}
	}
	id1, ok, err := db.CheckLogin(ctx, "eve", "eve-password")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	s := db.Sessions(time.Now)
	for token, user := range map[string]string{"t1": "eve", "t2": "eve", "t3": "bob"} {
		b, err := (scs.GobCodec{}).Encode(time.Now().Add(time.Hour), map[string]any{"user": user, "id": "x"})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CommitCtx(ctx, token, b, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := db.SessionsOf(ctx, "eve"); err != nil || n != 2 {
		t.Fatalf("eve's sessions: %d %v", n, err)
	}
	if err := db.DeleteUser(ctx, "eve"); err != nil {
		t.Fatal(err)
	}
	for token, want := range map[string]bool{"t1": false, "t2": false, "t3": true} {
		if _, ok, err := s.FindCtx(ctx, token); err != nil || ok != want {
			t.Errorf("session %s found %v after deleting eve: %v", token, ok, err)
		}
	}
	if _, ok, _ := db.UserIdentity(ctx, "eve"); ok {
		t.Fatal("deleted eve still has an identity")
	}
	if err := db.AddUser(ctx, "eve", "eve-password"); err != nil {
		t.Fatal(err)
	}
	if id2, ok, err := db.UserIdentity(ctx, "eve"); err != nil || !ok || id2 == id1 {
		t.Fatalf("new eve's identity %q, old %q: %v", id2, id1, err)
	}
	// A password change keeps the uid and changes the identity.
	id3, _, _ := db.UserIdentity(ctx, "bob")
	if err := db.SetPassword(ctx, "bob", "bob-password-2"); err != nil {
		t.Fatal(err)
	}
	if id4, _, _ := db.UserIdentity(ctx, "bob"); id4 == id3 || strings.Split(id4, ".")[0] != strings.Split(id3, ".")[0] {
		t.Fatalf("bob's identity %q after passwd, %q before", id4, id3)
	}
}
