package web

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"graphmetrics/daemon/daemontest"
	"graphmetrics/store/sampletest"
	"graphmetrics/web/internal/testrrd"
)

// userCLI runs `graphmetrics user -config FILE ...` on a data directory.
type userCLI struct {
	t      *testing.T
	config string
}

func newUserCLI(t *testing.T, dataDir string) *userCLI {
	t.Helper()
	d := daemontest.New(t, dataDir, daemontest.Config(dataDir, ""))
	return &userCLI{t: t, config: d.Config}
}

func (u *userCLI) run(stdin string, args ...string) {
	u.t.Helper()
	cmd := exec.Command(daemontest.Bin(u.t), append([]string{"user", "-config", u.config}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		u.t.Fatalf("graphmetrics user %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// rss is a process's resident set size in bytes.
func rss(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// Row 7: ten exports of 2 million values at once took the daemon, which
// also ingests, from 70 MB to 764 MB. Now an export has at most
// max_export_points values (1,000,000 by default; more is a 413 that names
// the limit), at most max_exports run at once, and ten concurrent maximal
// exports raise the daemon's RSS by less than 150 MB.
func TestAttackExportMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon and moves 10 × 1M values; skipped with -short")
	}
	dir := t.TempDir()
	const rows = 250_000 // × 4 plots = 1,000,000 values
	start := int64(1_700_000_000)
	vals := make([]float64, rows+10)
	for i := range vals {
		vals[i] = float64(i%1000) + 0.125
	}
	if err := testrrd.MakeMetric(filepath.Join(dir, "rrd", "metrics", "big", "series.rrd"), 1, start, vals); err != nil {
		t.Fatal(err)
	}
	d := daemontest.New(t, dir, daemontest.Config(dir, ""))
	d.Start()
	c := d.LogIn("alice", alicePW, true)

	chart := func(plots int) string {
		mc := MetricChart{Title: "big", Controls: Controls{Start: start + 1, End: start + rows, Step: 1, Width: 800, Height: 250}}
		for i := range plots {
			mc.Plots = append(mc.Plots, Plot{Series: []string{"big/series"}, Color: "1f77b4", Line: "LINE1", Legend: fmt.Sprint("p", i)})
		}
		return "http://" + d.Web + "/export/metrics.csv?" + mc.Query().Encode()
	}
	get := func(u string) (int, string, int64, error) {
		resp, err := c.Get(u)
		if err != nil {
			return 0, "", 0, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b), 0, nil
		}
		// Count the rows without keeping them.
		var lines int64
		br := bufio.NewReaderSize(resp.Body, 1<<16)
		for {
			b, err := br.ReadSlice('\n')
			if len(b) > 0 && b[len(b)-1] == '\n' {
				lines++
			}
			if err == io.EOF {
				return resp.StatusCode, "", lines, nil
			}
			if err != nil && err != bufio.ErrBufferFull {
				return resp.StatusCode, "", lines, err
			}
		}
	}

	base := rss(t, d.Pid())
	var (
		peak atomicMax
		wg   sync.WaitGroup
		done = make(chan struct{})
	)
	peak.set(base)
	go func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				peak.set(rss(t, d.Pid()))
			}
		}
	}()
	// The row as it was: ten exports of 2 million values at once. Each is
	// refused before any work, naming the limit.
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body, _, err := get(chart(8))
			if err != nil || code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "max_export_points") ||
				!strings.Contains(body, "1000000") {
				t.Errorf("export of 2M values: %v %d %q", err, code, body)
			}
		}()
	}
	wg.Wait()
	began := time.Now()
	errs := make(chan error, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, body, lines, err := get(chart(4))
			switch {
			case err != nil:
				errs <- err
			case code != http.StatusOK:
				errs <- fmt.Errorf("status %d: %s", code, body)
			case lines < rows:
				errs <- fmt.Errorf("%d lines, want %d rows and a header", lines, rows)
			}
		}()
	}
	wg.Wait()
	close(done)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	grew := peak.get() - base
	t.Logf("10 concurrent exports of 2,000,000 values, then 10 of 1,000,000, in %v: daemon RSS %d MB before, peak %d MB (+%d MB)",
		time.Since(began).Round(time.Millisecond), base>>20, peak.get()>>20, grew>>20)
	if grew >= 150<<20 {
		t.Fatalf("RSS grew by %d MB, want < 150 MB", grew>>20)
	}
}

type atomicMax struct {
	mu sync.Mutex
	v  int64
}

func (m *atomicMax) set(v int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.v = max(m.v, v)
}

func (m *atomicMax) get() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.v
}

// "/healthz without a session answers status only": it showed listener
// addresses, counters and instance counts to anyone.
func TestAttackHealthzWithoutSession(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the daemon; skipped with -short")
	}
	dir := t.TempDir()
	d := daemontest.New(t, dir, daemontest.Config(dir, ""))
	d.Start()
	daemontest.SendPython(t, "udp", d.UDP, "acme app-8080 ", sampletest.Lines(t))

	resp, err := http.Get("http://" + d.Web + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var pub struct {
		OK     *bool             `json:"ok"`
		Detail map[string]string `json:"detail"`
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil || len(keys) != 2 || json.Unmarshal(b, &pub) != nil ||
		pub.OK == nil || pub.Detail["syslog"] != "running" {
		t.Fatalf("public /healthz %d: %s", resp.StatusCode, b)
	}
	for _, secret := range []string{strings.Split(d.UDP, ":")[1], "127.0.0.1", "instances", "lines", "listeners"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("public /healthz shows %q: %s", secret, b)
		}
	}
	// With a session the counters are there.
	code, full := d.Health()
	if code != http.StatusOK || !strings.Contains(string(full), d.UDP[strings.Index(d.UDP, ":"):]) ||
		!strings.Contains(string(full), `"instances":1`) {
		t.Fatalf("/healthz with a session %d: %s", code, full)
	}
	// Health words and status codes agree for the probe and the operator.
	if resp.StatusCode != code {
		t.Fatalf("status %d without a session, %d with", resp.StatusCode, code)
	}
}
