package parser

import (
	"errors"
	"strings"
	"testing"
	"unsafe"
)

// within reports whether sub is empty or lies inside buf: the parsers
// promise slices that alias their input.
func within(buf, sub []byte) bool {
	if len(sub) == 0 {
		return true
	}
	if len(buf) == 0 {
		return false
	}
	b := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	s := uintptr(unsafe.Pointer(unsafe.SliceData(sub)))
	return s >= b && s+uintptr(len(sub)) <= b+uintptr(len(buf))
}

func msgWithin(buf []byte, m Message) bool {
	return within(buf, m.Host) && within(buf, m.Tag) && within(buf, m.ProcID) && within(buf, m.Body)
}

type msgWant struct{ host, tag, procID, body string }

func checkMessage(t *testing.T, in string, m Message, want msgWant) {
	t.Helper()
	got := msgWant{string(m.Host), string(m.Tag), string(m.ProcID), string(m.Body)}
	if got != want {
		t.Errorf("%q:\n got %+v\nwant %+v", in, got, want)
	}
}

func TestParseSyslog(t *testing.T) {
	rec := "B 1 2009-07-30 15:47:21.5 GET /"
	tests := []struct {
		in   string
		want msgWant
	}{
		// <PRI> and body (Python's SysLogHandler), with the trailers senders leave.
		{"<14>" + rec + "\x00", msgWant{"", "", "", rec}},
		{"<14>" + rec + "\r\n\x00\x00", msgWant{"", "", "", rec}},
		{"<0>" + rec, msgWant{"", "", "", rec}},
		{"<191>acme app-8080 : " + rec, msgWant{"", "", "", "acme app-8080 : " + rec}},
		{"<14>\xef\xbb\xbf" + rec, msgWant{"", "", "", rec}},
		{"<14>", msgWant{"", "", "", ""}},
		{"<14>Nov", msgWant{"", "", "", "Nov"}},
		{"<14>Nov 21 but not a header", msgWant{"", "", "", "Nov 21 but not a header"}},
		// A record whose code is a digit and RID "-" is still a record, not RFC 5424.
		{"<14>1 - 2009-07-30 15:47:21.5 x", msgWant{"", "", "", "1 - 2009-07-30 15:47:21.5 x"}},
		// No <PRI>: all body (RFC 3164 §4.3.3).
		{"acme app-8080 " + rec + "\n", msgWant{"", "", "", "acme app-8080 " + rec}},
		// RFC 3164.
		{"<13>Nov 21 22:47:28 myhost mytag[123]: " + rec, msgWant{"myhost", "mytag", "123", rec}},
		{"<13>Nov  1 22:47:28 myhost mytag: " + rec + "\n", msgWant{"myhost", "mytag", "", rec}},
		{"<13>Nov 21 22:47:28 myhost mytag:" + rec, msgWant{"myhost", "mytag", "", rec}},
		{"<13>Nov 21 22:47:28 mytag[123]: " + rec, msgWant{"", "mytag", "123", rec}},
		{"<13>Nov 21 22:47:28 mytag: " + rec, msgWant{"", "mytag", "", rec}},
		{"<13>Nov 21 22:47:28 myhost " + rec, msgWant{"myhost", "", "", rec}},
		{"<13>Nov 21 22:47:28 myhost acme app-8080 " + rec, msgWant{"myhost", "", "", "acme app-8080 " + rec}},
		{"<13>Nov 21 22:47:28 myhost mytag[1 2]: x y", msgWant{"myhost", "", "", "mytag[1 2]: x y"}},
		{"<13>2026-11-21T22:47:28Z myhost mytag[9]: " + rec, msgWant{"myhost", "mytag", "9", rec}},
		{"<13>2026-11-21T22:47:28.123456-05:00 myhost mytag[9]: " + rec, msgWant{"myhost", "mytag", "9", rec}},
		// RFC 5424.
		{"<13>1 2026-11-21T22:47:28.123456+00:00 myhost mytag 123 - [meta sequenceId=\"1\"] " + rec,
			msgWant{"myhost", "mytag", "123", rec}},
		{"<13>1 2026-11-21T22:47:28Z myhost mytag 123 ID47 [a x=\"1\"][b y=\"\\] \\\" \\\\\"] " + rec + "\n",
			msgWant{"myhost", "mytag", "123", rec}},
		{"<13>1 2026-11-21T22:47:28Z - - - - - " + rec, msgWant{"", "", "", rec}},
		{"<13>1 - myhost mytag - - - \xef\xbb\xbf" + rec + "\r\n", msgWant{"myhost", "mytag", "", rec}},
		{"<13>1 2026-11-21T22:47:28Z myhost mytag 123 - -", msgWant{"myhost", "mytag", "123", ""}},
		{"<13>1 2026-11-21T22:47:28Z myhost mytag 123 - [x]", msgWant{"myhost", "mytag", "123", ""}},
	}
	for _, tt := range tests {
		in := []byte(tt.in)
		m, err := ParseSyslog(in)
		if err != nil {
			t.Errorf("ParseSyslog(%q): %v", tt.in, err)
			continue
		}
		checkMessage(t, tt.in, m, tt.want)
		if !msgWithin(in, m) {
			t.Errorf("ParseSyslog(%q): result does not alias the input", tt.in)
		}
	}
}

func TestParseSyslogErrors(t *testing.T) {
	big := "<14>" + strings.Repeat("x", MaxMessageSize-4)
	if _, err := ParseSyslog([]byte(big)); err != nil {
		t.Errorf("message of exactly MaxMessageSize: %v", err)
	}
	tests := []struct {
		in   string
		want error
	}{
		{big + "x", ErrOversize},
		{"", ErrMalformedSyslog},
		{"\x00\n", ErrMalformedSyslog},
		{"<", ErrMalformedSyslog},
		{"<>B 1 2009-07-30 15:47:21", ErrMalformedSyslog},
		{"<13", ErrMalformedSyslog},
		{"<1234>x", ErrMalformedSyslog},
		{"<192>x", ErrMalformedSyslog},
		{"<1x>x", ErrMalformedSyslog},
		// go-syslog panics on these; the panic must become an error.
		{"<13>Nov 21 22:47:28 host", ErrMalformedSyslog},
		{"<13>Nov 21 22:47:28 host\n", ErrMalformedSyslog},
		// Impossible header dates and broken RFC 5424 headers.
		{"<13>Feb 30 22:47:28 myhost mytag: x", ErrMalformedSyslog},
		{"<13>Nov 21 25:47:28 myhost mytag: x", ErrMalformedSyslog},
		{"<13>1 2026-13-21T22:47:28Z myhost mytag 1 - - x", ErrMalformedSyslog},
		{"<13>1 2026-11-21T22:47:28Zmyhost mytag 1 - - x", ErrMalformedSyslog},
		{"<13>1 2026-11-21T22:47:28Z myhost", ErrMalformedSyslog},
		{"<13>1 2026-11-21T22:47:28Z myhost mytag 1 - [unterminated x", ErrMalformedSyslog},
		{"<13>1 2026-11-21T22:47:28Z myhost mytag 1 - [a]x", ErrMalformedSyslog},
		{"<13>1 2026-11-21T22:47:28Z myhost mytag 1 - nosd x", ErrMalformedSyslog},
		{"<13>1 - ", ErrMalformedSyslog},
	}
	for _, tt := range tests {
		m, err := ParseSyslog([]byte(tt.in))
		if !errors.Is(err, tt.want) {
			in := tt.in
			if len(in) > 80 {
				in = in[:80] + "..."
			}
			t.Errorf("ParseSyslog(%q) = %+v, %v; want %v", in, m, err, tt.want)
		}
	}
}

func TestParseDirLine(t *testing.T) {
	rec := "A 0.-1 2009-07-30 15:47:21.9 200 93638"
	tests := []struct {
		in   string
		want msgWant
	}{
		{"host1 acme app-8080 : " + rec + "\n", msgWant{"host1", "", "", "acme app-8080 : " + rec}},
		{"host1 acme app-8080 " + rec + "\r\n", msgWant{"host1", "", "", "acme app-8080 " + rec}},
		{"10.0.0.1 acme worker3 " + rec, msgWant{"10.0.0.1", "", "", "acme worker3 " + rec}},
		{"Nov 21 22:47:28 host1 acme[8080]: " + rec, msgWant{"host1", "acme", "8080", rec}},
		{"Nov  1 22:47:28 host1 acme: " + rec, msgWant{"host1", "acme", "", rec}},
		{"Nov 21 22:47:28 host1 acme app-8080 : " + rec, msgWant{"host1", "", "", "acme app-8080 : " + rec}},
		{"2026-11-21T22:47:28+01:00 host1 acme[8080]: " + rec, msgWant{"host1", "acme", "8080", rec}},
		// A host named like a month is still a host when no time follows.
		{"Nov acme app-8080 " + rec, msgWant{"Nov", "", "", "acme app-8080 " + rec}},
		{"May1 acme app-8080 " + rec, msgWant{"May1", "", "", "acme app-8080 " + rec}},
	}
	for _, tt := range tests {
		in := []byte(tt.in)
		m, err := ParseDirLine(in)
		if err != nil {
			t.Errorf("ParseDirLine(%q): %v", tt.in, err)
			continue
		}
		checkMessage(t, tt.in, m, tt.want)
		if !msgWithin(in, m) {
			t.Errorf("ParseDirLine(%q): result does not alias the input", tt.in)
		}
	}
	for _, in := range []string{"", "\n", "host1", "host1 ", " acme app-8080 x", "Nov 21 22:47:28 host1", "Nov 21 22:47:28  x y"} {
		if m, err := ParseDirLine([]byte(in)); !errors.Is(err, ErrMalformedSyslog) {
			t.Errorf("ParseDirLine(%q) = %+v, %v; want ErrMalformedSyslog", in, m, err)
		}
	}
}

func TestAttribute(t *testing.T) {
	rec := "B 1 2009-07-30 15:47:21.5 GET /"
	tests := []struct {
		m                          Message
		customer, instance, record string
	}{
		{Message{Body: []byte("acme app-8080 " + rec)}, "acme", "app-8080", rec},
		{Message{Body: []byte("acme app-8080 : " + rec)}, "acme", "app-8080", rec},
		{Message{Body: []byte("  acme app-8080 : " + rec)}, "acme", "app-8080", rec},
		{Message{Tag: []byte("tag"), ProcID: []byte("9"), Body: []byte("acme app-8080 " + rec)}, "acme", "app-8080", rec},
		{Message{Tag: []byte("acme"), Body: []byte(rec)}, "acme", "acme", rec},
		{Message{Tag: []byte("acme"), ProcID: []byte("4242"), Body: []byte(rec)}, "acme", "4242", rec},
		{Message{Tag: []byte("acme"), Body: []byte(" " + rec)}, "acme", "acme", rec},
		// A relay split "acme app-8080 [:] RECORD" after the first word.
		{Message{Tag: []byte("acme"), Body: []byte("app-8080 : " + rec)}, "acme", "app-8080", rec},
		{Message{Tag: []byte("acme"), Body: []byte("app-8080 " + rec)}, "acme", "app-8080", rec},
		// One-letter customer: "x y B 1 ..." is not a record (RID "y" is followed by "B").
		{Message{Body: []byte("x y " + rec)}, "x", "y", rec},
		{Message{Body: []byte("acme app U 000000000 2010-06-10T14:03:21 Zope Ready")}, "acme", "app", "U 000000000 2010-06-10T14:03:21 Zope Ready"},
		// The record itself is checked by ParseRecord, not here.
		{Message{Body: []byte("acme app-8080 garbage")}, "acme", "app-8080", "garbage"},
	}
	for _, tt := range tests {
		c, i, r, err := Attribute(tt.m)
		if err != nil {
			t.Errorf("Attribute(%q): %v", tt.m.Body, err)
			continue
		}
		if string(c) != tt.customer || string(i) != tt.instance || string(r) != tt.record {
			t.Errorf("Attribute(%+v) = %q %q %q, want %q %q %q", tt.m, c, i, r, tt.customer, tt.instance, tt.record)
		}
	}
	for _, m := range []Message{
		{Body: []byte(rec)},
		{Host: []byte("h"), ProcID: []byte("1"), Body: []byte(rec)},
		{Tag: []byte("B"), Body: []byte("1 2009-07-30 15:47:21.5 GET /")},
		{},
		{Body: []byte("acme")},
		{Body: []byte("acme app-8080")},
		{Body: []byte("acme app-8080 ")},
		{Body: []byte("acme app-8080 :")},
		{Body: []byte("acme : " + rec)},
		{Body: []byte(": app " + rec)},
		{Body: []byte("acme  app " + rec)},
	} {
		if c, i, r, err := Attribute(m); !errors.Is(err, ErrMalformedSyslog) || c != nil || i != nil || r != nil {
			t.Errorf("Attribute(%+v) = %q %q %q %v; want ErrMalformedSyslog", m, c, i, r, err)
		}
	}
}

// TestHotPathAllocs pins the promise that the common shapes cost no
// allocation: the Python fast path, directory lines and attribution.
func TestHotPathAllocs(t *testing.T) {
	py := []byte("<14>acme app-8080 : A 0.-1449537908 2009-07-30 15:52:36.766928 200 80348\x00")
	dir := []byte("Nov 21 22:47:28 host1 acme[8080]: A 0.-1 2009-07-30 15:47:21.9 200 93638\n")
	bad := []byte("<1234>x")
	n := testing.AllocsPerRun(1000, func() {
		m, err := ParseSyslog(py)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := Attribute(m); err != nil {
			t.Fatal(err)
		}
		if m, err = ParseDirLine(dir); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := Attribute(m); err != nil {
			t.Fatal(err)
		}
		if _, err := ParseSyslog(bad); err == nil {
			t.Fatal("no error")
		}
		if _, _, _, err := Attribute(Message{Body: []byte("x")}); err == nil {
			t.Fatal("no error")
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}
