package web

import (
	"context"
	"encoding/json"
	"math"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chromedp/chromedp"

	"graphmetrics/daemon/daemontest"
	"graphmetrics/parser/testwait"
)

// liveRow is a request of a live page's JSON.
type liveRow struct {
	Instance, RID, Method, URL, State string
	Started                           float64
	AgeS                              float64 `json:"age_s"`
}

type liveDoc struct {
	Instance string
	Now      float64
	Requests []liveRow
}

// The live page through the real daemon over syslog, in Chromium: a hung
// request shows within 5 s of hung_after, stops being hung when its A
// arrives and leaves with its E; hostile URLs are escaped and bounded.
func TestBrowserLiveHung(t *testing.T) {
	ctx := browser(t)
	dataDir := t.TempDir()
	const hungAfter = 3 * time.Second
	cfg := strings.Replace(daemontest.Config(dataDir, ""), `lateness = "2s"`, `lateness = "2s"
hung_after = "3s"`, 1)
	d := daemontest.New(t, dataDir, cfg)
	d.AddUser("alice", alicePW)
	d.Start()
	base := "http://" + d.Web
	ts := func() string { return time.Now().UTC().Format("2006-01-02 15:04:05.000000") }
	send := func(lines ...string) {
		t.Helper()
		daemontest.SendPython(t, "udp", d.UDP, "acme app-8080 ", lines)
	}
	// A first request makes the instance's file, so the tree knows it.
	send("B w "+ts()+" GET /warm", "A w "+ts()+" 200 1", "E w "+ts())
	file := filepath.Join(dataDir, "rrd", "tracelog", "127.0.0.1", "acme", "app-8080.rrd")
	testwait.For(t, 20*time.Second, file, func() bool { _, err := rrdLast(file); return err == nil })

	login(t, ctx, base, "alice", alicePW, "/u/alice/")
	page := "/live/127.0.0.1/acme/app-8080"
	navigate(t, ctx, base+page)

	// A slow request with HTML in its URL, and a hostile one sent raw:
	// 60 KiB, invalid UTF-8, control characters, markup.
	send("B h1 "+ts()+" GET /slow/<script>alert(1)</script>?q=1", "I h1 "+ts()+" 0")
	hostile := "B bad " + ts() + " POST /x\xff\xfe\x01\x1b[31m<img src=x onerror=alert(2)>" + strings.Repeat("y", 60<<10)
	conn, err := net.Dial("udp", d.UDP)
	must(t, err, "dial")
	_, err = conn.Write([]byte("<134>acme app-8080 " + hostile))
	must(t, err, "send hostile line")
	conn.Close()
	send("C h1 " + ts())
	started := time.Now()

	// The page reloads itself: look until a hung row is there.
	waitPage(t, ctx, hungAfter+5*time.Second, "a hung row", `document.querySelectorAll("tr.hung").length == 1`)
	if el := time.Since(started); el > hungAfter+5*time.Second {
		t.Errorf("hung row after %v, want within %v", el, hungAfter+5*time.Second)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("table.live script, table.live img").length`); n != 0 {
		t.Errorf("markup from a URL became %d elements", n)
	}
	if got := eval[string](t, ctx, `document.querySelector("tr.hung td.url").textContent`); got != "/slow/<script>alert(1)</script>?q=1" {
		t.Errorf("hung row's URL %q", got)
	}
	doc := fetchLive(t, ctx, page+".json")
	if doc.Instance != "127.0.0.1/acme/app-8080" || len(doc.Requests) != 2 {
		t.Fatalf("json %+v", doc)
	}
	for _, r := range doc.Requests {
		if !utf8.ValidString(r.URL) || len(r.URL) > 2048 {
			t.Errorf("request %s: url of %d bytes, valid UTF-8 %v", r.RID, len(r.URL), utf8.ValidString(r.URL))
		}
	}
	h := doc.Requests[1] // oldest first: "bad" began before h1's C but after its B
	if h.RID != "h1" {
		h = doc.Requests[0]
	}
	if h.RID != "h1" || h.State != "running" || h.Method != "GET" || h.AgeS < hungAfter.Seconds() ||
		math.Abs(doc.Now-h.Started-h.AgeS) > 1e-3 {
		t.Errorf("hung request %+v (now %.6f)", h, doc.Now)
	}
	pool := fetchLive(t, ctx, "/live/pool/acme/app-instances.json")
	if len(pool.Requests) != 2 || pool.Requests[0].Instance != "app-8080 on 127.0.0.1" {
		t.Errorf("pool json %+v", pool)
	}

	aTime := time.Now().Unix()
	send("A h1 " + ts() + " 200 5")
	waitPage(t, ctx, 5*time.Second, "the hung row gone after its A",
		`document.querySelectorAll("tr.hung").length == 0 && document.querySelectorAll("tr.output").length == 1`)
	send("E h1 "+ts(), "E bad "+ts())
	waitPage(t, ctx, 5*time.Second, "no request left", `document.querySelectorAll("td.none").length == 1`)
	screenshot(t, ctx, "live")

	// The hung level is in the instance's file: 1 for the seconds h1 ran
	// longer than hung_after, never more.
	testwait.For(t, 20*time.Second, "the A's second in "+file, func() bool {
		last, err := rrdLast(file)
		return err == nil && last > aTime+1
	})
	out, err := exec.Command("rrdtool", "fetch", file, "AVERAGE", "-r", "1",
		"-s", strconv.FormatInt(started.Unix()-5, 10), "-e", strconv.FormatInt(aTime+1, 10)).Output()
	must(t, err, "rrdtool fetch")
	hungSecs := 0
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) != 9 || !strings.HasSuffix(f[0], ":") {
			continue
		}
		v, err := strconv.ParseFloat(f[8], 64)
		if err != nil || v > 1 {
			t.Errorf("hung %q in %q", f[8], line)
		}
		if v == 1 {
			hungSecs++
		}
	}
	// h1 ran from its C to its A, at least hung_after + the wait above.
	if want := int(aTime - started.Unix() - int64(hungAfter/time.Second)); hungSecs < want-1 || hungSecs > want+1 {
		t.Errorf("%d seconds with hung = 1, want %d ± 1:\n%s", hungSecs, want, out)
	}
}

// waitPage evaluates cond on the (self-reloading) page until it holds.
func waitPage(t *testing.T, ctx context.Context, timeout time.Duration, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s (last error %v)", timeout, what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func fetchLive(t *testing.T, ctx context.Context, path string) liveDoc {
	t.Helper()
	s := eval[string](t, ctx, `fetch(`+jsString(path)+`).then(r => r.text())`)
	var doc liveDoc
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		t.Fatalf("%s: %v: %.300s", path, err, s)
	}
	return doc
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
