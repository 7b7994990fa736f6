package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Demo account, created (or reset) in the demo's own data_dir only.
const (
	demoUser     = "demo"
	demoPassword = "demo-demo"
)

// demo runs graphmetrics on dataDir with the web UI on web, and loadgen's
// demo fleet into it, until ctx is done (Ctrl-C).
func (e *env) demo(ctx context.Context, dataDir, web string) error {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return err
	}
	cfg := fmt.Sprintf(`# written by contrib/bench -scenario demo
data_dir = %q
timezone = "Local"

[syslog]
udp = ["127.0.0.1:0"]
tcp = []

[web]
listen = %q
`, abs, web)
	cfgPath := filepath.Join(abs, "graphmetrics.toml")
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return err
	}
	if err := e.demoAccount(ctx, cfgPath); err != nil {
		return err
	}
	d, err := startDaemon(ctx, daemonOptions{bin: e.bin, dir: abs, config: cfg})
	if err != nil {
		return err
	}
	defer d.kill()

	gen := exec.Command(e.loadgen, "-mode", "demo", "-udp", d.udp, "-timezone", "Local")
	gen.Stdout, gen.Stderr = os.Stderr, os.Stderr
	if err := gen.Start(); err != nil {
		return fmt.Errorf("start loadgen: %w", err)
	}
	genDone := make(chan error, 1)
	go func() { genDone <- gen.Wait() }()
	fmt.Printf("\ngraphmetrics demo: open http://%s/ and log in as %s / %s\n"+
		"40 instances of 3 customers on 4 hosts; graphs appear within a minute. Ctrl-C stops.\n"+
		"data: %s (daemon log: %s)\n\n", d.web, demoUser, demoPassword, abs, d.logPath)

	select {
	case <-ctx.Done():
	case err := <-genDone:
		genDone <- err
	case <-d.exited:
		return fmt.Errorf("graphmetrics exited: %v (log: %s)", d.waitErr, d.logPath)
	}
	_ = gen.Process.Signal(syscall.SIGTERM)
	select {
	case <-genDone:
	case <-time.After(5 * time.Second):
		_ = gen.Process.Kill()
		<-genDone
	}
	_, err = d.stop(time.Minute)
	return err
}

// demoAccount makes sure the demo user exists with the demo password.
func (e *env) demoAccount(ctx context.Context, cfgPath string) error {
	run := func(verb string) (string, error) {
		cmd := exec.CommandContext(ctx, e.bin, "user", "-config", cfgPath, verb, demoUser)
		cmd.Stdin = strings.NewReader(demoPassword + "\n")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("add")
	if err == nil {
		return nil
	}
	if out2, err2 := run("passwd"); err2 != nil {
		return fmt.Errorf("demo account: add: %v: %s; passwd: %v: %s", err, out, err2, out2)
	}
	return nil
}
