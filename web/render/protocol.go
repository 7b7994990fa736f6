package render

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
)

// The pool talks to a worker over its stdin and stdout. Every message is a
// frame: a 4-byte big-endian length, then that many bytes. A request is one
// frame of JSON; a response is a frame of JSON (Response) followed by a
// frame of payload (the PNG, or xport JSON; empty on error).

// Operations a worker understands.
const (
	OpHello = "hello" // sets Root, the directory every DEF file must be under
	OpGraph = "graph"
	OpXport = "xport"
	OpError = "error" // draws Message as an error image of Width×Height
)

const maxFrame = 64 << 20

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
}

// Xport is the payload of an OpXport response: rows of values per legend,
// NaN (unknown) encoded as null. Row i covers the step ending at
// Start + i×Step (RRD's convention, as `rrdtool xport` prints it).
type Xport struct {
	Start   int64        `json:"start"`
	End     int64        `json:"end"`
	Step    int          `json:"step"`
	Legends []string     `json:"legends"`
	Rows    [][]*float64 `json:"rows"`
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
