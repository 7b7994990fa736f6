package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"graphmetrics/web"
)

// runUser manages local accounts: user [-config FILE] add|passwd|list|delete.
func runUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("user", stderr)
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
		return errors.New("user: want add|passwd|list|delete")
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if err := ownerOnly(cfg.DataDir, newLogger(stderr, cfg.LogLevel)); err != nil {
		return fmt.Errorf("user: %w", err)
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
