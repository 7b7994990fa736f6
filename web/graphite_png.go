package web

import (
	"context"
	"errors"

	"graphmetrics/web/graphite"
)

// graphitePNG draws /render?format=png.
func (s *Server) graphitePNG(ctx context.Context, list []*graphite.Series, from, until int64, width, height int, title string) ([]byte, error) {
	return nil, &graphite.InputError{Msg: "format png is not available yet; use format=json or csv"}
}

var _ = errors.New
