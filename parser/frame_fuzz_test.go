package parser

import (
	"bytes"
	"strconv"
	"testing"
	"testing/iotest"
)

func frameSeeds(f *testing.F) {
	f.Add([]byte("<13>"), uint16(64))
	f.Add([]byte("-5 x"), uint16(64))
	f.Add(make([]byte, 4096), uint16(64))
	f.Add(bytes.Repeat([]byte("A"), 1<<20), uint16(1024))
	f.Add([]byte("\xff\xfe<13>\xc3\x28\n\xed\xa0\x80\x00"), uint16(64))
	f.Add([]byte("99999999999 x"), uint16(64))
	f.Add([]byte("5 <13>a5 <13>b\n<13>c\x00999 abc"), uint16(8))
	f.Add([]byte("<14>1 2009-07-30T15:47:21Z h app 1 - - msg\n"), uint16(0))
}

// FuzzFrameSplitter checks, for any bytes, that splitting never panics or
// fails, never returns an empty or oversized message, accounts for every
// byte, and frames the same however the bytes are chunked.
func FuzzFrameSplitter(f *testing.F) {
	frameSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, max16 uint16) {
		max := int(max16)%4096 + 1
		msgs, drops := splitAll(t, bytes.NewReader(data), max)
		total := 0
		for _, m := range msgs {
			if len(m) == 0 || len(m) > max {
				t.Fatalf("message of %d bytes, max %d", len(m), max)
			}
			total += len(m)
		}
		for _, d := range drops {
			total += d
		}
		if total > len(data) {
			t.Fatalf("%d message and dropped bytes from %d input bytes", total, len(data))
		}
		if len(data) > 64<<10 {
			return // byte-at-a-time over big inputs is slow and adds nothing
		}
		msgs2, drops2 := splitAll(t, iotest.OneByteReader(bytes.NewReader(data)), max)
		if !equalStrings(msgs, msgs2) || !equalInts(drops, drops2) {
			t.Fatalf("chunking changed framing: whole %q %v, bytewise %q %v", msgs, drops, msgs2, drops2)
		}
	})
}

// FuzzFrameRoundTrip frames arbitrary messages the ways senders do and
// checks that exactly those messages come back.
func FuzzFrameRoundTrip(f *testing.F) {
	f.Add([]byte("<13>a|-5 x|99999999999 x|\x00\x00|<14>1 2009 h a - - body\n"), uint8(0))
	f.Add([]byte("<13>|12 |1 1 1|\xff\xfe"), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, framing uint8) {
		const max = 256
		var in bytes.Buffer
		var want []string
		for i, m := range bytes.Split(data, []byte("|")) {
			if len(m) == 0 || len(m) > max {
				continue
			}
			// Octet counting carries anything. Terminator framing carries a
			// message without terminators that does not itself look like an
			// octet count, as real newline/NUL senders always start with '<'.
			mode := (int(framing) + i) % 3
			plain := !bytes.ContainsAny(m, "\n\x00")
			if _, _, isCount := octetCount(m); isCount || !plain || m[0] >= '1' && m[0] <= '9' {
				mode = 0
			}
			switch mode {
			case 0:
				in.WriteString(strconv.Itoa(len(m)) + " ")
				in.Write(m)
			case 1:
				in.Write(m)
				in.WriteByte('\n')
			case 2:
				in.Write(m)
				in.WriteByte(0)
			}
			want = append(want, string(m))
		}
		got, drops := splitAll(t, iotest.HalfReader(bytes.NewReader(in.Bytes())), max)
		if len(drops) != 0 || !equalStrings(got, want) {
			t.Fatalf("input %q: got %q (drops %v), want %q", in.Bytes(), got, drops, want)
		}
	})
}
