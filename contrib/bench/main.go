// Command bench runs graphmetrics' end-to-end benchmarks (issue 2 "Speed
// and memory", issue 7 "load test against the file hop") against the real
// daemon, on loopback, in a temporary data_dir, and reports a markdown
// table on stdout and JSON in -out. It also runs the demo (-scenario demo).
//
//	go run ./contrib/bench -bin bin/graphmetrics -scenario all -out bench-e2e.json
//	go run ./contrib/bench -bin bin/graphmetrics -scenario filehop -out bench-filehop.json
//	go run ./contrib/bench -bin bin/graphmetrics -scenario relay -out bench-relay.json
//	go run ./contrib/bench -bin bin/graphmetrics -scenario urls -out bench-urls.json
//	go run ./contrib/bench -bin bin/graphmetrics -scenario urlimport -out bench-urlimport.json
//	go run ./contrib/bench -bin bin/graphmetrics -scenario demo
//
// See README.md for what each scenario measures.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// recvBuffer is the UDP receive buffer of every receiver: graphmetrics'
// default.
const recvBuffer = 8 << 20

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bin := fs.String("bin", "bin/graphmetrics", "graphmetrics binary")
	scenario := fs.String("scenario", "all", "udp, tcp, instances, relay, urls, urlimport, filehop, all (= udp,tcp,instances,relay,urls,urlimport) or demo; a comma list is fine")
	urlRate := fs.Float64("url-rate", urlReqRate, "urls: requests/s of the fleet (5 lines each)")
	urlBase := fs.String("urls-base", "", "urls: also measure this graphmetrics binary (a baseline), in turn with -bin")
	importDur := fs.Duration("urlimport-seconds", 150*time.Second, "urlimport: event time of the measured log (-url-rate requests/s)")
	out := fs.String("out", "", "write the results as JSON to this file")
	loadgen := fs.String("loadgen", "", "loadgen binary (default: built from contrib/loadgen)")
	sng := fs.String("syslog-ng", "/usr/sbin/syslog-ng", "syslog-ng binary (filehop)")
	stepDur := fs.Duration("step", 10*time.Second, "duration of one search step")
	budget := fs.Duration("budget", 100*time.Second, "time limit of one rate search")
	runs := fs.Int("runs", 3, "repeated runs where cheap (TCP at the target); the median is reported")
	tries := fs.Int("tries", 2, "a search step that loses lines is tried up to this many times; any lossless try makes the rate lossless")
	quick := fs.Bool("quick", false, "shorter runs, for trying the tool (numbers not for the README)")
	keep := fs.Bool("keep", false, "keep the temporary directory (configs, logs, data)")
	dataDir := fs.String("data", "var/demo", "demo: data_dir")
	web := fs.String("web", "127.0.0.1:8080", "demo: web UI address")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	want, err := scenarios(*scenario)
	if err != nil {
		return err
	}
	if *importDur < 10*time.Second {
		return errors.New("-urlimport-seconds must be at least 10s")
	}
	if *runs < 1 || *tries < 1 || *stepDur < 2*time.Second || *budget < *stepDur {
		return errors.New("-runs and -tries must be ≥ 1, -step ≥ 2s and -budget ≥ -step")
	}
	if _, err := os.Stat(*bin); err != nil {
		return fmt.Errorf("-bin: %w (build it with make build)", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("component", "bench")

	tmp, err := os.MkdirTemp("", "graphmetrics-bench-")
	if err != nil {
		return err
	}
	if *keep {
		log.Info("keeping temporary directory", "dir", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	e := &env{bin: *bin, loadgen: *loadgen, syslogNG: *sng, tmp: tmp, step: *stepDur, budget: *budget,
		runs: *runs, tries: *tries, quick: *quick, urlRate: *urlRate, urlBase: *urlBase, log: log}
	if e.loadgen == "" {
		if e.loadgen, err = buildLoadgen(ctx, tmp); err != nil {
			return err
		}
	}
	if want["demo"] {
		return e.demo(ctx, *dataDir, *web)
	}

	res := newResults(commandLine())
	res.StepSecs = stepDur.Seconds()
	var errs []error
	if want["udp"] {
		res.UDP, err = e.udp(ctx)
		errs = append(errs, wrap("udp", err))
	}
	if want["tcp"] && ctx.Err() == nil {
		res.TCP, err = e.tcp(ctx)
		errs = append(errs, wrap("tcp", err))
	}
	if want["instances"] && ctx.Err() == nil {
		res.Instances, err = e.instances(ctx)
		errs = append(errs, wrap("instances", err))
	}
	if want["relay"] && ctx.Err() == nil {
		res.Relay, err = e.relay(ctx)
		errs = append(errs, wrap("relay", err))
	}
	if want["urls"] && ctx.Err() == nil {
		res.URLs, err = e.urls(ctx)
		errs = append(errs, wrap("urls", err))
	}
	if want["urlimport"] && ctx.Err() == nil {
		res.URLImport, err = e.urlImport(ctx, urlInstances, *importDur)
		errs = append(errs, wrap("urlimport", err))
	}
	if want["filehop"] && ctx.Err() == nil {
		res.Filehop, err = e.filehop(ctx)
		errs = append(errs, wrap("filehop", err))
	}
	res.Finished, res.LoadEnd = time.Now(), loadavg()
	res.markdown(stdout)
	if *out != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err == nil {
			err = os.WriteFile(*out, append(b, '\n'), 0o644)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func scenarios(s string) (map[string]bool, error) {
	want := map[string]bool{}
	for _, n := range strings.Split(s, ",") {
		switch n = strings.TrimSpace(n); n {
		case "all":
			want["udp"], want["tcp"], want["instances"], want["relay"], want["urls"] = true, true, true, true, true
			want["urlimport"] = true
		case "udp", "tcp", "instances", "relay", "urls", "urlimport", "filehop", "demo":
			want[n] = true
		default:
			return nil, fmt.Errorf("-scenario %q: want udp, tcp, instances, relay, urls, urlimport, filehop, all or demo", n)
		}
	}
	if want["demo"] && len(want) > 1 {
		return nil, errors.New("-scenario demo runs alone")
	}
	return want, nil
}

func wrap(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", name, err)
}

// commandLine is how this run was started, for the report.
func commandLine() string {
	args := os.Args[1:]
	prog := "go run ./contrib/bench"
	if exe, err := os.Executable(); err == nil && !strings.Contains(exe, "go-build") {
		prog = filepath.Base(exe)
	}
	q := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \t'\"") {
			a = fmt.Sprintf("%q", a)
		}
		q[i] = a
	}
	return strings.TrimSpace(prog + " " + strings.Join(q, " "))
}
