package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Page kinds: "/" pages hold tracelog charts; "/metrics" pages hold
// metric charts in the same table.
const (
	kindTracelog = "tracelog"
	kindMetrics  = "metrics"
)

var (
	errPageExists = errors.New("page exists")
	pageNameRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
)

func checkPageName(name string) error {
	if !pageNameRE.MatchString(name) {
		return fmt.Errorf("bad page name %q: use 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit", name)
	}
	return nil
}

// page is one saved page. Charts is a JSON array whose elements the page
// kind's handlers define; NextID numbers new charts so a chart keeps its id
// (and its URL fragment) while others are added and removed.
type page struct {
	Owner, Kind, Name string
	Charts            []byte
	NextID            int
	Updated           time.Time
	Count             int  // charts, in listings
	Exists            bool // false: not saved yet
}

func getPage(ctx context.Context, db *sql.DB, owner, kind, name string) (*page, error) {
	return scanPage(db.QueryRowContext(ctx, `SELECT owner, kind, name, charts, next_id, updated
		FROM pages WHERE owner = ? AND kind = ? AND name = ?`, owner, kind, name), owner, kind, name)
}

func scanPage(row *sql.Row, owner, kind, name string) (*page, error) {
	p := &page{}
	var updated int64
	err := row.Scan(&p.Owner, &p.Kind, &p.Name, &p.Charts, &p.NextID, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return &page{Owner: owner, Kind: kind, Name: name, Charts: []byte("[]"), NextID: 1}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read page %s/%s: %w", owner, name, err)
	}
	p.Updated, p.Exists = time.Unix(updated, 0), true
	return p, nil
}

// editPage reads the page (or a new empty one), lets edit change it, and
// saves it, in one write transaction so concurrent edits do not undo each
// other.
func editPage(ctx context.Context, db *sql.DB, owner, kind, name string, edit func(p *page) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("edit page %s/%s: %w", owner, name, err)
	}
	defer tx.Rollback()
	p, err := scanPage(tx.QueryRowContext(ctx, `SELECT owner, kind, name, charts, next_id, updated
		FROM pages WHERE owner = ? AND kind = ? AND name = ?`, owner, kind, name), owner, kind, name)
	if err != nil {
		return err
	}
	if err := edit(p); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO pages (owner, kind, name, charts, next_id, updated)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (owner, kind, name)
		DO UPDATE SET charts = excluded.charts, next_id = excluded.next_id, updated = excluded.updated`,
		owner, kind, name, string(p.Charts), p.NextID, time.Now().Unix())
	if err != nil {
		return fmt.Errorf("save page %s/%s: %w", owner, name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save page %s/%s: %w", owner, name, err)
	}
	return nil
}

func deletePage(ctx context.Context, db *sql.DB, owner, kind, name string) error {
	if _, err := db.ExecContext(ctx, `DELETE FROM pages WHERE owner = ? AND kind = ? AND name = ?`, owner, kind, name); err != nil {
		return fmt.Errorf("delete page %s/%s: %w", owner, name, err)
	}
	return nil
}

// listPages lists the pages of a kind, of one owner or (owner "") of all.
func listPages(ctx context.Context, db *sql.DB, kind, owner string) ([]page, error) {
	rows, err := db.QueryContext(ctx, `SELECT owner, name, json_array_length(charts), updated FROM pages
		WHERE kind = ? AND (? = '' OR owner = ?) ORDER BY owner, name`, kind, owner, owner)
	if err != nil {
		return nil, fmt.Errorf("list pages: %w", err)
	}
	defer rows.Close()
	var out []page
	for rows.Next() {
		p := page{Kind: kind, Exists: true}
		var updated int64
		if err := rows.Scan(&p.Owner, &p.Name, &p.Count, &updated); err != nil {
			return nil, fmt.Errorf("list pages: %w", err)
		}
		p.Updated = time.Unix(updated, 0)
		out = append(out, p)
	}
	return out, rows.Err()
}

// defaultPage is the owner's most recently changed page of a kind, or "main".
func defaultPage(ctx context.Context, db *sql.DB, owner, kind string) (string, error) {
	var name string
	err := db.QueryRowContext(ctx, `SELECT name FROM pages WHERE owner = ? AND kind = ?
		ORDER BY updated DESC, name LIMIT 1`, owner, kind).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "main", nil
	}
	if err != nil {
		return "", fmt.Errorf("find default page of %s: %w", owner, err)
	}
	return name, nil
}
