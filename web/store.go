package web

import (
	"context"
	"time"

	"github.com/alexedwards/scs/v2"

	"graphmetrics/web/storage"
)

// Store is what the server needs of its database; *storage.DB is the real
// one.
type Store interface {
	// CheckLogin returns the user's identity (uid and generation: a
	// session holds it) when the password is right.
	CheckLogin(ctx context.Context, name, pw string) (id string, ok bool, err error)
	// UserIdentity is the user's identity, ok=false for no such user.
	UserIdentity(ctx context.Context, name string) (id string, ok bool, err error)
	CountPages(ctx context.Context, owner string) (int, error)
	// TokenUser is the user an API token belongs to, ok=false for none.
	TokenUser(ctx context.Context, tok string) (name string, ok bool, err error)
	GetPage(ctx context.Context, owner, kind, name string) (*page, error)
	EditPage(ctx context.Context, owner, kind, name string, edit func(p *page) error) error
	DeletePage(ctx context.Context, owner, kind, name string) error
	ListPages(ctx context.Context, kind, owner string) ([]page, error)
	DefaultPage(ctx context.Context, owner, kind string) (string, error)
	Sessions(now func() time.Time) *storage.SessionStore
}

var (
	_ Store        = (*storage.DB)(nil)
	_ scs.CtxStore = (*storage.SessionStore)(nil)
)

// page is a saved page (or a new, empty one).
type page = storage.Page

// Page kinds: "/" pages hold tracelog charts; "/metrics" pages hold
// metric charts in the same table.
const (
	kindTracelog = "tracelog"
	kindMetrics  = "metrics"
)
