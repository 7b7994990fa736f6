package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// results is everything a run measured; it is written as JSON to -out and
// as markdown to stdout.
type results struct {
	Command   string           `json:"command"`
	Started   time.Time        `json:"started"`
	Finished  time.Time        `json:"finished"`
	CPUs      int              `json:"cpus"`
	LoadStart string           `json:"loadavg_start"`
	LoadEnd   string           `json:"loadavg_end"`
	StepSecs  float64          `json:"step_seconds"`
	UDP       *udpResult       `json:"udp,omitempty"`
	TCP       *tcpResult       `json:"tcp,omitempty"`
	Instances *instancesResult `json:"instances,omitempty"`
	Relay     *relayResult     `json:"relay,omitempty"`
	URLs      *urlsResult      `json:"urls,omitempty"`
	URLImport *urlImportResult `json:"url_import,omitempty"`
	Filehop   *filehopResult   `json:"filehop,omitempty"`
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func newResults(cmd string) *results {
	return &results{Command: cmd, Started: time.Now(), CPUs: runtime.NumCPU(), LoadStart: loadavg()}
}

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "**MISS**"
}

func mb(b uint64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }

// searchText sums up a search: the highest lossless rate and what bounded
// it.
func searchText(s search) string {
	t := num(s.MaxLossless) + " lines/s"
	if s.BestAchieved > 0 {
		t += fmt.Sprintf(" (achieved %s/s)", num(s.BestAchieved))
	}
	switch s.LimitedBy {
	case "loss":
		for _, st := range s.Steps {
			if st.Requested == s.FirstBad {
				t += fmt.Sprintf("; %s/s lost %.2f%%", num(st.Requested), 100*float64(st.Lost)/float64(max(st.Sent, 1)))
				break
			}
		}
	case "sender":
		t += fmt.Sprintf("; at %s/s the sender fell short (nothing lost)", num(s.FirstBad))
	case "budget", "cap":
		t += fmt.Sprintf("; search stopped by its %s, no loss found", s.LimitedBy)
	}
	return t
}

func (r *results) markdown(w io.Writer) {
	fmt.Fprintf(w, "## graphmetrics end-to-end benchmark\n\n")
	fmt.Fprintf(w, "Command: `%s`  \n", r.Command)
	fmt.Fprintf(w, "Run: %s, %.0f min, %d CPUs, load average %s at start and %s at end.\n",
		r.Started.Format(time.RFC3339), r.Finished.Sub(r.Started).Minutes(), r.CPUs, r.LoadStart, r.LoadEnd)
	fmt.Fprintf(w, "Sender, receivers and other users share the machine's CPUs: the numbers are noisy, and loss at high\n"+
		"rates may come from a neighbour's burst as well as from the receiver. Search steps last %.0f s; loss is\n"+
		"lines sent minus lines counted by the receiver.\n\n", r.StepSecs)
	fmt.Fprintln(w, "| scenario | measure | result | target | |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	row := func(sc, m, res, target, ok string) {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", sc, m, res, target, ok)
	}
	if u := r.UDP; u != nil {
		t := u.Target
		res := fmt.Sprintf("%s lost of %s (achieved %s/s, kernel drops %d)", num(float64(t.Lost)), num(float64(t.Sent)), num(t.Achieved), t.KernelDrops)
		if n := len(u.TargetRuns); n > 1 {
			res += fmt.Sprintf(" on try %d; before:", n)
			for _, p := range u.TargetRuns[:n-1] {
				res += fmt.Sprintf(" %s lost", num(float64(p.Lost)))
			}
		}
		row("UDP", fmt.Sprintf("%s lines/s for %.0f s from %d instances", num(t.Requested), t.Seconds, t.Instances),
			res, "zero loss", verdict(u.TargetPass))
		row("UDP", "highest lossless rate, graphmetrics", searchText(u.Daemon), "", "")
		row("UDP", "highest lossless rate, bare Go reader (ReadFromUDP loop)", searchText(u.Bare), "", "")
		row("UDP", "graphmetrics / bare reader", fmt.Sprintf("%.2f", u.Ratio), "report", "")
		row("UDP", "graphmetrics RSS after the searches", fmt.Sprintf("%s (peak %s)", mb(u.Memory.RSS), mb(u.Memory.HWM)), "", "")
	}
	if t := r.TCP; t != nil {
		row("TCP", fmt.Sprintf("lines/s over 1 connection (NUL framing), median of %d × %.0f s", len(t.Runs), r.StepSecs),
			fmt.Sprintf("%s/s, all counted: %v", num(t.MedianAchieved), t.AllCounted), "≥ 200,000", verdict(t.Pass))
		row("TCP", "highest sustained rate, graphmetrics", searchText(t.Daemon), "", "")
		row("TCP", "same sender into a bare TCP reader", searchText(t.Bare), "", "")
	}
	if in := r.Instances; in != nil {
		sc := fmt.Sprintf("%s instances", num(float64(in.Instances)))
		row(sc, fmt.Sprintf("%.0f req/s each (%s lines/s) for %.0f s; window %.0f s", in.ReqPerSec, num(in.Rate), in.Seconds, in.Window),
			fmt.Sprintf("%s lost of %s (%d in the window), late %d", num(float64(in.Lost)), num(float64(in.Sent)), in.WindowDrops, in.Late),
			"zero loss", verdict(in.Lost == 0))
		row(sc, "daemon CPU (user+system)", fmt.Sprintf("%.2f cores", in.CPUCores), "", "")
		row(sc, "RRD writing: time in librrd updates",
			fmt.Sprintf("%.3f of a core; rows %s/s of %s, queued max %d, %d updates, max update %.1f ms",
				in.WriteShare, num(in.RowsPerSec), num(in.WantRowsSec), in.QueuedMax, in.Updates, in.MaxWriteMs),
			"keeps up, < 0.25 core", verdict(in.KeepsUp && in.WriteShare < 0.25))
		row(sc, "daemon RSS", fmt.Sprintf("%s (VmHWM %s)", mb(in.RSSMax), mb(in.HWM)), "< 300 MB", verdict(in.HWM < rssLimit))
		row(sc, "shutdown (SIGTERM to exit, final flush)", fmt.Sprintf("%.1f s", in.Shutdown), "", "")
	}
	if r.Relay != nil {
		r.Relay.rows(row)
	}
	if r.URLs != nil {
		r.URLs.rows(row)
	}
	if r.URLImport != nil {
		r.URLImport.rows(row)
	}
	if f := r.Filehop; f != nil {
		for _, h := range []hopResult{f.UDP, f.TCP} {
			sc := "file hop " + strings.ToUpper(h.Transport)
			row(sc, "highest lossless rate, syslog-ng → files", searchText(h.SyslogNG), "", "")
			row(sc, "highest lossless rate, graphmetrics → RRD", searchText(h.Graphmetrics), "", "")
			row(sc, "graphmetrics / syslog-ng, lossless rate", fmt.Sprintf("%.2f×", h.RateRatio), "≥ 1.0×", verdict(h.Pass))
			row(sc, fmt.Sprintf("CPU-s per million lines at %s lines/s", num(h.Reference)),
				fmt.Sprintf("syslog-ng %.2f, graphmetrics %.2f (syslog-ng / graphmetrics %.2f)", h.SNGCPUPerM, h.GMCPUPerM, h.CPURatio), "report", "")
		}
	}
	if r.URLImport != nil {
		r.URLImport.table(w)
	}
	steps := r.steps()
	if len(steps) == 0 {
		return
	}
	fmt.Fprintf(w, "\n### Steps\n\n")
	fmt.Fprintln(w, "| receiver | transport | requested/s | achieved/s | sent | lost | kernel drops | receiver CPU-s/Mline | sender CPU-s | sender max lag |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	for _, s := range steps {
		lim := ""
		if s.SenderLimited {
			lim = " (sender short)"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s%s | %s | %s | %d | %.2f | %.1f | %.0f ms |\n", s.Receiver, s.Transport,
			num(s.Requested), num(s.Achieved), lim, num(float64(s.Sent)), num(float64(s.Lost)), s.KernelDrops, s.CPUPerM, s.SenderCPU, s.MaxLagMs)
	}
}

// steps lists every step of the run in order.
func (r *results) steps() []step {
	var out []step
	if u := r.UDP; u != nil {
		out = append(out, u.Daemon.Steps...) // starts with the target run
		out = append(out, u.Bare.Steps...)
	}
	if t := r.TCP; t != nil {
		out = append(out, t.Daemon.Steps...) // starts with the runs at the target
		out = append(out, t.Bare.Steps...)
	}
	if rl := r.Relay; rl != nil {
		for _, s := range rl.Shapes {
			out = append(out, s.Search.Steps...) // starts with the reference runs
		}
	}
	if u := r.URLs; u != nil {
		for _, s := range u.Sides {
			out = append(out, s.Steps...)
		}
	}
	if f := r.Filehop; f != nil {
		for _, h := range []hopResult{f.UDP, f.TCP} {
			out = append(out, h.SyslogNG.Steps...)
			out = append(out, h.Graphmetrics.Steps...)
		}
	}
	return out
}
