package web

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"graphmetrics/web/internal/testrrd"
)

// The benchmarks measure the targets through the real HTTP server,
// session and render workers:
//
//	go test ./web/ -run '^$' -bench . -benchtime 1x
//
// and report medians as custom metrics.

const benchEnd = 1700000000 // a fixed day, so images are comparable

// benchEnv is a server over n instances (b1..bn of customer bench on host
// hb), each with one day of one-second data.
func benchEnv(b *testing.B, n int, o Options) (*env, *client) {
	b.Helper()
	e := newEnv(b, o)
	first := rrdFile(e.dir, "hb", "bench", "b1")
	if err := testrrd.Make(first, testrrd.Synthetic(benchEnd-86400, 86400, 1)); err != nil {
		b.Fatal(err)
	}
	for i := 2; i <= n; i++ {
		if out, err := exec.Command("cp", first, rrdFile(e.dir, "hb", "bench", "b"+strconv.Itoa(i))).CombinedOutput(); err != nil {
			b.Fatalf("cp: %v %s", err, out)
		}
	}
	return e, e.loggedIn("alice", alicePW)
}

func dayChart(instance string, w, h int) string {
	return fmt.Sprintf("/graph/tracelog.png?customer=bench&host=hb&instance=%s&start=%d&end=%d&w=%d&h=%d",
		instance, benchEnd-86400, benchEnd, w, h)
}

// fetch gets an image, failing on anything but a good chart.
func fetch(b testing.TB, c *http.Client, url string) {
	r, err := c.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	_, err = io.Copy(io.Discard, r.Body)
	r.Body.Close()
	if err != nil || r.StatusCode != 200 || r.Header.Get("X-Graph-Error") != "" {
		b.Fatalf("GET %s: %v %d %s", url, err, r.StatusCode, r.Header.Get("X-Graph-Error"))
	}
}

func median(ds []time.Duration) float64 {
	slices.Sort(ds)
	return float64(ds[len(ds)/2]) / float64(time.Millisecond)
}

// BenchmarkChartDay: one instance, one day, 800×250; target median ≤ 60 ms.
func BenchmarkChartDay(b *testing.B) {
	e, c := benchEnv(b, 1, Options{})
	url := e.base + dayChart("b1", 800, 250)
	fetch(b, c.c, url)
	var ds []time.Duration
	for b.Loop() {
		for range 50 {
			t := time.Now()
			fetch(b, c.c, url)
			ds = append(ds, time.Since(t))
		}
	}
	b.ReportMetric(median(ds), "ms-median")
	b.ReportMetric(float64(slices.Max(ds))/1e6, "ms-max")
}

// BenchmarkPage12: the 12 one-day charts of a page, fetched as a browser
// does (6 connections); target: all within 1.5 s.
func BenchmarkPage12(b *testing.B) {
	e, c := benchEnv(b, 12, Options{})
	var ds []time.Duration
	page := func() time.Duration {
		t := time.Now()
		urls := make(chan string, 12)
		for i := 1; i <= 12; i++ {
			urls <- e.base + dayChart("b"+strconv.Itoa(i), 800, 250)
		}
		close(urls)
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				for u := range urls {
					fetch(b, c.c, u)
				}
			})
		}
		wg.Wait()
		return time.Since(t)
	}
	page()
	for b.Loop() {
		for range 10 {
			ds = append(ds, page())
		}
	}
	b.ReportMetric(median(ds), "ms-median-page")
	b.ReportMetric(float64(slices.Max(ds))/1e6, "ms-max-page")
}

// BenchmarkWorkerScaling: renders per second with one worker and with two,
// four requests at a time; target: two ≥ 1.6× one. Rounds alternate
// between the two servers and medians are reported, so load from other
// programs on the machine hits both alike.
func BenchmarkWorkerScaling(b *testing.B) {
	type server struct {
		url string
		c   *client
	}
	var servers [2]server
	for i := range servers {
		e, c := benchEnv(b, 1, Options{RenderWorkers: i + 1})
		servers[i] = server{e.base + dayChart("b1", 800, 250), c}
		fetch(b, c.c, servers[i].url)
	}
	rate := func(s server) float64 {
		const n = 60
		jobs := make(chan int, n)
		for i := range n {
			jobs <- i
		}
		close(jobs)
		t := time.Now()
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range jobs {
					fetch(b, s.c.c, s.url)
				}
			})
		}
		wg.Wait()
		return n / time.Since(t).Seconds()
	}
	var one, two []float64
	for b.Loop() {
		for range 5 {
			one = append(one, rate(servers[0]))
			two = append(two, rate(servers[1]))
		}
	}
	slices.Sort(one)
	slices.Sort(two)
	b.ReportMetric(one[len(one)/2], "renders/s-1worker")
	b.ReportMetric(two[len(two)/2], "renders/s-2workers")
	b.ReportMetric(two[len(two)/2]/one[len(one)/2], "speedup")
}

// BenchmarkMemory10k: RSS of the server and its workers before and after
// 10,000 renders; target growth < 20 MB. Workers are replaced every 500
// renders (the default), which returns what librrd leaks.
func BenchmarkMemory10k(b *testing.B) {
	e, c := benchEnv(b, 1, Options{})
	url := e.base + fmt.Sprintf("/graph/tracelog.png?customer=bench&host=hb&instance=b1&start=%d&end=%d&w=400&h=150", benchEnd-3600, benchEnd)
	render := func(n int) {
		jobs := make(chan int, n)
		for i := range n {
			jobs <- i
		}
		close(jobs)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range jobs {
					fetch(b, c.c, url)
				}
			})
		}
		wg.Wait()
	}
	for b.Loop() {
		render(1000) // warm up: pools, caches, first worker replacements
		before := rssKB(b)
		render(10000)
		after := rssKB(b)
		b.ReportMetric(float64(after-before)/1024, "MB-growth")
		b.ReportMetric(float64(before)/1024, "MB-before")
	}
}

// rssKB is the resident memory of this process and its children (the
// render workers), in KB.
func rssKB(b testing.TB) int64 {
	self := os.Getpid()
	total := statusKB(b, self)
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		stat, err := os.ReadFile(d + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so cut at ')'.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(f) > 1 && f[1] == strconv.Itoa(self) {
			pid, _ := strconv.Atoi(filepath.Base(d))
			total += statusKB(b, pid)
		}
	}
	return total
}

func statusKB(b testing.TB, pid int) int64 {
	s, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0 // exited meanwhile
	}
	for _, line := range strings.Split(string(s), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
