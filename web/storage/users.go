package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"

	"golang.org/x/crypto/bcrypt"
)

var (
	ErrUserExists = errors.New("user exists")
	ErrNoUser     = errors.New("no such user")
	userNameRE    = regexp.MustCompile(`^[a-z][a-z0-9._-]{0,31}$`)

	// dummyHash (of a password nobody uses, at the default cost) is compared
	// against when a user does not exist, so a wrong name takes as long as a
	// wrong password.
	dummyHash = []byte("$2a$10$arOnbRO5SXdN0mvLHEWH6egyujY25Mld27gb76r7ltB129Rp3FMQ2")
)

const (
	minPassword = 8
	maxPassword = 72 // bcrypt's limit
)

// CheckUserName says whether name is a valid user name.
func CheckUserName(name string) error {
	if !userNameRE.MatchString(name) {
		return fmt.Errorf("bad user name %q: use 1-32 of a-z 0-9 . _ - starting with a letter", name)
	}
	return nil
}

// CheckPassword says whether pw is a valid password.
func CheckPassword(pw string) error {
	if len(pw) < minPassword || len(pw) > maxPassword {
		return fmt.Errorf("password must be %d to %d bytes", minPassword, maxPassword)
	}
	return nil
}

func hashPassword(pw string) (string, error) {
	if err := CheckPassword(pw); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// AddUser adds a user; ErrUserExists if there is one of that name.
func (d *DB) AddUser(ctx context.Context, name, pw string) error {
	if err := CheckUserName(name); err != nil {
		return err
	}
	h, err := hashPassword(pw)
	if err != nil {
		return err
	}
	res, err := d.db.ExecContext(ctx, `INSERT INTO users (name, hash, created, uid) VALUES (?, ?, ?, ?)
		ON CONFLICT (name) DO NOTHING`, name, h, time.Now().Unix(), rand.Text())
	if err != nil {
		return fmt.Errorf("add user %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("add user %s: %w", name, ErrUserExists)
	}
	return nil
}

// SetPassword changes the hash and bumps the generation, which ends the
// user's other sessions.
func (d *DB) SetPassword(ctx context.Context, name, pw string) error {
	h, err := hashPassword(pw)
	if err != nil {
		return err
	}
	res, err := d.db.ExecContext(ctx, `UPDATE users SET hash = ?, generation = generation + 1 WHERE name = ?`, h, name)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("set password of %s: %w", name, ErrNoUser)
	}
	return nil
}

// DeleteUser deletes a user, their pages and their sessions. (A session
// left behind, e.g. written back by a request in flight, is refused anyway:
// it carries the deleted user's identity.)
func (d *DB) DeleteUser(ctx context.Context, name string) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete user %s: %w", name, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("delete user %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete user %s: %w", name, ErrNoUser)
	}
	if _, err := deleteSessionsOf(ctx, tx, name); err != nil {
		return fmt.Errorf("delete user %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete user %s: %w", name, err)
	}
	return nil
}

// An identity binds a session to one user: the user's uid, which is
// random and never reused, so a user deleted and added again under the same
// name is someone else, and the generation, which passwd bumps to end older
// sessions.
const identitySQL = `uid || '.' || generation`

// CheckLogin returns the user's identity when the password is right.
func (d *DB) CheckLogin(ctx context.Context, name, pw string) (id string, ok bool, err error) {
	var h string
	err = d.db.QueryRowContext(ctx, `SELECT hash, `+identitySQL+` FROM users WHERE name = ?`, name).Scan(&h, &id)
	if errors.Is(err, sql.ErrNoRows) {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(pw))
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("check login of %s: %w", name, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(h), []byte(pw)) != nil {
		return "", false, nil
	}
	return id, true, nil
}

// UserIdentity returns the user's identity, or ok=false if there is no such
// user any more.
func (d *DB) UserIdentity(ctx context.Context, name string) (id string, ok bool, err error) {
	err = d.db.QueryRowContext(ctx, `SELECT `+identitySQL+` FROM users WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("look up user %s: %w", name, err)
	}
	return id, true, nil
}

func randomPassword() string {
	// 16 letters and digits, without look-alikes: about 90 bits.
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// EnsureAdmin creates the user admin with a random password when there are
// no users at all, and prints the password once on out, so a new
// installation can be logged into.
func (d *DB) EnsureAdmin(ctx context.Context, out io.Writer) error {
	var n int
	if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return fmt.Errorf("count users: %w", err)
	}
	if n > 0 {
		return nil
	}
	pw := randomPassword()
	if err := d.AddUser(ctx, "admin", pw); err != nil {
		if errors.Is(err, ErrUserExists) {
			return nil // another process was first
		}
		return err
	}
	_, err := fmt.Fprintf(out, "graphmetrics: created user admin with password %s — change it with `graphmetrics user passwd admin`\n", pw)
	return err
}

// User is one account, as listed.
type User struct {
	Name    string
	Created time.Time
	Pages   int // of both kinds
}

// ListUsers lists every user, by name.
func (d *DB) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT u.name, u.created, count(p.name) FROM users u
		LEFT JOIN pages p ON p.owner = u.name GROUP BY u.name ORDER BY u.name`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		var created int64
		if err := rows.Scan(&u.Name, &created, &u.Pages); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		u.Created = time.Unix(created, 0)
		out = append(out, u)
	}
	return out, rows.Err()
}
