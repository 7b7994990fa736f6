// Command graphmetrics turns Zope request trace logs and generic metric
// records into RRD time series and serves graphs of them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	// The zone database is the one built into the binary whenever the
	// machine has none (time.LoadLocation tries the system's first, and
	// uses the embedded copy for any zone the system lacks), so tracelog
	// times read the same on a minimal container.
	_ "time/tzdata"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "graphmetrics:", err)
		os.Exit(1)
	}
}
