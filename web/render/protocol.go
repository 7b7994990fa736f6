package render

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
)

// The pool talks to a worker over its stdin and stdout. Every message is a
// frame: a 4-byte big-endian length, then that many bytes. A request is one
// frame of JSON; a response is a frame of JSON (Response) followed by a
// frame of payload (the PNG, or Xport.MarshalBinary; empty on error).

// Operations a worker understands.
const (
	OpHello = "hello" // sets Root, the directory every DEF file must be under
	OpGraph = "graph"
	OpXport = "xport"
	OpError = "error" // draws Message as an error image of Width×Height
)

const maxFrame = 64 << 20

// MaxXportRows bounds the rows of one export (within maxFrame at 8 bytes a
// value); callers bound rows × series further.
const MaxXportRows = 5_000_002

// Request is one job for a worker.
type Request struct {
	Op      string     `json:"op"`
	Root    string     `json:"root,omitempty"`
	Graph   *Graph     `json:"graph,omitempty"`
	Data    *DataGraph `json:"data,omitempty"`
	Heatmap *Heatmap   `json:"heatmap,omitempty"`
	Message string     `json:"message,omitempty"`
	Width   int        `json:"width,omitempty"`
	Height  int        `json:"height,omitempty"`
}

// Response is the header a worker sends back before the payload.
type Response struct {
	Error string `json:"error,omitempty"`
	// Scale is the factor of a graph's own-axis lines (Graph.OwnScale).
	Scale float64 `json:"scale,omitempty"`
	Shift float64 `json:"shift,omitempty"` // and Graph.OwnShift
}

// Xport is the result of an OpXport request: Values holds the rows one
// after the other, one value per legend, NaN when unknown. Row i covers the
// step ending at Start + i×Step (RRD's convention, as `rrdtool xport`
// prints it). On the wire (MarshalBinary) it is compact: 8 bytes a value,
// so a maximal export costs the daemon little memory.
type Xport struct {
	Start   int64     `json:"start"`
	End     int64     `json:"end"`
	Step    int       `json:"step"`
	Legends []string  `json:"legends"`
	Rows    int       `json:"rows"`
	Values  []float64 `json:"-"`
}

// Row returns the values of row i, one per legend.
func (x *Xport) Row(i int) []float64 {
	n := len(x.Legends)
	return x.Values[i*n : (i+1)*n : (i+1)*n]
}

// MarshalBinary encodes x as the payload of an OpXport response: a 4-byte
// big-endian length, that much JSON (everything but the values), then the
// values as little-endian IEEE 754 doubles.
func (x *Xport) MarshalBinary() ([]byte, error) {
	if len(x.Values) != x.Rows*len(x.Legends) {
		return nil, fmt.Errorf("xport: %d values for %d rows of %d", len(x.Values), x.Rows, len(x.Legends))
	}
	head, err := json.Marshal(x)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 4, 4+len(head)+8*len(x.Values))
	binary.BigEndian.PutUint32(b, uint32(len(head)))
	b = append(b, head...)
	for _, v := range x.Values {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary made.
func (x *Xport) UnmarshalBinary(b []byte) error {
	if len(b) < 4 || uint64(binary.BigEndian.Uint32(b)) > uint64(len(b)-4) {
		return errors.New("xport: short payload")
	}
	n := int(binary.BigEndian.Uint32(b))
	if err := json.Unmarshal(b[4:4+n], x); err != nil {
		return fmt.Errorf("xport: %w", err)
	}
	vals := b[4+n:]
	if x.Rows < 0 || len(vals) != 8*x.Rows*len(x.Legends) {
		return fmt.Errorf("xport: %d bytes of values for %d rows of %d", len(vals), x.Rows, len(x.Legends))
	}
	x.Values = make([]float64, len(vals)/8)
	for i := range x.Values {
		x.Values[i] = math.Float64frombits(binary.LittleEndian.Uint64(vals[8*i:]))
	}
	return nil
}

func writeFrame(w io.Writer, b []byte) error {
	var h [4]byte
	binary.BigEndian.PutUint32(h[:], uint32(len(b)))
	if _, err := w.Write(h[:]); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}

func readFrame(r io.Reader) ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(h[:])
	if n > maxFrame {
		return nil, fmt.Errorf("frame of %d bytes exceeds %d", n, maxFrame)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("short frame: %w", err)
	}
	return b, nil
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeFrame(w, b)
}

func readJSON(r io.Reader, v any) error {
	b, err := readFrame(r)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
