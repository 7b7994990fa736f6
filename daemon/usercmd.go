package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"graphmetrics/web"
	"graphmetrics/web/storage"
)

// runUser manages local accounts and their API tokens:
// user [-config FILE] add|passwd|list|delete|token [-revoke].
func runUser(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("user", stderr)
	revoke := fs.Bool("revoke", false, "with token: revoke every API token of the user")
	// Flags may also follow the subcommand: user add NAME -config FILE.
	words, err := parseArgs(fs, args)
	if err != nil {
		return err
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
	if err := ownerOnly(cfg.DataDir, newLogger(stderr, cfg.LogLevel)); err != nil {
		return fmt.Errorf("user: %w", err)
	}
	db, err := storage.Open(filepath.Join(cfg.DataDir, storage.DBFile))
	if err != nil {
		return fmt.Errorf("user: %w", err)
	}
	defer db.Close()
	return userCommand(ctx, db, words, stdin, stdout)
}

const userUsage = "usage: graphmetrics user add NAME | passwd NAME | list | delete NAME | token NAME [-revoke] (passwords are read from stdin, one line)"

// userCommand runs `graphmetrics user ...`; args are the words after
// "user" (a leading "user" is skipped too). Passwords are read from stdin,
// one line.
func userCommand(ctx context.Context, db *storage.DB, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "user" {
		args = args[1:]
	}
	if len(args) == 0 {
		return errors.New(userUsage)
	}
	switch {
	case args[0] == "list" && len(args) == 1:
		users, err := db.ListUsers(ctx)
		if err != nil {
			return err
		}
		for _, u := range users {
			fmt.Fprintf(stdout, "%s\tcreated %s\t%d pages\n", u.Name, u.Created.UTC().Format(time.RFC3339), u.Pages)
		}
		return nil
	case (args[0] == "add" || args[0] == "passwd") && len(args) == 2:
		pw, err := readPassword(stdin)
		if err != nil {
			return err
		}
		if args[0] == "add" {
			err = db.AddUser(ctx, args[1], pw)
		} else {
			err = db.SetPassword(ctx, args[1], pw)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "graphmetrics: %s %s\n", map[string]string{"add": "added user", "passwd": "changed the password of"}[args[0]], args[1])
		return nil
	case args[0] == "token" && len(args) == 2:
		tok, err := db.NewToken(ctx, args[1])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "graphmetrics: new API token for %s (shown once; send it as Authorization: Bearer TOKEN, or as the password of HTTP Basic with the user name):\n%s\n", args[1], tok)
		return nil
	case args[0] == "token" && len(args) == 3 && args[2] == "-revoke":
		n, err := db.RevokeTokens(ctx, args[1])
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "graphmetrics: revoked %d API tokens of %s\n", n, args[1])
		return nil
	case args[0] == "delete" && len(args) == 2:
		if err := db.DeleteUser(ctx, args[1]); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "graphmetrics: deleted user %s, their pages and their sessions\n", args[1])
		return nil
	}
	return errors.New(userUsage)
}

func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 4096)).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("read password from stdin: no line given")
	}
	pw := strings.TrimRight(line, "\r\n")
	return pw, storage.CheckPassword(pw)
}

func runRenderWorker(stdin io.Reader, stdout io.Writer) error {
	return web.RenderWorkerMain(stdin, stdout)
}
