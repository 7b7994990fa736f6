package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"graphmetrics/daemon/config"
	"graphmetrics/etc"
)

const usage = `usage: graphmetrics [-config FILE]             run the daemon
       graphmetrics check-config [-config FILE]
       graphmetrics print-config                 the defaults as TOML
       graphmetrics import [-config FILE] -customer C -instance I [-host H] FILE...
       graphmetrics import [-config FILE] -dir FILE...   (syslog-ng directory files)
       graphmetrics import-legacy [-config FILE] DIR...  (the original's <host>__<customer>__<instance>.rrd files; runs inside a running daemon)
       graphmetrics user add|passwd|list|delete [NAME]  (password on stdin)
       graphmetrics user token NAME [-revoke]     (prints a new Graphite API token, last line)

Flags may come before or after the command. Without -config,
etc/graphmetrics.toml is read if it exists, else the embedded default (the
same file).
`

// Run is the whole program; main only maps its error to an exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd, args := splitCommand(args)
	switch cmd {
	case "", "run":
		fs, cfgPath := newFlags("graphmetrics", stderr)
		pos, err := parseArgs(fs, args)
		if err != nil {
			return err
		}
		if err := noArgs("graphmetrics", pos, stderr); err != nil {
			return err
		}
		cfg, err := loadConfig(*cfgPath)
		if err != nil {
			return err
		}
		return runDaemon(ctx, cfg, newLogger(stderr, cfg.LogLevel), stdout)
	case "check-config":
		fs, cfgPath := newFlags("check-config", stderr)
		pos, err := parseArgs(fs, args)
		if err != nil {
			return err
		}
		if err := noArgs(cmd, pos, stderr); err != nil {
			return err
		}
		if _, err := loadConfig(*cfgPath); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "config ok")
		return nil
	case "print-config":
		fs, _ := newFlags(cmd, stderr) // -config is accepted and not needed
		pos, err := parseArgs(fs, args)
		if err != nil {
			return err
		}
		if err := noArgs(cmd, pos, stderr); err != nil {
			return err
		}
		out, err := config.Default().TOML()
		if err != nil {
			return err
		}
		_, err = stdout.Write(out)
		return err
	case "import":
		return runImport(ctx, args, stderr)
	case "import-legacy":
		return runImportLegacy(ctx, args, stderr)
	case "user":
		return runUser(ctx, args, stdin, stdout, stderr)
	case "render-worker":
		if len(args) > 0 {
			return usageError(stderr, "render-worker: unexpected argument %q", args[0])
		}
		return runRenderWorker(stdin, stdout)
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		return usageError(stderr, "unknown command %q", cmd)
	}
}

func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	return fs, fs.String("config", "", "config file (default etc/graphmetrics.toml, else the embedded default)")
}

// loadConfig reads path; with no path, etc/graphmetrics.toml if present,
// else the embedded copy of it.
func loadConfig(path string) (config.Config, error) {
	if path != "" {
		return config.Load(path)
	}
	const local = "etc/graphmetrics.toml"
	if _, err := os.Stat(local); err == nil {
		return config.Load(local)
	} else if !errors.Is(err, os.ErrNotExist) {
		return config.Config{}, err
	}
	return config.Parse("embedded etc/graphmetrics.toml", etc.DefaultConfig)
}

func newLogger(w io.Writer, level config.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level.Level}))
}
