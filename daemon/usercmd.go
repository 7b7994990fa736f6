package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"graphmetrics/web"
)

// runUser manages local accounts and their API tokens:
// user [-config FILE] add|passwd|list|delete|token [-revoke].
func runUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("user", stderr)
	revoke := fs.Bool("revoke", false, "with token: revoke every API token of the user")
	// Flags may also follow the subcommand: user add NAME -config FILE.
	var words []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		words = append(words, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(words) == 0 {
		return errors.New("user: want add|passwd|list|delete|token")
	}
	if *revoke {
		words = append(words, "-revoke")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	db, err := web.OpenDB(filepath.Join(cfg.DataDir, "graphmetrics.db"))
	if err != nil {
		return fmt.Errorf("user: %w", err)
	}
	defer db.Close()
	return web.UserCommand(ctx, db, words, stdin, stdout)
}

func runRenderWorker(stdin io.Reader, stdout io.Writer) error {
	return web.RenderWorkerMain(stdin, stdout)
}
