package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"graphmetrics/daemon/daemontest"
	"graphmetrics/parser/testwait"
)

// [syslog] allow covers every listener, the metric inputs' too: a Graphite
// or statsd datagram from a source not in it is dropped and logged with
// the source; an allowed source is written.
func TestMetricInputsAllow(t *testing.T) {
	dataDir := t.TempDir()
	d := startDaemon(t, dataDir, daemontest.ConfigKeys(dataDir, `allow = ["127.0.0.2"]`, "", metricsConfig))
	graphiteUDP, statsdUDP := inputAddr(t, d, "graphite", "udp"), inputAddr(t, d, "statsd", "udp")
	send := func(src, addr, msg string) {
		t.Helper()
		raddr, err := net.ResolveUDPAddr("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)}, raddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().Unix()
	send("127.0.0.1", graphiteUDP, fmt.Sprintf("collectd.evil 1 %d\n", now))
	send("127.0.0.1", statsdUDP, "evil.count:1|c")
	for _, addr := range []string{graphiteUDP, statsdUDP} {
		testwait.For(t, 10*time.Second, "the refusal logged for "+addr, func() bool {
			for _, l := range strings.Split(d.Log(), "\n") {
				if strings.Contains(l, "not in [syslog] allow") && strings.Contains(l, "addr="+addr) &&
					strings.Contains(l, "src=127.0.0.1") {
					return true
				}
			}
			return false
		})
	}
	send("127.0.0.2", graphiteUDP, fmt.Sprintf("collectd.good 1 %d\n", now))
	good := filepath.Join(dataDir, "rrd", "metrics", "graphite", "collectd", "good.rrd") // 1 s schema
	testwait.For(t, 20*time.Second, "the allowed source's file", func() bool {
		_, err := os.Stat(good)
		return err == nil
	})
	// Sent first, with the same step: it would be there by now.
	if _, err := os.Stat(filepath.Join(dataDir, "rrd", "metrics", "graphite", "collectd", "evil.rrd")); err == nil {
		t.Error("a refused source's series was written")
	}
	d.Stop()
}
