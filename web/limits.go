package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Defaults of the page limits ([web] max_page_charts, max_user_pages).
const (
	DefaultMaxPageCharts = 100
	DefaultMaxUserPages  = 1000
)

// errLimit marks a change refused by a limit; its message is for the user.
var errLimit = errors.New("limit")

type limitError struct{ msg string }

func (e *limitError) Error() string        { return e.msg }
func (e *limitError) Is(target error) bool { return target == errLimit }

// savePage is editPage within the limits: a page holds at most
// MaxPageCharts charts (a change may not add one past it) and a user owns
// at most MaxUserPages pages of both kinds (a new page is refused past it).
func (s *Server) savePage(ctx context.Context, owner, kind, name string, edit func(p *page) error) error {
	return s.db.EditPage(ctx, owner, kind, name, func(p *page) error {
		if !p.Exists {
			n, err := s.db.CountPages(ctx, owner)
			if err != nil {
				return err
			}
			if n >= s.o.MaxUserPages {
				s.stats.limitRefusals.Add(1)
				return &limitError{fmt.Sprintf("you have %d pages, the most a user may have ([web] max_user_pages = %d); delete one first", n, s.o.MaxUserPages)}
			}
		}
		before := chartCount(p.Charts)
		if err := edit(p); err != nil {
			return err
		}
		if n := chartCount(p.Charts); n > s.o.MaxPageCharts && n > before {
			s.stats.limitRefusals.Add(1)
			return &limitError{fmt.Sprintf("a page holds at most %d charts ([web] max_page_charts); this one would have %d: start another page", s.o.MaxPageCharts, n)}
		}
		return nil
	})
}

// chartCount is the length of a page's JSON array of charts.
func chartCount(charts []byte) int {
	var list []json.RawMessage
	if json.Unmarshal(charts, &list) != nil {
		return 0
	}
	return len(list)
}
