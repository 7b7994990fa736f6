package storage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// API tokens (issue 16): `graphmetrics user token NAME` makes one, shown
// once; only its SHA-256 is stored (a token is 32 random bytes, so a
// plain hash is enough). Deleting the user deletes their tokens.

// TokenPrefix starts every API token.
const TokenPrefix = "gmt_"

func tokenHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// NewToken stores and returns a new API token for user name.
func (d *DB) NewToken(ctx context.Context, name string) (string, error) {
	if _, ok, err := d.UserIdentity(ctx, name); err != nil {
		return "", err
	} else if !ok {
		return "", fmt.Errorf("new token for %s: %w", name, ErrNoUser)
	}
	var b [32]byte
	rand.Read(b[:])
	tok := TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	if _, err := d.db.ExecContext(ctx, `INSERT INTO api_tokens (hash, user, created) VALUES (?, ?, ?)`,
		tokenHash(tok), name, time.Now().Unix()); err != nil {
		return "", fmt.Errorf("new token for %s: %w", name, err)
	}
	return tok, nil
}

// RevokeTokens deletes every token of user name and says how many.
func (d *DB) RevokeTokens(ctx context.Context, name string) (int64, error) {
	if _, ok, err := d.UserIdentity(ctx, name); err != nil {
		return 0, err
	} else if !ok {
		return 0, fmt.Errorf("revoke tokens of %s: %w", name, ErrNoUser)
	}
	res, err := d.db.ExecContext(ctx, `DELETE FROM api_tokens WHERE user = ?`, name)
	if err != nil {
		return 0, fmt.Errorf("revoke tokens of %s: %w", name, err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// TokenUser returns the user a token belongs to.
func (d *DB) TokenUser(ctx context.Context, tok string) (string, bool, error) {
	if !strings.HasPrefix(tok, TokenPrefix) || len(tok) > 100 {
		return "", false, nil
	}
	var name string
	err := d.db.QueryRowContext(ctx, `SELECT user FROM api_tokens WHERE hash = ?`, tokenHash(tok)).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("look up token: %w", err)
	}
	return name, true, nil
}
