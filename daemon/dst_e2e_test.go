package main

import (
	"encoding/json"
	"fmt"
	"graphmetrics/parser/testwait"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Daylight saving time through the real daemon: one request per second
// across each transition, over syslog (Python's SysLogHandler), the
// directory tail and import, with the zone set per source (syslog, tail)
// or as `timezone` (import). Every UTC minute must hold exactly 60
// requests in the 1-minute archive and nothing may be late, also when the
// daemon (or import) is stopped halfway through the second occurrence of
// the repeated hour and started again.

type dstCase struct {
	name, zone string
	from, to   string // UTC, whole minutes: the seconds with a request
	restart    string // UTC: halfway through the second occurrence; "" for spring-forward
}

var dstCases = []dstCase{
	{"NewYork-fall", "America/New_York", "2026-11-01T04:50:00Z", "2026-11-01T07:10:00Z", "2026-11-01T06:30:00Z"},
	{"Berlin-fall", "Europe/Berlin", "2026-10-24T23:50:00Z", "2026-10-25T02:10:00Z", "2026-10-25T01:30:00Z"},
	{"NewYork-spring", "America/New_York", "2026-03-08T06:30:00Z", "2026-03-08T07:30:00Z", ""},
	{"Berlin-spring", "Europe/Berlin", "2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z", ""},
}

func (c dstCase) loc(t *testing.T) *time.Location {
	loc, err := time.LoadLocation(c.zone)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func rfcUnix(s string) int64 {
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return tm.Unix()
}

// records is one request (B A E) per second as a server in the case's zone
// logs it: local wall time, odd seconds in Zope 2's T form, each E behind
// the next second's B (out of order, within the lateness). split is the
// index of the first line of the restart second; the E before it is not
// moved past it (a stopped sender sent it before stopping).
func (c dstCase) records(t *testing.T) (lines []string, split int) {
	loc := c.loc(t)
	var prevE string
	for s := rfcUnix(c.from); s < rfcUnix(c.to); s++ {
		wall := time.Unix(s, 0).In(loc).Format("2006-01-02 15:04:05")
		if s%2 == 1 {
			wall = strings.Replace(wall, " ", "T", 1)
		}
		rid := fmt.Sprint(s % 5)
		if c.restart != "" && s == rfcUnix(c.restart) {
			lines = append(lines, prevE)
			prevE = ""
			split = len(lines)
		}
		lines = append(lines, "B "+rid+" "+wall+" GET /")
		if prevE != "" {
			lines = append(lines, prevE)
		}
		lines = append(lines, "A "+rid+" "+wall+" 200 12")
		prevE = "E " + rid + " " + wall
	}
	return append(lines, prevE), split
}

// gapLines are wall times the spring-forward skipped, for another
// instance, and the seconds time.Date gives them.
func (c dstCase) gapLines(t *testing.T) ([]string, []int64) {
	loc := c.loc(t)
	day := time.Unix(rfcUnix(c.from), 0).In(loc)
	var lines []string
	var secs []int64
	for _, hms := range [][3]int{{2, 0, 0}, {2, 30, 0}, {2, 59, 59}} {
		wall := time.Date(day.Year(), day.Month(), day.Day(), hms[0], hms[1], hms[2], 0, time.UTC)
		lines = append(lines, "A g "+wall.Format("2006-01-02 15:04:05")+" 200 1")
		secs = append(secs, time.Date(wall.Year(), wall.Month(), wall.Day(), hms[0], hms[1], hms[2], 0, loc).Unix())
	}
	return lines, secs
}

// checkMinutes reads the 1-minute archive: the row at M+60 is minute M,
// whose requests must be exactly 60.
func checkMinutes(t *testing.T, file string, c dstCase) {
	t.Helper()
	from, to := rfcUnix(c.from), rfcUnix(c.to)
	rows := rrdFetch(t, file, "AVERAGE", 60, from, to)
	bad := 0
	for m := from; m < to; m += 60 {
		row, ok := rows[m+60]
		got := math.NaN()
		if ok {
			got = row["requests"] * 60
		}
		if math.Abs(got-60) > 1e-6 || math.IsNaN(got) {
			if bad++; bad <= 5 {
				t.Errorf("%s minute %s: %v requests, want 60", c.name, time.Unix(m, 0).UTC().Format("15:04"), got)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d minutes wrong", c.name, bad, (to-from)/60)
	}
}

// checkGap: each skipped wall time counted one request at time.Date's
// reading of it.
func checkGap(t *testing.T, file string, secs []int64) {
	t.Helper()
	for _, s := range secs {
		rows := rrdFetch(t, file, "AVERAGE", 1, s-1, s+1)
		if row, ok := rows[s+1]; !ok || row["requests"] != 1 {
			t.Errorf("skipped wall time at %v: row %v, want 1 request", time.Unix(s, 0).UTC(), row)
		}
	}
}

// waitRecords waits until the input has aggregated n records, then checks
// that none was late or rejected.
func waitRecords(t *testing.T, d *daemon, input string, n int) inputStatus {
	t.Helper()
	testwait.For(t, 60*time.Second, fmt.Sprintf("%d %s records", n, input), func() bool {
		_, h := d.Health()
		return h.Detail.Inputs[input].Aggregator.Records >= uint64(n)
	})
	_, h := d.Health()
	in := h.Detail.Inputs[input]
	if in.Aggregator.Late != 0 || in.Aggregator.Records != uint64(n) {
		t.Errorf("%s: %d records, %d late; want %d, none late", input, in.Aggregator.Records, in.Aggregator.Late, n)
	}
	for r, k := range in.Rejected {
		if k != 0 {
			t.Errorf("%s: %d lines rejected (%s)", input, k, r)
		}
	}
	return in
}

func TestDSTSyslog(t *testing.T) {
	for _, c := range dstCases {
		for _, restart := range []bool{false, true} {
			if restart && c.restart == "" {
				continue
			}
			t.Run(fmt.Sprintf("%s/restart=%v", c.name, restart), func(t *testing.T) {
				dataDir := t.TempDir()
				d := startDaemon(t, dataDir, testConfig(dataDir,
					fmt.Sprintf("[syslog.timezones]\n\"127.0.0.1\" = %q\n", c.zone)))
				lines, split := c.records(t)
				sent := 0
				if restart {
					sendPython(t, "udp", d.UDP, "acme app-8080 ", lines[:split])
					waitRecords(t, d, "syslog", split)
					d.Stop()
					d.Start()
					lines, sent = lines[split:], 0
				}
				sendPython(t, "udp", d.UDP, "acme app-8080 ", lines)
				sent += len(lines)
				if c.restart == "" {
					gap, secs := c.gapLines(t)
					sendPython(t, "udp", d.UDP, "acme gap ", gap)
					sent += len(gap)
					in := waitRecords(t, d, "syslog", sent)
					if in.NonexistentTimes != uint64(len(gap)) {
						t.Errorf("%d nonexistent times counted, want %d", in.NonexistentTimes, len(gap))
					}
					d.Stop()
					checkGap(t, filepath.Join(dataDir, "rrd", "tracelog", "127.0.0.1", "acme", "gap.rrd"), secs)
				} else {
					waitRecords(t, d, "syslog", sent)
					d.Stop()
				}
				checkMinutes(t, filepath.Join(dataDir, "rrd", "tracelog", "127.0.0.1", "acme", "app-8080.rrd"), c)
			})
		}
	}
}

func appendFile(t *testing.T, path string, lines []string, prefix string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(prefix + l + "\n")
	}
	if _, err := f.WriteString(b.String()); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

func TestDSTTail(t *testing.T) {
	for _, c := range dstCases {
		for _, restart := range []string{"", "SIGTERM", "SIGKILL"} {
			if restart != "" && c.restart == "" {
				continue
			}
			t.Run(c.name+"/"+restart, func(t *testing.T) {
				dataDir, logs := t.TempDir(), t.TempDir()
				file := filepath.Join(logs, "trace.log")
				cfg := tailConfig(dataDir, filepath.Join(logs, "*.log")) +
					fmt.Sprintf("[syslog.timezones]\n\"zope1/acme\" = %q\n", c.zone)
				d := startDaemon(t, dataDir, cfg)
				lines, split := c.records(t)
				done := 0
				if restart != "" {
					appendFile(t, file, lines[:split], "zope1 acme app-8080 : ")
					waitRecords(t, d, "tail", split)
					if restart == "SIGTERM" {
						d.Stop()
					} else {
						// Killed once a checkpoint holds every line so far:
						// the saved state's offset is the file's size. (A
						// count of checkpoints can miss it: the tailer saves
						// only when it read something since the last one.)
						size := fileSize(t, file)
						testwait.For(t, 20*time.Second, "a checkpoint of every line", func() bool {
							return tailStateOffset(t, filepath.Join(dataDir, "state", "tail.json"), file) == size
						})
						d.Kill()
					}
					done = split
					d.Start()
				}
				appendFile(t, file, lines[done:], "zope1 acme app-8080 : ")
				want := len(lines) - done
				if restart == "SIGKILL" {
					want = -1 // lines after the last checkpoint are read again
				}
				if c.restart == "" {
					gap, secs := c.gapLines(t)
					appendFile(t, file, gap, "zope1 acme gap : ")
					in := waitRecords(t, d, "tail", want+len(gap))
					if in.NonexistentTimes != uint64(len(gap)) {
						t.Errorf("%d nonexistent times counted, want %d", in.NonexistentTimes, len(gap))
					}
					d.Stop()
					checkGap(t, filepath.Join(dataDir, "rrd", "tracelog", "zope1", "acme", "gap.rrd"), secs)
				} else if want > 0 {
					waitRecords(t, d, "tail", want)
					d.Stop()
				} else {
					rrd := filepath.Join(dataDir, "rrd", "tracelog", "zope1", "acme", "app-8080.rrd")
					testwait.For(t, 60*time.Second, "every line read and written", func() bool {
						_, h := d.Health()
						return rrdLastUpdate(rrd) >= rfcUnix(c.to) && h.Detail.Tail.Lines > 0 &&
							h.Detail.Inputs["tail"].Aggregator.Records == h.Detail.Tail.Lines
					})
					_, h := d.Health()
					if in := h.Detail.Inputs["tail"]; in.Aggregator.Late != 0 {
						t.Errorf("%d late records after the kill", in.Aggregator.Late)
					}
					d.Stop()
				}
				checkMinutes(t, filepath.Join(dataDir, "rrd", "tracelog", "zope1", "acme", "app-8080.rrd"), c)
			})
		}
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// tailStateOffset is the offset that the tailer's saved state holds for
// path; -1 while there is no state or no entry for it.
func tailStateOffset(t *testing.T, state, path string) int64 {
	t.Helper()
	data, err := os.ReadFile(state)
	if err != nil {
		return -1
	}
	var st struct {
		Files []struct {
			Path   string `json:"path"`
			Offset int64  `json:"offset"`
		} `json:"files"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("tail state: %v", err)
	}
	for _, f := range st.Files {
		if f.Path == path {
			return f.Offset
		}
	}
	return -1
}
