package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// startCarbon runs Debian's carbon-cache (graphite-carbon, writing
// whisper) in the foreground on free loopback ports, with no create or
// update throttling, every series at 60 s for a day and 1 h for 30 days
// (graphmetrics gets the same schema: one average archive each, so both
// write the same data without filling the disk).
func startCarbon(dir string) (*proc, error) {
	for _, d := range []string{"conf", "whisper", "log", "run"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	var ports [3]int
	for i := range ports {
		p, err := freePort("tcp")
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	conf := filepath.Join(dir, "conf", "carbon.conf")
	text := fmt.Sprintf(`[cache]
STORAGE_DIR = %[1]s/
LOCAL_DATA_DIR = %[1]s/whisper/
CONF_DIR = %[1]s/conf/
LOG_DIR = %[1]s/log/
PID_DIR = %[1]s/run/
DATABASE = whisper
USER =
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = inf
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = %[2]d
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = %[3]d
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = %[4]d
USE_FLOW_CONTROL = True
WHISPER_AUTOFLUSH = False
WHISPER_FALLOCATE_CREATE = True
`, dir, ports[0], ports[1], ports[2])
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return nil, err
	}
	schemas := "[default]\npattern = .*\nretentions = 60s:1d,1h:30d\n"
	if err := os.WriteFile(filepath.Join(dir, "conf", "storage-schemas.conf"), []byte(schemas), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command("carbon-cache", "--config="+conf, "--pidfile="+filepath.Join(dir, "run", "carbon.pid"),
		"--logdir="+filepath.Join(dir, "log"), "--debug", "start")
	if _, err := waitLine(cmd, filepath.Join(dir, "carbon.log"), regexp.MustCompile(`(?i)ServerFactory starting on `+strconv.Itoa(ports[0])+`|twistd .* starting up`)); err != nil {
		return nil, err
	}
	p := &proc{name: "carbon-cache (whisper)", cmd: cmd, addr: fmt.Sprintf("127.0.0.1:%d", ports[0])}
	// Wait for the line receiver.
	for i := 0; i < 300; i++ {
		if c, err := net.Dial("tcp", p.addr); err == nil {
			c.Close()
			return p, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.stop()
	return nil, fmt.Errorf("carbon-cache never listened on %s", p.addr)
}

// graphiteRun is one stream into one receiver.
type graphiteRun struct {
	Points     uint64  `json:"points"`
	Series     int     `json:"series"`
	SendRate   float64 `json:"send_rate"`             // points/s the receiver's socket took (TCP pushes back)
	CountRate  float64 `json:"counted_rate"`          // graphmetrics: until /healthz counted every point; 0 if not known
	Counted    uint64  `json:"counted"`               // graphmetrics: points counted; 0 if not known
	CPU        float64 `json:"cpu_cores"`             // receiver CPU over the run
	SenderNote string  `json:"sender_note,omitempty"` // what limited the sender, if anything
}

// sendGraphite writes points lines over one TCP connection as fast as the
// receiver takes them: series names servers.web<NNN>.cpu.load<NN>, the
// value, now.
func sendGraphite(addr string, points uint64, series int) (time.Duration, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	bw := bufio.NewWriterSize(c, 256<<10)
	names := make([][]byte, series)
	for i := range names {
		names[i] = []byte(fmt.Sprintf("servers.web%04d.cpu.load%02d ", i/100, i%100))
	}
	start := time.Now()
	ts := start.Unix()
	var line []byte
	for i := uint64(0); i < points; i++ {
		if i%(1<<16) == 0 {
			ts = time.Now().Unix()
		}
		line = append(line[:0], names[i%uint64(series)]...)
		line = strconv.AppendUint(line, i%1000, 10)
		line = append(line, ' ')
		line = strconv.AppendInt(line, ts, 10)
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return 0, err
		}
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// graphiteOn sends the stream to p; for graphmetrics it also waits until
// /healthz counts every point.
func graphiteOn(p *proc, points uint64, series int) (graphiteRun, error) {
	r := graphiteRun{Points: points, Series: series}
	var before uint64
	if p.web != "" {
		h, err := p.health("graphite")
		if err != nil {
			return r, err
		}
		before = num(h, "points")
	}
	c0, t0 := p.cpu(), time.Now()
	d, err := sendGraphite(p.addr, points, series)
	if err != nil {
		return r, err
	}
	r.SendRate = float64(points) / d.Seconds()
	if p.web != "" {
		deadline := time.Now().Add(2 * time.Minute)
		for {
			h, err := p.health("graphite")
			if err != nil {
				return r, err
			}
			r.Counted = num(h, "points") - before
			if r.Counted >= points || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		r.CountRate = float64(r.Counted) / time.Since(t0).Seconds()
	}
	r.CPU = (p.cpu() - c0) / time.Since(t0).Seconds()
	return r, nil
}
