// Package kinesalitetest runs kinesalite, a local Kinesis-compatible
// server (contrib/kinesalite, pinned and installed by `make deps`), for
// tests: on a free loopback port, with a producer client and helpers to
// make streams, put CIMAA-format records and split shards. The Kinesis
// worker's tests, the web browser test and the daemon's end-to-end tests
// share this one copy.
package kinesalitetest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
)

// Region is the region the producer client and AWSEnv name.
const Region = "us-east-1"

// Server is a running kinesalite with a producer client.
type Server struct {
	URL    string // http://127.0.0.1:PORT
	Client *kinesis.Client
	pid    int
}

// Start runs kinesalite until the test ends. A missing install is a
// failure, not a skip: `make deps` (contrib/kinesalite/install.sh) puts it
// in <repo>/.deps/kinesalite.
func Start(t testing.TB) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("end to end (kinesalite): skipped with -short")
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, ".deps", "kinesalite", "node_modules", "kinesalite", "index.js")); err != nil {
		t.Fatalf("kinesalite is not installed: run contrib/kinesalite/install.sh (make deps): %v", err)
	}
	// No waits in CREATING/UPDATING states; room for reshard tests.
	cmd := exec.Command("node", filepath.Join(root, "contrib", "kinesalite", "run.js"),
		"--createStreamMs", "0", "--deleteStreamMs", "0", "--updateStreamMs", "0", "--shardLimit", "50",
		"--exit-on-stdin-close")
	cmd.Stderr = os.Stderr
	// The server exits when this pipe closes, so a test binary that is
	// killed does not leave it running.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start kinesalite: %v", err)
	}
	t.Cleanup(func() {
		stdin.Close() // also keeps the pipe referenced (a collected one would close)
		cmd.Process.Kill()
		cmd.Wait()
	})
	port := make(chan string, 1)
	go func() {
		r := bufio.NewReader(out)
		line, _ := r.ReadString('\n')
		port <- strings.TrimSpace(line)
		io.Copy(io.Discard, r) // never let the server block on a full pipe
	}()
	var p string
	select {
	case p = <-port:
	case <-time.After(20 * time.Second):
		t.Fatal("kinesalite did not report its port")
	}
	if p == "" {
		t.Fatal("kinesalite exited without a port")
	}
	s := &Server{URL: "http://127.0.0.1:" + p, pid: cmd.Process.Pid}
	s.Client = kinesis.New(kinesis.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	return s
}

// repoRoot is the first directory up from the working directory (a
// test's package folder) that holds contrib/kinesalite/run.js.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "contrib", "kinesalite", "run.js")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("kinesalitetest: no contrib/kinesalite/run.js above the working directory")
		}
		dir = up
	}
}

// AWSEnv is the environment a client on the standard AWS configuration
// chain (the daemon's) needs to reach kinesalite: dummy keys, the region,
// and nothing from this machine's files or metadata service. Give it to a
// child process; SetAWSEnv sets it for the test's own process.
func AWSEnv(t testing.TB) []string {
	none := filepath.Join(t.TempDir(), "none")
	return []string{
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=" + Region,
		"AWS_CONFIG_FILE=" + none, "AWS_SHARED_CREDENTIALS_FILE=" + none, "AWS_EC2_METADATA_DISABLED=true",
	}
}

// SetAWSEnv sets AWSEnv with t.Setenv (restored when the test ends), for
// in-process clients and for children that inherit the environment.
func SetAWSEnv(t testing.TB) {
	for _, kv := range AWSEnv(t) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// CPU is the CPU time the server has used (user + system), from /proc:
// benchmarks use it to tell whether the single-threaded emulator is the
// bottleneck.
func (s *Server) CPU(t testing.TB) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name (which is in parentheses): utime and
	// stime are the 12th and 13th, in clock ticks (100 per second).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	var ut, st int64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return time.Duration(ut+st) * 10 * time.Millisecond
}
