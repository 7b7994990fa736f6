package web

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestUserCommandAndEnsureAdmin(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := OpenDB(filepath.Join(dir, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	run := func(stdin string, args ...string) (string, error) {
		var out bytes.Buffer
		err := UserCommand(ctx, db, args, strings.NewReader(stdin), &out)
		return out.String(), err
	}

	// First start: admin with a random password, printed once.
	var out bytes.Buffer
	if err := EnsureAdmin(ctx, db, &out); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^graphmetrics: created user admin with password (\S{16}) — change it with ` +
		"`graphmetrics user passwd admin`\n$").FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("EnsureAdmin printed %q", out.String())
	}
	if _, ok, _ := checkLogin(ctx, db, "admin", m[1]); !ok {
		t.Fatal("the printed admin password does not work")
	}
	out.Reset()
	if err := EnsureAdmin(ctx, db, &out); err != nil || out.Len() != 0 {
		t.Fatalf("second EnsureAdmin: %v %q", err, out.String())
	}

	if _, err := run("carol-password\n", "add", "carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := run("other-password\n", "user", "add", "carol"); !errors.Is(err, errUserExists) {
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
	if err := editPage(ctx, db, "carol", kindTracelog, "p1", func(p *page) error { return nil }); err != nil {
		t.Fatal(err)
	}
	list, err := run("", "list")
	if err != nil || !regexp.MustCompile(`(?m)^admin\tcreated \S+\t0 pages\ncarol\tcreated \S+\t1 pages\n$`).MatchString(list) {
		t.Fatalf("list: %v\n%s", err, list)
	}
	if _, err := run("carol-new-password\r\n", "passwd", "carol"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := checkLogin(ctx, db, "carol", "carol-new-password"); !ok {
		t.Fatal("passwd did not take (CRLF must be trimmed)")
	}
	if _, err := run("whatever-pw\n", "passwd", "nobody"); !errors.Is(err, errNoUser) {
		t.Fatalf("passwd of a missing user: %v", err)
	}
	if _, err := run("", "delete", "carol"); err != nil {
		t.Fatal(err)
	}
	if ps, _ := listPages(ctx, db, kindTracelog, ""); len(ps) != 0 {
		t.Fatalf("pages of a deleted user remain: %+v", ps)
	}
	for _, args := range [][]string{nil, {"frobnicate"}, {"add"}, {"list", "x"}} {
		if _, err := run("", args...); err == nil || !strings.Contains(err.Error(), "usage") {
			t.Errorf("%q: %v", args, err)
		}
	}

	// A reopened database keeps its schema and data.
	db.Close()
	db, err = OpenDB(filepath.Join(dir, DBFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := checkLogin(ctx, db, "admin", m[1]); !ok {
		t.Fatal("admin lost after reopening")
	}
}

func TestDeletedUserSessionEnds(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.loggedIn("bob", bobPW)
	wantStatus(t, c.get("/pages"), http.StatusOK)
	var out bytes.Buffer
	if err := UserCommand(context.Background(), e.db, []string{"delete", "bob"}, nil, &out); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, c.get("/pages"), http.StatusSeeOther)
}
