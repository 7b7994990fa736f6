package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// valueFlags are the flags of any command that take a value, so that the
// command word can be found among flags given before it.
var valueFlags = map[string]bool{"config": true, "customer": true, "instance": true, "host": true}

// splitCommand finds the command word: the first argument that is neither
// a flag nor a flag's value. The flags around it are returned together,
// so they may come before the command, after it, or both
// ("graphmetrics -config X user add eve"). No command word is "".
func splitCommand(args []string) (cmd string, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			return a, append(args[:i:i], args[i+1:]...)
		}
		name := strings.TrimLeft(a, "-")
		if valueFlags[name] { // not -name=value
			i++ // its value
		}
	}
	return "", args
}

// parseArgs parses flags anywhere among args (before, between and after
// the positional arguments; "--" ends the flags) and returns the
// positional arguments.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// noArgs fails, with the usage on stderr, when a command that takes no
// arguments got some.
func noArgs(cmd string, pos []string, stderr io.Writer) error {
	if len(pos) == 0 {
		return nil
	}
	return usageError(stderr, "%s: unexpected argument %q", cmd, pos[0])
}

// usageError prints the usage on stderr and returns the error.
func usageError(stderr io.Writer, format string, a ...any) error {
	fmt.Fprint(stderr, usage)
	return fmt.Errorf(format, a...)
}
