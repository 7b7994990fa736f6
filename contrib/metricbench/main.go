// Command metricbench measures the application metric inputs against the
// daemons they replace, the same stream in the same run:
//
//	go run ./contrib/metricbench -bin bin/graphmetrics -out bench-metrics.json
//
// statsd: a ladder of UDP rates (1,000 keys; its files get one small
// archive set, 10 s for a day and 1 h for 30 days, so a run does not write
// gigabytes of the 14-day default) (metrics/s, several metrics a datagram)
// sent to graphmetrics' statsd input and to etsy statsd 0.9.0; a rate is
// lossless when the kernel dropped no datagram of the receiver's socket
// (and, for graphmetrics, /healthz counted every line). The ratio is of the
// highest lossless rates.
//
// graphite: Graphite plaintext over one TCP connection into 10,000 series,
// as fast as the receiver takes it, to graphmetrics and to Debian's
// carbon-cache writing whisper. TCP pushes back, so the sender's rate is the
// receiver's; graphmetrics' rate is also taken until /healthz counted every
// point.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "metricbench:", err)
		os.Exit(1)
	}
}

type results struct {
	Command  string        `json:"command"`
	Started  time.Time     `json:"started"`
	Statsd   *statsdResult `json:"statsd,omitempty"`
	Graphite []graphiteCmp `json:"graphite,omitempty"`
}

type graphiteCmp struct {
	Ours   graphiteRun `json:"graphmetrics"`
	Carbon graphiteRun `json:"carbon"`
	Ratio  float64     `json:"ratio"` // graphmetrics counted rate / carbon's send rate
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("metricbench", flag.ContinueOnError)
	bin := fs.String("bin", "bin/graphmetrics", "graphmetrics binary")
	scen := fs.String("scenario", "statsd,graphite", "statsd, graphite or both")
	out := fs.String("out", "", "JSON results file")
	step := fs.Duration("step", 10*time.Second, "statsd: duration of one rate step")
	ladder := fs.String("ladder", "1000,2000,5000,10000,20000,50000,100000,200000,300000,400000,500000,700000", "statsd: rates tried, metrics/s")
	perPacket := fs.Int("per-packet", 10, "statsd: metrics a datagram")
	points := fs.Uint64("points", 10_000_000, "graphite: points a run")
	runs := fs.Int("runs", 3, "graphite: runs (the median is reported)")
	recvBuf := fs.Int("recv-buffer", 0, "graphmetrics [syslog] recv_buffer, bytes (0: its default, 8 MiB)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("component", "metricbench")
	tmp, err := os.MkdirTemp("", "metricbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	res := results{Command: "metricbench " + strings.Join(args, " "), Started: time.Now()}

	if strings.Contains(*scen, "statsd") {
		var rates []float64
		for _, s := range strings.Split(*ladder, ",") {
			var r float64
			if _, err := fmt.Sscan(s, &r); err != nil {
				return fmt.Errorf("-ladder %q", s)
			}
			rates = append(rates, r)
		}
		ours, err := startGraphmetrics(*bin, filepath.Join(tmp, "gm-statsd"), "statsd", *recvBuf,
			"[statsd]\nudp = [\"127.0.0.1:0\"]\nmax_series = 1000000\n"+
				"[[graphite.schemas]]\npattern = \"^stats\\\\.\"\nstep = \"10s\"\narchives = [\"AVERAGE:10s:1d\", \"AVERAGE:1h:30d\"]\n")
		if err != nil {
			return err
		}
		defer ours.stop()
		etsy, err := startEtsy(filepath.Join(tmp, "etsy"))
		if err != nil {
			return err
		}
		defer etsy.stop()
		sr, err := statsdScenario(ours, etsy, rates, *perPacket, *step, func(m string, a ...any) { log.Info(m, a...) })
		if err != nil {
			return err
		}
		res.Statsd = &sr
		ours.stop()
		etsy.stop()
	}
	if strings.Contains(*scen, "graphite") {
		ours, err := startGraphmetrics(*bin, filepath.Join(tmp, "gm-graphite"), "graphite", 0,
			"[graphite]\ntcp = [\"127.0.0.1:0\"]\nmax_series = 1000000\n"+
				"[[graphite.schemas]]\npattern = \"\"\nstep = \"60s\"\narchives = [\"AVERAGE:1m:1d\", \"AVERAGE:1h:30d\"]\n")
		if err != nil {
			return err
		}
		defer ours.stop()
		carbon, err := startCarbon(filepath.Join(tmp, "carbon"))
		if err != nil {
			return err
		}
		defer carbon.stop()
		for i := 0; i < *runs; i++ {
			var c graphiteCmp
			if c.Ours, err = graphiteOn(ours, *points, 10000); err != nil {
				return err
			}
			if c.Carbon, err = graphiteOn(carbon, *points, 10000); err != nil {
				return err
			}
			if c.Carbon.SendRate > 0 {
				c.Ratio = c.Ours.CountRate / c.Carbon.SendRate
			}
			log.Info("graphite run", "ours_send", int(c.Ours.SendRate), "ours_counted", int(c.Ours.CountRate),
				"counted", c.Ours.Counted, "carbon_send", int(c.Carbon.SendRate), "ratio", fmt.Sprintf("%.2f", c.Ratio))
			res.Graphite = append(res.Graphite, c)
		}
	}
	report(stdout, res)
	if *out != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		return os.WriteFile(*out, append(b, '\n'), 0o644)
	}
	return nil
}

func report(w io.Writer, r results) {
	fmt.Fprintf(w, "# %s (%s)\n\n", r.Command, r.Started.UTC().Format(time.RFC3339))
	if s := r.Statsd; s != nil {
		fmt.Fprintf(w, "statsd over UDP, %d metrics a datagram; highest lossless rate: graphmetrics %.0f/s, etsy statsd %.0f/s, ratio %.2f×\n\n",
			s.PerPacket, s.OursBest, s.EtsyBest, s.Ratio)
		fmt.Fprintln(w, "| receiver | requested | achieved | kernel drops | counted/sent | CPU cores | lossless |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
		for _, x := range []struct {
			n  string
			st []statsdStep
		}{{"graphmetrics", s.Ours}, {"etsy statsd", s.Etsy}} {
			for _, st := range x.st {
				counted := "—"
				if st.Counted >= 0 {
					counted = fmt.Sprintf("%d/%d", st.Counted, st.Sent)
				}
				fmt.Fprintf(w, "| %s | %.0f | %.0f | %d | %s | %.2f | %v |\n", x.n, st.Rate, st.Achieved, st.Drops, counted, st.CPU, st.Lossless)
			}
		}
		fmt.Fprintln(w)
	}
	if len(r.Graphite) > 0 {
		var ratios, ours, carbon []float64
		fmt.Fprintln(w, "| run | graphmetrics counted points/s | its sender's rate | carbon-cache points/s (sender) | ratio | CPU ours / carbon |")
		fmt.Fprintln(w, "|---|---|---|---|---|---|")
		for i, c := range r.Graphite {
			fmt.Fprintf(w, "| %d | %.0f (%d of %d) | %.0f | %.0f | %.2f× | %.2f / %.2f |\n", i+1, c.Ours.CountRate, c.Ours.Counted, c.Ours.Points,
				c.Ours.SendRate, c.Carbon.SendRate, c.Ratio, c.Ours.CPU, c.Carbon.CPU)
			ratios, ours, carbon = append(ratios, c.Ratio), append(ours, c.Ours.CountRate), append(carbon, c.Carbon.SendRate)
		}
		fmt.Fprintf(w, "\nGraphite plaintext over TCP into 10,000 series, medians: graphmetrics %.0f points/s, carbon-cache %.0f points/s, ratio %.2f×\n",
			median(ours), median(carbon), median(ratios))
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}
