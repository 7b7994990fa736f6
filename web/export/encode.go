package export

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"strconv"

	"graphmetrics/web/render"
)

// JSON writes x in the shape of Graphite's render API, so tools that read
// Graphite can read it:
//
//	[{"target": "legend", "datapoints": [[value, epoch], …]}, …]
//
// with one object per series and null for unknown values.
func JSON(w io.Writer, x *render.Xport) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteByte('[')
	var num []byte
	for j, legend := range x.Legends {
		if j > 0 {
			bw.WriteByte(',')
		}
		target, err := json.Marshal(legend)
		if err != nil {
			return err
		}
		bw.WriteString(`{"target":`)
		bw.Write(target)
		bw.WriteString(`,"datapoints":[`)
		for i := range x.Rows {
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.WriteByte('[')
			num = appendValue(num[:0], x.Values[i*len(x.Legends)+j], "null")
			bw.Write(num)
			bw.WriteByte(',')
			num = strconv.AppendInt(num[:0], rowTime(x, i), 10)
			bw.Write(num)
			bw.WriteByte(']')
		}
		bw.WriteString("]}")
	}
	bw.WriteString("]\n")
	return bw.Flush()
}

// CSV writes a header "time,legend1,legend2…" and one row per step: the
// Unix time in seconds, then each series' value, empty when unknown.
// Legends that a spreadsheet would take for a formula (starting with = + -
// @, tab or carriage return) get a leading apostrophe.
func CSV(w io.Writer, x *render.Xport) error {
	cw := csv.NewWriter(w)
	rec := make([]string, 1+len(x.Legends))
	rec[0] = "time"
	for j, l := range x.Legends {
		rec[1+j] = defuse(l)
	}
	if err := cw.Write(rec); err != nil {
		return err
	}
	var num []byte
	for i := range x.Rows {
		rec[0] = strconv.FormatInt(rowTime(x, i), 10)
		for j, v := range x.Row(i) {
			num = appendValue(num[:0], v, "")
			rec[1+j] = string(num)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func rowTime(x *render.Xport, i int) int64 { return x.Start + int64(i)*int64(x.Step) }

// appendValue writes v in the shortest form that reads back exactly;
// unknown and infinite values are written as unknown.
func appendValue(b []byte, v float64, unknown string) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, unknown...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

func defuse(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
