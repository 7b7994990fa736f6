package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"graphmetrics/store"
	"graphmetrics/store/urlstore"
)

// The urlimport scenario (issue 12's CPU budget at its full shape, which
// the shared machine cannot pace live over UDP): loadgen writes the urls
// scenario's fleet (2,000 instances, 200 Zipf patterns, 20,000 requests/s)
// in event time into syslog-ng directory files, and `graphmetrics import
// -dir` reads them with [tracelog.urls] max_patterns = 500 and 0, each in a
// fresh data_dir, the two in turn for -runs rounds. A first, shorter log is
// imported before the measured one, unmeasured, so that the measured import
// is not the creation of 2,000 instances' files (as the urls scenario's
// warm-up). The measured log crosses minute boundaries and an hour boundary
// (hour rows are written then). CPU is the import process's user + system
// time from its rusage, per million requests of the measured log.

// urlImportWarm is the event time of the unmeasured first log.
const urlImportWarm = 30 * time.Second

// importRun is one import of the measured log into one data_dir.
type importRun struct {
	Round    int     `json:"round"`
	Off      bool    `json:"urls_off"`
	WarmCPU  float64 `json:"warm_cpu_s"` // the unmeasured first import, files created
	CPU      float64 `json:"cpu_s"`      // user + system of the measured import
	Wall     float64 `json:"wall_s"`
	CPUPerMR float64 `json:"cpu_s_per_mrequest"`
	MaxRSS   uint64  `json:"maxrss"`  // bytes, the measured import's ru_maxrss
	Counted  uint64  `json:"counted"` // requests in the URL table
	Errors   uint64  `json:"errors"`  // of those 5xx
	// Late is the records the import refused as late (its "import done"
	// line): a wall-clock tick of the aggregator can close an instance's
	// seconds while the import is stalled (see the README).
	Late uint64 `json:"late"`
	// AllCounted: the URL table holds every request and 5xx of the log
	// (on), or there is no urls/ (off).
	AllCounted bool `json:"all_counted"`
}

type urlImportResult struct {
	Instances int         `json:"instances"`
	Patterns  int         `json:"patterns"`
	ReqRate   float64     `json:"requests_per_second"`
	Start     time.Time   `json:"start"` // event time of the measured log's first request
	Seconds   float64     `json:"seconds"`
	Log       genSummary  `json:"log"`
	Warm      genSummary  `json:"warm_log"`
	Runs      []importRun `json:"runs"`
	On        float64     `json:"on_cpu_s_per_mrequest"`  // median
	Off       float64     `json:"off_cpu_s_per_mrequest"` // median
	Ratios    []float64   `json:"ratios"`                 // on / off of each round
	Ratio     float64     `json:"cpu_ratio"`              // median of Ratios
	HWMOn     uint64      `json:"maxrss_on"`              // largest of the runs
	HWMOff    uint64      `json:"maxrss_off"`
	Counted   bool        `json:"all_counted"` // every run's AllCounted
	Pass      bool        `json:"pass"`
}

// urlImport measures with the fleet of e.urlRate requests/s over seconds
// of event time from instances instances.
func (e *env) urlImport(ctx context.Context, instances int, seconds time.Duration) (*urlImportResult, error) {
	res := &urlImportResult{Instances: instances, Patterns: urlPatterns, ReqRate: e.urlRate, Seconds: seconds.Seconds()}
	// Minute-aligned, the last fifth to quarter of the log after an hour
	// boundary an hour or more ago (never in the future); the warm-up log
	// ends 2 minutes before, so that a URL table of either range reads only
	// its requests.
	hour := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Hour).Add(time.Hour)
	res.Start = hour.Add(-seconds * 3 / 4).Truncate(time.Minute)
	warmStart := res.Start.Add(-urlImportWarm - 2*time.Minute).Truncate(time.Minute)
	dir := filepath.Join(e.tmp, "urlimport")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	warmLog, mainLog := filepath.Join(dir, "warm.log"), filepath.Join(dir, "fleet.log")
	var err error
	if res.Warm, err = e.fleetFile(ctx, warmLog, instances, warmStart, urlImportWarm, 1); err != nil {
		return nil, err
	}
	if res.Log, err = e.fleetFile(ctx, mainLog, instances, res.Start, seconds, 2); err != nil {
		return nil, err
	}
	e.log.Info("urlimport: logs written", "requests", res.Log.Requests, "lines", res.Log.Sent, "bytes", res.Log.Bytes)
	for round := range e.runs {
		var cpu [2]float64
		for k := range 2 {
			off := (k+round)%2 == 1 // each round starts with the other side
			r, err := e.importSide(ctx, res, filepath.Join(dir, fmt.Sprintf("r%d-off-%v", round, off)), off, warmLog, mainLog)
			if err != nil {
				return nil, err
			}
			r.Round = round + 1
			e.log.Info("urlimport: import", "round", r.Round, "urls_off", off, "cpu_s_per_mrequest", r.CPUPerMR, "maxrss", mb(r.MaxRSS))
			res.Runs = append(res.Runs, r)
			cpu[b2i(off)] = r.CPUPerMR
		}
		res.Ratios = append(res.Ratios, cpu[0]/cpu[1])
	}
	var on, off []float64
	for _, r := range res.Runs {
		if r.Off {
			off, res.HWMOff = append(off, r.CPUPerMR), max(res.HWMOff, r.MaxRSS)
		} else {
			on, res.HWMOn = append(on, r.CPUPerMR), max(res.HWMOn, r.MaxRSS)
		}
	}
	res.On, res.Off, res.Ratio = median(on), median(off), median(res.Ratios)
	res.Counted = true
	for _, r := range res.Runs {
		res.Counted = res.Counted && r.AllCounted
	}
	res.Pass = res.Ratio <= urlCPUTarget
	return res, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// fleetFile runs loadgen -mode file.
func (e *env) fleetFile(ctx context.Context, path string, instances int, start time.Time, d time.Duration, seed int) (genSummary, error) {
	args := []string{"-mode", "file", "-out", path, "-rate", strconv.FormatFloat(5*e.urlRate, 'f', 0, 64),
		"-duration", d.String(), "-instances", strconv.Itoa(instances), "-patterns", strconv.Itoa(urlPatterns),
		"-timezone", "UTC", "-start", start.Format(time.RFC3339), "-seed", strconv.Itoa(seed)}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, e.loadgen, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	var s genSummary
	if err := cmd.Run(); err != nil {
		return s, fmt.Errorf("loadgen %v: %w\n%s", args, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		return s, fmt.Errorf("loadgen summary: %w: %q", err, stdout.String())
	}
	if s.Requests == 0 || s.Sent != 5*s.Requests {
		return s, fmt.Errorf("loadgen wrote %d lines for %d requests", s.Sent, s.Requests)
	}
	return s, nil
}

// importSide imports the warm-up log, then the measured one, into a fresh
// data_dir under dir, checks what the URL statistics hold, and removes the
// data_dir.
func (e *env) importSide(ctx context.Context, res *urlImportResult, dir string, off bool, warmLog, mainLog string) (importRun, error) {
	r := importRun{Off: off}
	dataDir := filepath.Join(dir, "data")
	cfg := benchConfig(dataDir, false, false, "new_instances_per_minute = 10000\n")
	if off {
		cfg += "\n[tracelog.urls]\nmax_patterns = 0\n"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, err
	}
	defer os.RemoveAll(dataDir) // the config and the import logs stay (-keep)
	cfgPath := filepath.Join(dir, "graphmetrics.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return r, err
	}
	warm, _, err := e.runImport(ctx, cfgPath, filepath.Join(dir, "warm.log"), warmLog)
	if err != nil {
		return r, err
	}
	r.WarmCPU = cpuOf(warm)
	t0 := time.Now()
	st, late, err := e.runImport(ctx, cfgPath, filepath.Join(dir, "import.log"), mainLog)
	if err != nil {
		return r, err
	}
	r.Late = late
	r.Wall = time.Since(t0).Seconds()
	r.CPU = cpuOf(st)
	r.CPUPerMR = r.CPU / (float64(res.Log.Requests) / 1e6)
	if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
		r.MaxRSS = uint64(ru.Maxrss) << 10 // kB on Linux
	}
	if off {
		if _, err := os.Stat(filepath.Join(dataDir, "urls")); !os.IsNotExist(err) {
			return r, fmt.Errorf("URL statistics off, yet %s/urls: %v", dataDir, err)
		}
		r.AllCounted = true
		return r, nil
	}
	from := res.Start.Unix()
	until := from + int64(res.Log.TotalSeconds) + 120
	r.Counted, r.Errors, err = urlTotals(dataDir, res.Instances, from, until)
	if err != nil {
		return r, err
	}
	r.AllCounted = r.Counted == res.Log.Requests && r.Errors == res.Log.Errors
	if !r.AllCounted {
		// Reported, not fatal: the CPU numbers stand, the row says MISS.
		e.log.Warn("urlimport: the URL table misses requests of the log", "counted", r.Counted, "errors", r.Errors,
			"log_requests", res.Log.Requests, "log_errors", res.Log.Errors, "late_records", r.Late)
	}
	return r, nil
}

// importDoneRE reads the late records from the import's last log line.
var importDoneRE = regexp.MustCompile(`msg="import done" .* late=(\d+) `)

// runImport runs graphmetrics import -dir on one file, its log in logPath,
// and returns its process state and the records it refused as late.
func (e *env) runImport(ctx context.Context, cfgPath, logPath, file string) (*os.ProcessState, uint64, error) {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, e.bin, "import", "-config", cfgPath, "-dir", file)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if werr := os.WriteFile(logPath, out.Bytes(), 0o644); err == nil {
		err = werr
	}
	if err != nil {
		return nil, 0, fmt.Errorf("graphmetrics import %s: %w\n%s", file, err, tail(logPath, 2000))
	}
	m := importDoneRE.FindSubmatch(out.Bytes())
	if m == nil {
		return nil, 0, fmt.Errorf("graphmetrics import %s: no \"import done\" line\n%s", file, tail(logPath, 2000))
	}
	late, _ := strconv.ParseUint(string(m[1]), 10, 64)
	return cmd.ProcessState, late, nil
}

func cpuOf(st *os.ProcessState) float64 { return (st.UserTime() + st.SystemTime()).Seconds() }

// urlTotals sums the URL table of [from, until) over every instance with
// URL statistics, which must be want instances.
func urlTotals(dataDir string, want int, from, until int64) (count, errs uint64, err error) {
	dirs, err := filepath.Glob(filepath.Join(urlstore.Root(dataDir), "*", "*", "*"))
	if err != nil {
		return 0, 0, err
	}
	var keys []store.Key
	for _, d := range dirs {
		h, ok1 := store.UnescapeElem(filepath.Base(filepath.Dir(filepath.Dir(d))))
		c, ok2 := store.UnescapeElem(filepath.Base(filepath.Dir(d)))
		i, ok3 := store.UnescapeElem(filepath.Base(d))
		if !ok1 || !ok2 || !ok3 {
			return 0, 0, fmt.Errorf("instance directory %s", d)
		}
		keys = append(keys, store.Key{Host: h, Customer: c, Instance: i})
	}
	if len(keys) != want {
		return 0, 0, fmt.Errorf("%d instances with URL statistics, want %d", len(keys), want)
	}
	rows, err := urlstore.Table(dataDir, keys, from, until)
	if err != nil {
		return 0, 0, err
	}
	for _, r := range rows {
		count += r.Count
		errs += r.Errors
	}
	if len(rows) == 0 {
		return 0, 0, errors.New("empty URL table")
	}
	return count, errs, nil
}

func (u *urlImportResult) rows(row func(sc, m, res, target, ok string)) {
	sc := fmt.Sprintf("URL stats via import, %s instances × %d patterns", num(float64(u.Instances)), u.Patterns)
	row(sc, fmt.Sprintf("log: %s req/s for %.0f s of event time from %s", num(u.ReqRate), u.Seconds, u.Start.Format("15:04 MST")),
		fmt.Sprintf("%s requests, %s lines, %s", num(float64(u.Log.Requests)), num(float64(u.Log.Sent)), mb(u.Log.Bytes)), "", "")
	row(sc, "every request and 5xx of the log in each \"on\" URL table, no urls/ when off", fmt.Sprint(u.Counted), "true", verdict(u.Counted))
	row(sc, fmt.Sprintf("import CPU-s per million requests, on vs off, median of %d", len(u.Ratios)),
		fmt.Sprintf("%.2f vs %.2f", u.On, u.Off), "", "")
	row(sc, "CPU per request, on / off (median of the rounds)", fmt.Sprintf("%.2f×", u.Ratio), fmt.Sprintf("≤ %.2f×", urlCPUTarget), verdict(u.Pass))
	row(sc, "import maxrss, on vs off", fmt.Sprintf("%s vs %s", mb(u.HWMOn), mb(u.HWMOff)), "", "")
}

// table lists the imports in order.
func (u *urlImportResult) table(w io.Writer) {
	fmt.Fprintf(w, "\n### Imports (urlimport)\n\n")
	fmt.Fprintln(w, "| round | URL statistics | warm-up import CPU-s | CPU-s | wall s | CPU-s per million requests | maxrss | requests counted | late records |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range u.Runs {
		side, counted := "on", num(float64(r.Counted))
		if r.Off {
			side, counted = "off", "(no urls/)"
		}
		fmt.Fprintf(w, "| %d | %s | %.1f | %.1f | %.1f | %.2f | %s | %s | %d |\n", r.Round, side, r.WarmCPU, r.CPU, r.Wall, r.CPUPerMR, mb(r.MaxRSS), counted, r.Late)
	}
}
