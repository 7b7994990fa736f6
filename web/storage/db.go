package storage

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DBFile is the database's name under data_dir (SPEC §4).
const DBFile = "graphmetrics.db"

// migrations are applied in order; PRAGMA user_version counts those done.
// Append only: never edit an entry that has shipped.
var migrations = [][]string{
	{
		`CREATE TABLE users (
			name TEXT PRIMARY KEY,
			hash TEXT NOT NULL,
			generation INTEGER NOT NULL DEFAULT 1, -- bumped by passwd: ends older sessions
			created INTEGER NOT NULL
		)`,
		`CREATE TABLE sessions (
			token TEXT PRIMARY KEY,
			data BLOB NOT NULL,
			expiry INTEGER NOT NULL -- Unix milliseconds
		)`,
		`CREATE INDEX sessions_expiry ON sessions (expiry)`,
		`CREATE TABLE pages (
			owner TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
			kind TEXT NOT NULL,     -- "tracelog"; "metrics" pages share the table
			name TEXT NOT NULL,
			charts TEXT NOT NULL,   -- JSON array, decoded by the page kind's handlers
			next_id INTEGER NOT NULL,
			updated INTEGER NOT NULL, -- Unix seconds
			PRIMARY KEY (owner, kind, name)
		)`,
	},
	{
		`CREATE TABLE api_tokens (
			hash TEXT PRIMARY KEY, -- hex SHA-256 of the token
			user TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
			created INTEGER NOT NULL -- Unix seconds
		)`,
		`CREATE INDEX api_tokens_user ON api_tokens (user)`,
	},
	{
		// Sessions name the user's uid, not only the name (issue 11):
		// deleting eve and adding eve again must not log the old cookie in.
		`ALTER TABLE users ADD COLUMN uid TEXT NOT NULL DEFAULT ''`,
		`UPDATE users SET uid = lower(hex(randomblob(16)))`,
		`CREATE UNIQUE INDEX users_uid ON users (uid)`,
	},
}

// DB is the web UI's database: users, pages and sessions in SQLite.
type DB struct {
	db *sql.DB
}

// Open opens (creating if needed) the SQLite database at path, in WAL
// mode with a busy timeout so the web server's concurrent requests and the
// CLI can share it, and brings its schema up to date.
func Open(path string) (*DB, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open database %s: '?' and '#' are not allowed in the path", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := migrate(context.Background(), db); err != nil {
		db.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return &DB{db: db}, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

func migrate(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return fmt.Errorf("migrate: read version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("migrate: database schema version %d is newer than this program's %d", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		for _, stmt := range migrations[i] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migrate to version %d: %w", i+1, err)
			}
		}
	}
	// PRAGMA takes no bind parameters; the value is our own integer.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, len(migrations))); err != nil {
		return fmt.Errorf("migrate: set version: %w", err)
	}
	return tx.Commit()
}
