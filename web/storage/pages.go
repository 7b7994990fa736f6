package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"time"
)

var (
	ErrPageExists = errors.New("page exists") // for an edit function to return
	pageNameRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
)

// CheckPageName says whether name is a valid page name.
func CheckPageName(name string) error {
	if !pageNameRE.MatchString(name) {
		return fmt.Errorf("bad page name %q: use 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit", name)
	}
	return nil
}

// Page is one saved page of a kind ("tracelog", "metrics": the web
// handlers' page kinds share the table). Charts is a JSON array whose
// elements the page kind's handlers define; NextID numbers new charts so a chart keeps its id
// (and its URL fragment) while others are added and removed.
type Page struct {
	Owner, Kind, Name string
	Charts            []byte
	NextID            int
	Updated           time.Time
	Count             int  // charts, in listings
	Exists            bool // false: not saved yet
}

// GetPage reads a page; one not saved yet comes back empty, with Exists
// false.
func (d *DB) GetPage(ctx context.Context, owner, kind, name string) (*Page, error) {
	return scanPage(d.db.QueryRowContext(ctx, `SELECT owner, kind, name, charts, next_id, updated
		FROM pages WHERE owner = ? AND kind = ? AND name = ?`, owner, kind, name), owner, kind, name)
}

func scanPage(row *sql.Row, owner, kind, name string) (*Page, error) {
	p := &Page{}
	var updated int64
	err := row.Scan(&p.Owner, &p.Kind, &p.Name, &p.Charts, &p.NextID, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return &Page{Owner: owner, Kind: kind, Name: name, Charts: []byte("[]"), NextID: 1}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read page %s/%s: %w", owner, name, err)
	}
	p.Updated, p.Exists = time.Unix(updated, 0), true
	return p, nil
}

// EditPage reads the page (or a new empty one), lets edit change it, and
// saves it, in one write transaction so concurrent edits do not undo each
// other. An error from edit is returned as it is, and nothing is saved.
func (d *DB) EditPage(ctx context.Context, owner, kind, name string, edit func(p *Page) error) error {
	tx, err := d.db.BeginTx(ctx, nil)
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

// DeletePage deletes a page, if there is one.
func (d *DB) DeletePage(ctx context.Context, owner, kind, name string) error {
	if _, err := d.db.ExecContext(ctx, `DELETE FROM pages WHERE owner = ? AND kind = ? AND name = ?`, owner, kind, name); err != nil {
		return fmt.Errorf("delete page %s/%s: %w", owner, name, err)
	}
	return nil
}

// CountPages counts the pages of both kinds that owner has.
func (d *DB) CountPages(ctx context.Context, owner string) (int, error) {
	var n int
	if err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM pages WHERE owner = ?`, owner).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pages of %s: %w", owner, err)
	}
	return n, nil
}

// ListPages lists the pages of a kind, of one owner or (owner "") of all,
// with Count set and Charts not.
func (d *DB) ListPages(ctx context.Context, kind, owner string) ([]Page, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT owner, name, json_array_length(charts), updated FROM pages
		WHERE kind = ? AND (? = '' OR owner = ?) ORDER BY owner, name`, kind, owner, owner)
	if err != nil {
		return nil, fmt.Errorf("list pages: %w", err)
	}
	defer rows.Close()
	var out []Page
	for rows.Next() {
		p := Page{Kind: kind, Exists: true}
		var updated int64
		if err := rows.Scan(&p.Owner, &p.Name, &p.Count, &updated); err != nil {
			return nil, fmt.Errorf("list pages: %w", err)
		}
		p.Updated = time.Unix(updated, 0)
		out = append(out, p)
	}
	return out, rows.Err()
}

// DefaultPage is the owner's most recently changed page of a kind, or "main".
func (d *DB) DefaultPage(ctx context.Context, owner, kind string) (string, error) {
	var name string
	err := d.db.QueryRowContext(ctx, `SELECT name FROM pages WHERE owner = ? AND kind = ?
		ORDER BY updated DESC, name LIMIT 1`, owner, kind).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "main", nil
	}
	if err != nil {
		return "", fmt.Errorf("find default page of %s: %w", owner, err)
	}
	return name, nil
}
