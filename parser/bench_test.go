package parser

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Benchmarks of the hot path. Numbers and the command that made them go in
// the README:
//
//	go test ./parser/ -run '^$' -bench . -benchmem -cpu 1

func benchZone(b *testing.B) *time.Location {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		b.Fatal(err)
	}
	return loc
}

func reportLines(b *testing.B, perOp int) {
	b.ReportMetric(float64(b.N*perOp)/b.Elapsed().Seconds(), "lines/s")
}

// BenchmarkPipelinePython is one UDP datagram from Python's SysLogHandler,
// through ParseSyslog, Attribute and ParseRecord in a DST zone: what the
// daemon does for every tracelog line on its main path.
func BenchmarkPipelinePython(b *testing.B) {
	loc := benchZone(b)
	msg := []byte("<14>acme app-8080 : A 0.-1449537908 2009-07-30 15:52:36.766928 200 80348\x00")
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := ParseSyslog(msg)
		if err != nil {
			b.Fatal(err)
		}
		_, _, r, err := Attribute(m)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ParseRecord(r, loc); err != nil {
			b.Fatal(err)
		}
	}
	reportLines(b, 1)
}

// BenchmarkPipelineSample runs the 209 lines of the real sample, each
// wrapped as a Python datagram, so the records' codes and data vary.
func BenchmarkPipelineSample(b *testing.B) {
	loc := benchZone(b)
	f, err := os.Open(samplePath)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var msgs [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		msgs = append(msgs, append(append([]byte("<14>acme app-8080 : "), sc.Bytes()...), 0))
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, msg := range msgs {
			m, err := ParseSyslog(msg)
			if err != nil {
				b.Fatal(err)
			}
			_, _, r, err := Attribute(m)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ParseRecord(r, loc); err != nil {
				b.Fatal(err)
			}
		}
	}
	reportLines(b, len(msgs))
}

func BenchmarkParseRecord(b *testing.B) {
	line := []byte("A 0.-1449537908 2009-07-30 15:52:36.766928 200 80348")
	for _, zone := range []struct {
		name string
		loc  *time.Location
	}{{"UTC", time.UTC}, {"NewYork", benchZone(b)}} {
		b.Run(zone.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseRecord(line, zone.loc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseSyslogHeaders is the header parse per line for the shapes
// the daemon gets: Python's <PRI> and body (the baseline), the RFC 3164 and
// RFC 5424 headers of syslog-ng and rsyslog relays (the fast path, issue 18:
// ≤ 60 ns and 0 allocations), and shapes left to go-syslog's parsers.
// Compare cpu-ns/op (the thread's CPU time) on a busy machine.
func BenchmarkParseSyslogHeaders(b *testing.B) {
	const rec = "A 0.-1449537908 2009-07-30 15:52:36.766928 200 80348"
	for _, c := range []struct{ name, msg string }{
		{"Python", "<14>acme app-8080 : " + rec + "\x00"},
		{"RFC3164", "<14>Nov 21 23:22:48 zope1 acme app-8080 : " + rec + "\n"},
		{"RFC3164-PID", "<13>Nov 21 23:22:48 vm acme[10835]: " + rec + "\n"},
		{"RFC3164-Year", "<14>2026-11-21T23:22:48.123456+01:00 zope1 acme app-8080 : " + rec + "\n"},
		{"RFC5424", "<14>1 2026-11-21T23:22:48+00:00 zope1 acme - - - app-8080 : " + rec + "\n"},
		{"RFC5424-SD", "<13>1 2026-11-21T23:22:48.675836+01:00 vm acme 10836 - [timeQuality tzKnown=\"1\" isSynced=\"0\"] " + rec + "\n"},
		{"GoSyslog-RFC3164-NoHost", "<14>Nov 21 23:22:48 acme[10835]: " + rec},
		{"GoSyslog-RFC5424-Version2", "<13>2 2026-11-21T23:22:48.675836+00:00 vm acme 10836 - - " + rec + "\n"},
	} {
		msg := []byte(c.msg)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			defer reportThreadCPU(b)()
			for b.Loop() {
				if _, err := ParseSyslog(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// reportThreadCPU locks the benchmark to its thread and returns a function
// that reports the thread's CPU time per op as "cpu-ns/op". ns/op is wall
// time, which other processes inflate on a shared machine by whatever CPU
// they take at the moment; the thread's own CPU time is what the code
// costs, and compares across sub-benchmarks run at different moments.
func reportThreadCPU(b *testing.B) func() {
	runtime.LockOSThread()
	t0 := threadCPU(b)
	return func() {
		b.ReportMetric(float64(threadCPU(b)-t0)/float64(b.N), "cpu-ns/op")
		runtime.UnlockOSThread()
	}
}

func threadCPU(b *testing.B) int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		b.Fatal(err)
	}
	return ts.Nano()
}

func BenchmarkParseDirLine(b *testing.B) {
	for _, c := range []struct{ name, line string }{
		{"Custom", "host1 acme app-8080 : A 0.-1449537908 2009-07-30 15:52:36.766928 200 80348\n"},
		{"Stock", "Nov 21 23:22:48 vm acme[10835]: A 0.-1449537908 2009-07-30 15:52:36.766928 200 80348\n"},
	} {
		line := []byte(c.line)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m, err := ParseDirLine(line)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, _, err := Attribute(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRelayStream is a TCP stream as a relay sends it, cut into
// messages by the frame splitter and parsed, per line: RFC 3164 with
// newline framing and RFC 5424 with octet counting (RFC 6587), against
// Python's NUL-terminated shape. One op is 1,000 lines; the allocations
// are the scanner's and the splitter's, once per stream.
func BenchmarkRelayStream(b *testing.B) {
	const rec = "A 0.-1449537908 2009-07-30 15:52:36.766928 200 80348"
	for _, c := range []struct{ name, msg, framing string }{
		{"Python-NUL", "<14>acme app-8080 : " + rec, "nul"},
		{"RFC3164-Newline", "<14>Nov 21 23:22:48 zope1 acme app-8080 : " + rec, "newline"},
		{"RFC5424-Octet", "<14>1 2026-11-21T23:22:48.123456+00:00 zope1 acme - - - app-8080 : " + rec + "\n", "octet"},
	} {
		var stream []byte
		for range 1000 {
			switch c.framing {
			case "nul":
				stream = append(append(stream, c.msg...), 0)
			case "newline":
				stream = append(append(stream, c.msg...), '\n')
			case "octet":
				stream = append(append(strconv.AppendInt(stream, int64(len(c.msg)), 10), ' '), c.msg...)
			}
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(stream)))
			defer reportThreadCPU(b)()
			r := bytes.NewReader(stream)
			buf := make([]byte, 64<<10)
			for b.Loop() {
				r.Reset(stream)
				sc := bufio.NewScanner(r)
				sc.Buffer(buf, len(buf))
				sc.Split(NewFrameSplitter(MaxMessageSize))
				n := 0
				for sc.Scan() {
					if _, err := ParseSyslog(sc.Bytes()); err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != 1000 {
					b.Fatalf("%d messages", n)
				}
			}
			reportLines(b, 1000)
		})
	}
}
