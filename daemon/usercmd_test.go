package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"graphmetrics/web/storage"
)

func TestUserCommandAndEnsureAdmin(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := storage.Open(filepath.Join(dir, storage.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	run := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		err := userCommand(ctx, db, args, strings.NewReader(stdin), &out)
		return out.String(), err
	}

	// First start: admin with a random password, printed once.
	var out bytes.Buffer
	if err := db.EnsureAdmin(ctx, &out); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^graphmetrics: created user admin with password (\S{16}) — change it with ` +
		"`graphmetrics user passwd admin`\n$").FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("EnsureAdmin printed %q", out.String())
	}
	if _, ok, _ := db.CheckLogin(ctx, "admin", m[1]); !ok {
		t.Fatal("the printed admin password does not work")
	}
	out.Reset()
	if err := db.EnsureAdmin(ctx, &out); err != nil || out.Len() != 0 {
		t.Fatalf("second EnsureAdmin: %v %q", err, out.String())
	}

	if _, err := run("carol-password\n", "add", "carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := run("other-password\n", "user", "add", "carol"); !errors.Is(err, storage.ErrUserExists) {
		t.Fatalf("duplicate add: %v", err)
	}
	for _, c := range []struct{ stdin, name, want string }{
		{"short\n", "dave", "password must be"},
		{"", "dave", "no line given"},
		{strings.Repeat("x", 73) + "\n", "dave", "password must be"},
		{"good-password\n", "Dave", "bad user name"},
		{"good-password\n", "../x", "bad user name"},
	} {
		if _, err := run(c.stdin, "add", c.name); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("add %q with %q: %v, want %q", c.name, c.stdin, err, c.want)
		}
	}
	if err := db.EditPage(ctx, "carol", "tracelog", "p1", func(p *storage.Page) error { return nil }); err != nil {
		t.Fatal(err)
	}
	list, err := run("", "list")
	if err != nil || !regexp.MustCompile(`(?m)^admin\tcreated \S+\t0 pages\ncarol\tcreated \S+\t1 pages\n$`).MatchString(list) {
		t.Fatalf("list: %v\n%s", err, list)
	}
	if _, err := run("carol-new-password\r\n", "passwd", "carol"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.CheckLogin(ctx, "carol", "carol-new-password"); !ok {
		t.Fatal("passwd did not take (CRLF must be trimmed)")
	}
	if _, err := run("whatever-pw\n", "passwd", "nobody"); !errors.Is(err, storage.ErrNoUser) {
		t.Fatalf("passwd of a missing user: %v", err)
	}
	if _, err := run("", "delete", "carol"); err != nil {
		t.Fatal(err)
	}
	if ps, _ := db.ListPages(ctx, "tracelog", ""); len(ps) != 0 {
		t.Fatalf("pages of a deleted user remain: %+v", ps)
	}
	for _, args := range [][]string{nil, {"frobnicate"}, {"add"}, {"list", "x"}} {
		if _, err := run("", args...); err == nil || !strings.Contains(err.Error(), "usage") {
			t.Errorf("%q: %v", args, err)
		}
	}

	// A reopened database keeps its schema and data.
	db.Close()
	db, err = storage.Open(filepath.Join(dir, storage.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := db.CheckLogin(ctx, "admin", m[1]); !ok {
		t.Fatal("admin lost after reopening")
	}
}

func TestUserTokenCommand(t *testing.T) {
	ctx := context.Background()
	db, err := storage.Open(filepath.Join(t.TempDir(), storage.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	run := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := userCommand(ctx, db, args, strings.NewReader("alice-password\n"), &out)
		return out.String(), err
	}
	if _, err := run("add", "alice"); err != nil {
		t.Fatal(err)
	}
	var toks []string
	for range 2 {
		out, err := run("token", "alice")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		tok := lines[len(lines)-1]
		if err != nil || !strings.HasPrefix(tok, storage.TokenPrefix) {
			t.Fatalf("token: %v %q", err, out)
		}
		if name, ok, err := db.TokenUser(ctx, tok); err != nil || !ok || name != "alice" {
			t.Fatalf("TokenUser: %q %v %v", name, ok, err)
		}
		toks = append(toks, tok)
	}
	if toks[0] == toks[1] {
		t.Fatal("two tokens are equal")
	}
	if out, err := run("token", "alice", "-revoke"); err != nil || !strings.Contains(out, "revoked 2 API tokens of alice") {
		t.Fatalf("revoke: %v %q", err, out)
	}
	for _, tok := range toks {
		if _, ok, _ := db.TokenUser(ctx, tok); ok {
			t.Error("a revoked token still works")
		}
	}
	if _, err := run("token", "nobody"); !errors.Is(err, storage.ErrNoUser) {
		t.Errorf("token for nobody: %v", err)
	}
	if _, ok, _ := db.TokenUser(ctx, "gmt_guess"); ok {
		t.Error("a guessed token works")
	}
}
