package parser

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// splitAll runs a frame splitter over r the way a reader would and returns
// the messages and the oversize reports.
func splitAll(t testing.TB, r io.Reader, max int) (msgs []string, drops []int) {
	t.Helper()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 16), max+FrameOverhead)
	sc.Split(NewFrameSplitterFunc(max, func(n int) { drops = append(drops, n) }))
	for sc.Scan() {
		msgs = append(msgs, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("scanner: %v", err)
	}
	return msgs, drops
}

func TestFrameSplitter(t *testing.T) {
	long := strings.Repeat("x", 40)
	tests := []struct {
		name  string
		in    string
		max   int
		want  []string
		drops []int
	}{
		{name: "empty", in: "", max: 32},
		{name: "only terminators", in: "\n\x00\n\n\x00", max: 32},
		{name: "newline", in: "<13>a\n<13>b\n", max: 32, want: []string{"<13>a", "<13>b"}},
		{name: "crlf keeps cr", in: "<13>a\r\n", max: 32, want: []string{"<13>a\r"}},
		{name: "nul python tcp", in: "<14>one\x00<14>two\x00", max: 32, want: []string{"<14>one", "<14>two"}},
		{name: "nul then newline", in: "<14>one\x00\n<14>two\x00\n", max: 32, want: []string{"<14>one", "<14>two"}},
		{name: "unterminated last", in: "<13>a\n<13>b", max: 32, want: []string{"<13>a", "<13>b"}},
		{name: "pri only", in: "<13>", max: 32, want: []string{"<13>"}},
		{name: "negative count is a line", in: "-5 x", max: 32, want: []string{"-5 x"}},
		{name: "octet counted", in: "5 <13>a6 <13>bc", max: 32, want: []string{"<13>a", "<13>bc"}},
		{name: "octet keeps newline and nul", in: "8 <13>a\x00b\n", max: 32, want: []string{"<13>a\x00b\n"}},
		{name: "octet then newline framing", in: "5 <13>a<13>b\n", max: 32, want: []string{"<13>a", "<13>b"}},
		{name: "newline then octet", in: "<13>b\n5 <13>a", max: 32, want: []string{"<13>b", "<13>a"}},
		{name: "leading zero is a line", in: "05 <13>a\n", max: 32, want: []string{"05 <13>a"}},
		{name: "zero is a line", in: "0 x\n", max: 32, want: []string{"0 x"}},
		{name: "ten digits is a line", in: "1234567890 x\n", max: 32, want: []string{"1234567890 x"}},
		{name: "eleven digits is a line", in: "99999999999 x", max: 32, want: []string{"99999999999 x"}},
		{name: "digits without space", in: "123\n", max: 32, want: []string{"123"}},
		{name: "digits at eof", in: "123", max: 32, want: []string{"123"}},
		{name: "header at eof", in: "12 ", max: 32},
		{name: "octet cut short", in: "10 <13>ab", max: 32, want: []string{"<13>ab"}},
		{name: "exactly max line", in: "abcd\nef\n", max: 4, want: []string{"abcd", "ef"}},
		{name: "exactly max octet", in: "4 abcd2 ef", max: 4, want: []string{"abcd", "ef"}},
		{name: "oversize line dropped", in: "abcde\nok\n", max: 4, want: []string{"ok"}, drops: []int{5}},
		{name: "oversize long line dropped", in: long + "\x00ok\n", max: 8, want: []string{"ok"}, drops: []int{40}},
		{name: "oversize line at eof", in: "ok\n" + long, max: 8, want: []string{"ok"}, drops: []int{40}},
		{name: "oversize octet skipped exactly", in: "10 " + long[:10] + "2 ok", max: 8, want: []string{"ok"}, drops: []int{10}},
		{name: "oversize octet cut short", in: "ok\n20 abc", max: 8, want: []string{"ok"}, drops: []int{3}},
		{name: "oversize octet with terminators inside", in: "12 a\nb\x00c\nd\ne\nf\n<1>x\n", max: 8, want: []string{"<1>x"}, drops: []int{12}},
		{name: "two oversize", in: long + "\n" + long + "\nok", max: 8, want: []string{"ok"}, drops: []int{40, 40}},
		{name: "invalid utf8 passes", in: "\xff\xfe<13>\xc3\x28\n", max: 32, want: []string{"\xff\xfe<13>\xc3\x28"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The framing must not depend on how the bytes arrive.
			readers := map[string]func() io.Reader{
				"whole":    func() io.Reader { return strings.NewReader(tt.in) },
				"bytewise": func() io.Reader { return iotest.OneByteReader(strings.NewReader(tt.in)) },
				"halves":   func() io.Reader { return iotest.HalfReader(strings.NewReader(tt.in)) },
			}
			for rname, mk := range readers {
				msgs, drops := splitAll(t, mk(), tt.max)
				if !equalStrings(msgs, tt.want) {
					t.Errorf("%s: messages %q, want %q", rname, msgs, tt.want)
				}
				if !equalInts(drops, tt.drops) {
					t.Errorf("%s: oversize reports %v, want %v", rname, drops, tt.drops)
				}
			}
		})
	}
}

// The plain constructor must frame the same way, just without reports.
func TestFrameSplitterNoCallback(t *testing.T) {
	sc := bufio.NewScanner(strings.NewReader("abcdefgh\n3 abc<1>x\x00"))
	sc.Buffer(nil, 4+FrameOverhead)
	sc.Split(NewFrameSplitter(4))
	var got []string
	for sc.Scan() {
		got = append(got, sc.Text())
	}
	if sc.Err() != nil || !equalStrings(got, []string{"abc", "<1>x"}) {
		t.Fatalf("got %q, err %v", got, sc.Err())
	}
}

// A 1 MiB line and a NUL flood go through a small scanner buffer without
// ErrTooLong and without killing the stream.
func TestFrameSplitterHostile(t *testing.T) {
	var in bytes.Buffer
	in.WriteString("<13>before\n")
	in.Write(bytes.Repeat([]byte("A"), 1<<20))
	in.WriteString("\n")
	in.Write(make([]byte, 1<<20)) // NUL flood: only empty frames
	in.WriteString("<13>after\x00")
	in.WriteString("999999999 ") // oversized octet count, cut short by EOF
	in.Write(bytes.Repeat([]byte("z"), 1000))

	msgs, drops := splitAll(t, &in, 64<<10)
	if !equalStrings(msgs, []string{"<13>before", "<13>after"}) {
		t.Errorf("messages %q", msgs)
	}
	if !equalInts(drops, []int{1 << 20, 1000}) {
		t.Errorf("oversize reports %v", drops)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func BenchmarkFrameSplitter(b *testing.B) {
	const rfc5424 = "<14>1 2009-07-30T15:47:21Z host app 123 - - A 139932045653648 2009-07-30 15:47:21 200 ?\n"
	var in bytes.Buffer
	for i := 0; i < 1000; i++ {
		in.WriteString("<14>zc.tracelog: cust inst B 139932045653648 2009-07-30 15:47:21.349080 GET /foo\x00")
		in.WriteString(strconv.Itoa(len(rfc5424)) + " " + rfc5424)
	}
	data := in.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		split := NewFrameSplitter(64 << 10)
		n := 0
		for rest := data; len(rest) > 0; {
			adv, tok, _ := split(rest, true)
			if tok != nil {
				n++
			}
			rest = rest[adv:]
		}
		if n != 2000 {
			b.Fatalf("got %d messages", n)
		}
	}
}

// Line protocols: digits and a space at the start are part of the line.
func TestLineSplitter(t *testing.T) {
	var drops []int
	sc := bufio.NewScanner(strings.NewReader("5 a.b 1 2\n12 x\nlong-line-here\nok 1\nlast"))
	sc.Buffer(make([]byte, 0, 16), 10+FrameOverhead)
	sc.Split(NewLineSplitterFunc(10, func(n int) { drops = append(drops, n) }))
	var got []string
	for sc.Scan() {
		got = append(got, sc.Text())
	}
	want := []string{"5 a.b 1 2", "12 x", "ok 1", "last"}
	if sc.Err() != nil || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q (%v), want %q", got, sc.Err(), want)
	}
	if len(drops) != 1 || drops[0] != 14 {
		t.Errorf("drops %v, want [14]", drops)
	}
}
