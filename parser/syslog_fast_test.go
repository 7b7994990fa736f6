package parser

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// paths runs msg through the fast path and through go-syslog's parsers the
// way ParseSyslog dispatches it. header is false when msg has no RFC 5424
// or RFC 3164 header (neither path applies).
type paths struct {
	header  bool
	fast    Message
	fastOK  bool
	slow    Message
	slowErr error
}

func bothPaths(msg []byte) (p paths) {
	if len(msg) > MaxMessageSize {
		return p
	}
	msg = trimTrailer(msg)
	n := 0
	if len(msg) > 0 && msg[0] == '<' {
		n = priLen(msg)
	}
	if n == 0 || looksLikeRecord(msg[n:]) {
		return p
	}
	rest := msg[n:]
	if isRFC5424(rest) {
		p.header = true
		p.fast, p.fastOK = fastRFC5424(msg, n)
		p.slow, p.slowErr = parseRFC5424(msg, n)
		return p
	}
	stamp := bsdStampLen(rest)
	if stamp == 0 {
		stamp = isoStampLen(rest)
	}
	if stamp > 0 {
		p.header = true
		p.fast, p.fastOK = fastRFC3164(msg, n, stamp)
		p.slow, p.slowErr = parseRFC3164(msg, n, stamp)
	}
	return p
}

// check fails t unless the fast path declined or agreed with go-syslog.
func (p paths) check(t *testing.T, msg []byte) {
	t.Helper()
	if !p.fastOK {
		return
	}
	if p.slowErr != nil {
		t.Fatalf("%q: fast path accepted %+v, go-syslog's parser says %v", msg, p.fast, p.slowErr)
	}
	f, s := p.fast, p.slow
	if !bytes.Equal(f.Host, s.Host) || !bytes.Equal(f.Tag, s.Tag) || !bytes.Equal(f.ProcID, s.ProcID) || !bytes.Equal(f.Body, s.Body) {
		t.Fatalf("%q:\nfast     host=%q tag=%q procid=%q body=%q\ngo-syslog host=%q tag=%q procid=%q body=%q",
			msg, f.Host, f.Tag, f.ProcID, f.Body, s.Host, s.Tag, s.ProcID, s.Body)
	}
	if !msgWithin(msg, f) {
		t.Fatalf("%q: fast result does not alias the input: %+v", msg, f)
	}
}

// relayShapes are what syslog-ng and rsyslog send when they forward a
// Python SysLogHandler datagram "<14>acme app-8080 : RECORD", and logger's
// own shapes: every one must take the fast path.
var relayShapes = []string{
	"<14>Nov 21 23:26:19 127.0.0.1 acme app-8080 : A 0.-1449537908 2009-07-30 15:52:36.766928 200 80348",
	"<14>Nov  1 03:04:05 zope1 acme app-8080 E 1 2009-07-30 15:54:56.842451\n",
	"<13>Nov 21 23:22:48 vm acme[4242]: B 0.-1451819092 2009-07-30 15:47:21.560343 GET /x",
	"<14>Feb 29 23:59:59 vm tracelog: acme app-8080 B 1 2009-07-30 15:47:21.5",
	"<14>2026-11-21T23:26:17.123456+01:00 vm acme app-8080 : A 0.-1 2009-07-30 15:52:36 200 80348\n",
	"<14>2026-11-21T23:26:17Z vm acme[77]: A 0.-1 2009-07-30 15:52:36 200 80348",
	"<14>1 2026-11-21T23:26:19+00:00 127.0.0.1 acme - - - app-8080 : A 0.-1 2009-07-30 15:52:36 200 80348\n",
	"<14>1 2026-11-21T23:26:17.123456+01:00 vm acme - - -  app-8080 : A 0.-1 2009-07-30 15:52:36 200 80348\n",
	"<13>1 2026-11-21T23:26:17.777013-05:30 vm acme 4242 - [timeQuality tzKnown=\"1\" isSynced=\"0\"] A 0.-1 2009-07-30 15:52:36 200 80348",
	"<13>1 2026-11-21T23:26:17.7Z vm acme - trace [a b=\"1\\] 2\"][c@1 d=\"\"] B 1 2009-07-30 15:47:21.5",
	"<13>1 - vm acme - - - acme app-8080 : E 1 2009-07-30 15:54:56.842451",
	"<14>1 2026-11-21T23:26:17Z vm acme 77 - - \xef\xbb\xbfB 1 2009-07-30 15:47:21.5 GET /\r\n",
	"<14>1 2026-11-21T23:26:17Z vm acme 77 - -",
}

func TestFastPathTakesRelayShapes(t *testing.T) {
	for _, s := range relayShapes {
		msg := []byte(s)
		p := bothPaths(msg)
		if !p.header || !p.fastOK {
			t.Errorf("%q: fast path declined (header %v)", s, p.header)
			continue
		}
		p.check(t, msg)
		m, err := ParseSyslog(msg)
		if err != nil || !bytes.Equal(m.Body, p.fast.Body) || !bytes.Equal(m.Host, p.fast.Host) {
			t.Errorf("%q: ParseSyslog = %+v, %v; fast path %+v", s, m, err, p.fast)
		}
	}
	// The captured relay and logger messages too.
	for _, dir := range []string{"syslog-ng-*", "logger-rfc5424*", "logger-rfc3164-pid", "made-rsyslog-*"} {
		ins, _ := filepath.Glob(filepath.Join("testdata", "syslog", dir, "input"))
		if len(ins) == 0 {
			t.Fatalf("no golden inputs %s", dir)
		}
		for _, in := range ins {
			msg, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			if p := bothPaths(msg); !p.fastOK {
				t.Errorf("%s: fast path declined %q", in, msg)
			} else {
				p.check(t, msg)
			}
		}
	}
}

// Shapes the fast path leaves to go-syslog, whatever go-syslog makes of
// them; ParseSyslog's result must not change (the golden tests pin it).
func TestFastPathDeclines(t *testing.T) {
	for _, s := range []string{
		"<14>Nov  1 23:26:17 acme[4242]: B 1 2009-07-30 15:47:21.5", // no HOSTNAME
		"<13>Nov 21 22:47:28 host",                                  // go-syslog panics
		"<13>Nov 21 22:47:28  acme: x",                              // empty HOSTNAME
		"<13>Nov 31 22:47:28 vm acme: x",                            // no such day
		"<13>Feb 30 22:47:28 vm acme: x",
		"<13>Nov 00 22:47:28 vm acme: x",
		"<13>Nov 21 24:47:28 vm acme: x",
		"<13>Nov 21 22:60:28 vm acme: x",
		"<13>Nov 21 22:47:60 vm acme: x",
		"<13>2 2026-11-21T23:26:17Z vm acme - - - x",         // version 2
		"<13>1 2026-13-21T23:26:17Z vm acme - - - x",         // month
		"<13>1 2026-11-00T23:26:17Z vm acme - - - x",         // day
		"<13>1 2026-11-21T23:26:60Z vm acme - - - x",         // second
		"<13>1 2026-11-21T23:26:17.1234567Z vm acme - - - x", // seven digits
		"<13>1 2026-11-21T23:26:17.Z vm acme - - - x",
		"<13>1 2026-11-21T23:26:17+24:00 vm acme - - - x",
		"<13>1 2026-11-21T23:26:17 vm acme - - - x", // no offset
		"<13>1 - vm acme - - -x",                    // no space after SD
		"<13>1 - vm acme - - [x y=\"z\"",            // SD not closed
		"<13>1 - vm acme - -",                       // no SD
		"<13>1 - vm  acme - - - x",                  // empty APP-NAME
		"<13>1 - vm " + string(bytes.Repeat([]byte("a"), 49)) + " - - - x",
		"<13>1 - vm acme - " + string(bytes.Repeat([]byte("m"), 33)) + " - x",
	} {
		p := bothPaths([]byte(s))
		if !p.header {
			t.Errorf("%q: not a header at all", s)
		}
		if p.fastOK {
			t.Errorf("%q: fast path accepted %+v", s, p.fast)
		}
	}
}

// Every month and day, and the edges of every time field: the fast path
// accepts a BSD timestamp exactly when package time does (through
// go-syslog).
func TestFastPathBSDCalendar(t *testing.T) {
	months := []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	var stamps []string
	for _, m := range months {
		for d := 0; d <= 32; d++ {
			stamps = append(stamps, fmt.Sprintf("%s %2d 12:00:00", m, d), fmt.Sprintf("%s %02d 12:00:00", m, d))
		}
	}
	for _, hms := range []string{"00:00:00", "23:59:59", "24:00:00", "19:60:00", "19:00:60", "99:99:99"} {
		stamps = append(stamps, "Jul  4 "+hms)
	}
	accepted := 0
	for _, st := range stamps {
		msg := []byte("<14>" + st + " vm acme[1]: acme app-8080 B 1 2009-07-30 15:47:21.5")
		p := bothPaths(msg)
		if !p.header {
			t.Fatalf("%q: not a header", msg)
		}
		p.check(t, msg)
		if p.fastOK != (p.slowErr == nil) {
			t.Errorf("%q: fast path %v, go-syslog %v", st, p.fastOK, p.slowErr)
		}
		if p.fastOK {
			accepted++
		}
	}
	if want := 2*366 + 2; accepted != want {
		t.Errorf("accepted %d timestamps, want %d", accepted, want)
	}
}

// FuzzFastPath is the differential test of the fast path: for any input
// the fast path declines, or returns the same HOSTNAME, tag, PROCID and
// body as go-syslog's parsers (through parseRFC5424 and parseRFC3164, as
// ParseSyslog used them before the fast path).
//
//	go test ./parser/ -run '^$' -fuzz '^FuzzFastPath$' -fuzztime 5m
func FuzzFastPath(f *testing.F) {
	for _, s := range hostileSeeds() {
		f.Add(s)
	}
	for _, s := range goldenSeeds(f, "syslog") {
		f.Add(s)
	}
	for _, s := range relayShapes {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		for i := range min(len(msg), 64) {
			if got, want := sdLen(msg[i:]), sdLenRef(msg[i:]); got != want {
				t.Fatalf("sdLen(%q) = %d, byte loop says %d", msg[i:], got, want)
			}
		}
		p := bothPaths(msg)
		p.check(t, msg)
		if !p.fastOK {
			return
		}
		// ParseSyslog returns what the fast path found.
		m, err := ParseSyslog(msg)
		if err != nil || !bytes.Equal(m.Host, p.fast.Host) || !bytes.Equal(m.Tag, p.fast.Tag) ||
			!bytes.Equal(m.ProcID, p.fast.ProcID) || !bytes.Equal(m.Body, p.fast.Body) {
			t.Fatalf("%q: ParseSyslog = %+v, %v; fast path %+v", msg, m, err, p.fast)
		}
	})
}

// sdLenRef is sdLen as a plain byte loop, the reference it must agree with.
func sdLenRef(b []byte) int {
	if len(b) > 0 && b[0] == '-' {
		return 1
	}
	n := 0
	for n < len(b) && b[n] == '[' {
		quoted := false
		i := n + 1
		for ; i < len(b); i++ {
			c := b[i]
			if quoted {
				if c == '\\' {
					i++
				} else if c == '"' {
					quoted = false
				}
			} else if c == '"' {
				quoted = true
			} else if c == ']' {
				break
			}
		}
		if i >= len(b) {
			return 0
		}
		n = i + 1
	}
	return n
}

func TestSDLen(t *testing.T) {
	for _, s := range []string{
		"-", "-x", "[", "[]", "[a]", "[a] x", "[a][b] x", "[a b=\"1\"]", "[a b=\"]\"]", "[a b=\"\\\"]\"] x",
		"[a b=\"\\\\\"] x", "[a b=\"\\\\\\\"]", "[a b=\"x\\", "[a b=\"x\\\"", "[a b=\"1\" c=\"2\"][d e=\"\\]\"]",
		"[timeQuality tzKnown=\"1\" isSynced=\"0\"] B 1", "[a \"]\"", "x[a]", "[a\"\"]",
	} {
		if got, want := sdLen([]byte(s)), sdLenRef([]byte(s)); got != want {
			t.Errorf("sdLen(%q) = %d, byte loop says %d", s, got, want)
		}
	}
}
