package web

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

var (
	errUserExists = errors.New("user exists")
	errNoUser     = errors.New("no such user")
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

func checkUserName(name string) error {
	if !userNameRE.MatchString(name) {
		return fmt.Errorf("bad user name %q: use 1-32 of a-z 0-9 . _ - starting with a letter", name)
	}
	return nil
}

func checkPasswordRules(pw string) error {
	if len(pw) < minPassword || len(pw) > maxPassword {
		return fmt.Errorf("password must be %d to %d bytes", minPassword, maxPassword)
	}
	return nil
}

func hashPassword(pw string) (string, error) {
	if err := checkPasswordRules(pw); err != nil {
		return "", err
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

func addUser(ctx context.Context, db *sql.DB, name, pw string) error {
	if err := checkUserName(name); err != nil {
		return err
	}
	h, err := hashPassword(pw)
	if err != nil {
		return err
	}
	res, err := db.ExecContext(ctx, `INSERT INTO users (name, hash, created) VALUES (?, ?, ?)
		ON CONFLICT (name) DO NOTHING`, name, h, time.Now().Unix())
	if err != nil {
		return fmt.Errorf("add user %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("add user %s: %w", name, errUserExists)
	}
	return nil
}

// setPassword changes the hash and bumps the generation, which ends the
// user's other sessions.
func setPassword(ctx context.Context, db *sql.DB, name, pw string) error {
	h, err := hashPassword(pw)
	if err != nil {
		return err
	}
	res, err := db.ExecContext(ctx, `UPDATE users SET hash = ?, generation = generation + 1 WHERE name = ?`, h, name)
	if err != nil {
		return fmt.Errorf("set password of %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("set password of %s: %w", name, errNoUser)
	}
	return nil
}

func deleteUser(ctx context.Context, db *sql.DB, name string) error {
	res, err := db.ExecContext(ctx, `DELETE FROM users WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("delete user %s: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete user %s: %w", name, errNoUser)
	}
	return nil
}

// checkLogin returns the user's generation when the password is right.
func checkLogin(ctx context.Context, db *sql.DB, name, pw string) (gen int64, ok bool, err error) {
	var h string
	err = db.QueryRowContext(ctx, `SELECT hash, generation FROM users WHERE name = ?`, name).Scan(&h, &gen)
	if errors.Is(err, sql.ErrNoRows) {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(pw))
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("check login of %s: %w", name, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(h), []byte(pw)) != nil {
		return 0, false, nil
	}
	return gen, true, nil
}

// userGeneration returns the user's generation, or ok=false if there is no
// such user any more.
func userGeneration(ctx context.Context, db *sql.DB, name string) (gen int64, ok bool, err error) {
	err = db.QueryRowContext(ctx, `SELECT generation FROM users WHERE name = ?`, name).Scan(&gen)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("look up user %s: %w", name, err)
	}
	return gen, true, nil
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
func EnsureAdmin(ctx context.Context, db *sql.DB, out io.Writer) error {
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return fmt.Errorf("count users: %w", err)
	}
	if n > 0 {
		return nil
	}
	pw := randomPassword()
	if err := addUser(ctx, db, "admin", pw); err != nil {
		if errors.Is(err, errUserExists) {
			return nil // another process was first
		}
		return err
	}
	_, err := fmt.Fprintf(out, "graphmetrics: created user admin with password %s — change it with `graphmetrics user passwd admin`\n", pw)
	return err
}

const userUsage = "usage: graphmetrics user add NAME | passwd NAME | list | delete NAME | token NAME [-revoke] (passwords are read from stdin, one line)"

// UserCommand runs `graphmetrics user ...`; args are the words after
// "user" (a leading "user" is skipped too). Passwords are read from stdin,
// one line.
func UserCommand(ctx context.Context, db *sql.DB, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "user" {
		args = args[1:]
	}
	if len(args) == 0 {
		return errors.New(userUsage)
	}
	switch {
	case args[0] == "list" && len(args) == 1:
		rows, err := db.QueryContext(ctx, `SELECT u.name, u.created, count(p.name) FROM users u
			LEFT JOIN pages p ON p.owner = u.name GROUP BY u.name ORDER BY u.name`)
		if err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var name string
			var created, pages int64
			if err := rows.Scan(&name, &created, &pages); err != nil {
				return fmt.Errorf("list users: %w", err)
			}
			fmt.Fprintf(stdout, "%s\tcreated %s\t%d pages\n", name, time.Unix(created, 0).UTC().Format(time.RFC3339), pages)
		}
		return rows.Err()
	case (args[0] == "add" || args[0] == "passwd") && len(args) == 2:
		pw, err := readPassword(stdin)
		if err != nil {
			return err
		}
		if args[0] == "add" {
			err = addUser(ctx, db, args[1], pw)
		} else {
			err = setPassword(ctx, db, args[1], pw)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "graphmetrics: %s %s\n", map[string]string{"add": "added user", "passwd": "changed the password of"}[args[0]], args[1])
		return nil
	case args[0] == "token" && len(args) == 2:
		tok, err := newToken(ctx, db, args[1])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "graphmetrics: new API token for %s (shown once; Authorization: Bearer TOKEN, or Basic with the user name and TOKEN):\n%s\n", args[1], tok)
		return nil
	case args[0] == "token" && len(args) == 3 && (args[2] == "-revoke" || args[2] == "--revoke"):
		n, err := revokeTokens(ctx, db, args[1])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "graphmetrics: revoked %d API tokens of %s\n", n, args[1])
		return nil
	case args[0] == "delete" && len(args) == 2:
		if err := deleteUser(ctx, db, args[1]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "graphmetrics: deleted user %s and their pages\n", args[1])
		return nil
	}
	return errors.New(userUsage)
}

func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("read password from stdin: no line given")
	}
	pw := strings.TrimRight(line, "\r\n")
	return pw, checkPasswordRules(pw)
}
