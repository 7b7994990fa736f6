package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/alexedwards/scs/v2"
)

// SessionStore keeps scs sessions (it is an scs.CtxStore) in the SQLite
// database, so a restart of the daemon keeps people logged in. (scs's own
// sqlite3store is written for another driver; this is the same few
// statements.)
type SessionStore struct {
	db  *sql.DB
	now func() time.Time
}

// Sessions is the database's session store; now is its clock for expiry.
func (d *DB) Sessions(now func() time.Time) *SessionStore {
	return &SessionStore{db: d.db, now: now}
}

func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

func (s *SessionStore) Delete(token string) error {
	return s.DeleteCtx(context.Background(), token)
}

func (s *SessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, `SELECT data FROM sessions WHERE token = ? AND expiry > ?`,
		token, s.now().UnixMilli()).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("find session: %w", err)
	}
	return b, true, nil
}

func (s *SessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (token, data, expiry) VALUES (?, ?, ?)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`,
		token, b, expiry.UnixMilli())
	if err != nil {
		return fmt.Errorf("commit session: %w", err)
	}
	return nil
}

func (s *SessionStore) DeleteCtx(ctx context.Context, token string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE token = ?`, token); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpired removes sessions past their expiry.
func (s *SessionStore) DeleteExpired(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE expiry <= ?`, s.now().UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return res.RowsAffected()
}

// SessionsOf counts the stored sessions logged in as user.
func (d *DB) SessionsOf(ctx context.Context, user string) (int, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback() // counts by deleting, then undoes it
	return deleteSessionsOf(ctx, tx, user)
}

// deleteSessionsOf deletes the sessions logged in as user and says how
// many. The user is inside scs's encoded data, so every session is read;
// this runs only when an operator deletes a user.
func deleteSessionsOf(ctx context.Context, tx *sql.Tx, user string) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT token, data FROM sessions`)
	if err != nil {
		return 0, fmt.Errorf("find sessions: %w", err)
	}
	var tokens []string
	for rows.Next() {
		var token string
		var b []byte
		if err := rows.Scan(&token, &b); err != nil {
			rows.Close()
			return 0, fmt.Errorf("find sessions: %w", err)
		}
		if _, values, err := (scs.GobCodec{}).Decode(b); err == nil && values["user"] == user {
			tokens = append(tokens, token)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("find sessions: %w", err)
	}
	for _, t := range tokens {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE token = ?`, t); err != nil {
			return 0, fmt.Errorf("delete session: %w", err)
		}
	}
	return len(tokens), nil
}
