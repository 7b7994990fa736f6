package render

import (
	"bufio"
	"errors"
	"fmt"
	"graphmetrics/web/internal/rrdretry"
	"io"
	"strings"
	"time"

	"github.com/ziutek/rrd"
)

// WorkerMain serves requests from in until it is closed. It runs in a child
// process: librrd's graph call takes a global lock and leaks a little memory
// on every call, so the pool runs several of these and replaces each after
// a number of renders.
func WorkerMain(in io.Reader, out io.Writer) error {
	r := bufio.NewReader(in)
	w := bufio.NewWriter(out)
	root := ""
	for {
		var req Request
		if err := readJSON(r, &req); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read request: %w", err)
		}
		payload, err := serve(&req, &root)
		resp := Response{}
		if req.Graph != nil && req.Graph.scaled() {
			resp.Scale, resp.Shift = req.Graph.OwnScale, req.Graph.OwnShift
		}
		if err != nil {
			resp.Error = err.Error()
			payload = nil
		}
		if err := writeJSON(w, resp); err != nil {
			return fmt.Errorf("write response: %w", err)
		}
		if err := writeFrame(w, payload); err != nil {
			return fmt.Errorf("write response: %w", err)
		}
		if err := w.Flush(); err != nil {
			return fmt.Errorf("write response: %w", err)
		}
	}
}

func serve(req *Request, root *string) ([]byte, error) {
	switch req.Op {
	case OpHello:
		if err := checkFile(req.Root, req.Root+"/x.rrd"); err != nil {
			return nil, err
		}
		*root = req.Root
		return nil, nil
	case OpGraph, OpXport:
		if *root == "" {
			return nil, errors.New("no root set")
		}
		if req.Graph == nil {
			return nil, invalid("no graph")
		}
		if err := req.Graph.Validate(*root); err != nil {
			return nil, err
		}
		cleanup, err := withData(req.Graph)
		if err != nil {
			return nil, err
		}
		defer cleanup()
		if req.Op == OpGraph {
			return graph(req.Graph)
		}
		x, err := xport(req.Graph)
		if err != nil {
			return nil, err
		}
		return x.MarshalBinary()
	case OpError:
		return errorGraph(req.Message, req.Width, req.Height)
	case OpData:
		if req.Data == nil {
			return nil, invalid("no data")
		}
		return dataGraph(req.Data)
	case OpHeatmap:
		if req.Heatmap == nil {
			return nil, invalid("no heatmap")
		}
		return heatmapSVG(req.Heatmap)
	}
	return nil, fmt.Errorf("unknown op %q", req.Op)
}

func graph(g *Graph) ([]byte, error) {
	if g.OwnScale == 0 && g.ownAxis() {
		// The own lines' factor comes from the data as drawn: an export
		// at the image's step of the same series.
		x, err := xport(g)
		if err != nil {
			return nil, err
		}
		g.OwnScale, g.OwnShift = g.ScaleFrom(x)
	}
	gr := rrd.NewGrapher()
	gr.SetTitle(g.Title)
	gr.SetVLabel(g.VLabel)
	gr.AddOptions(g.Options()...)
	gr.AddOptions(g.GraphElements()...)
	var img []byte
	err := rrdretry.Do(func() (err error) {
		_, img, err = gr.Graph(time.Unix(g.Start, 0), time.Unix(g.End, 0))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("rrd graph: %w", err)
	}
	return img, nil
}

func xport(g *Graph) (*Xport, error) {
	e := rrd.NewExporter()
	for _, d := range g.Defs {
		e.Def(d.Name, escape(d.File), d.DS, d.CF)
	}
	for _, c := range g.CDefs {
		e.CDef(c.Name, strings.Join(c.RPN, ","))
	}
	for _, d := range g.Draws {
		e.XportDef(d.Name, escape(d.Legend))
	}
	// librrd's default of 400 rows would silently coarsen a longer export's
	// step; the caller bounds the size (export.Run's limit).
	rows := (g.End-g.Start)/int64(g.XportStep()) + 2
	e.SetMaxRows(uint(min(max(rows, 10), MaxXportRows))) // librrd refuses fewer than 10
	step := time.Duration(g.XportStep()) * time.Second
	var res rrd.XportResult
	err := rrdretry.Do(func() (err error) {
		res, err = e.Xport(time.Unix(g.Start, 0), time.Unix(g.End, 0), step)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("rrd xport: %w", err)
	}
	defer res.FreeValues()
	// librrd returns the start of the range; row i ends at start+(i+1)×step,
	// which is what rrdtool xport prints as the row's time.
	st := int64(res.Step / time.Second)
	x := Xport{Start: res.Start.Unix() + st, End: res.End.Unix(), Step: int(st),
		Legends: res.Legends, Rows: int(res.RowCnt), Values: make([]float64, 0, int(res.RowCnt)*len(res.Legends))}
	for i := range x.Rows {
		for j := range res.Legends {
			x.Values = append(x.Values, res.ValueAt(j, i))
		}
	}
	return &x, nil
}

// errorGraph draws msg on an otherwise empty rrd image, so an <img> shows
// the reason instead of a broken-image icon.
func errorGraph(msg string, width, height int) ([]byte, error) {
	width = min(max(width, MinWidth), MaxWidth)
	height = min(max(height, MinHeight), MaxHeight)
	gr := rrd.NewGrapher()
	gr.SetTitle("graph error")
	gr.AddOptions("--width", fmt.Sprint(width), "--height", fmt.Sprint(height),
		"--full-size-mode", "--x-grid", "none", "--y-grid", "none", "--border", "0",
		"--units-length", "0", "--disable-rrdtool-tag",
		"--color", "BACK#fff0f0", "--color", "CANVAS#fff0f0", "--color", "FRAME#fff0f0",
		"--color", "AXIS#fff0f000", "--color", "ARROW#fff0f000", "--color", "FONT#a00000")
	gr.AddOptions("HRULE:0#00000000")
	perLine := max(width/7-4, 20)
	lines := max((height-40)/14, 1)
	for _, l := range wrap(msg, perLine, lines) {
		gr.AddOptions("COMMENT:" + escape(l) + `\n`)
	}
	_, img, err := gr.Graph(time.Unix(1e9, 0), time.Unix(1e9+3600, 0))
	if err != nil {
		return nil, fmt.Errorf("rrd graph of error: %w", err)
	}
	return img, nil
}

// wrap splits s into at most n lines of at most width characters.
func wrap(s string, width, n int) []string {
	var out []string
	line := ""
	for _, word := range strings.Fields(clean(s)) {
		for len(word) > width {
			if line != "" {
				out, line = append(out, line), ""
			}
			out, word = append(out, word[:width]), word[width:]
		}
		switch {
		case line == "":
			line = word
		case len(line)+1+len(word) <= width:
			line += " " + word
		default:
			out, line = append(out, line), word
		}
	}
	if line != "" {
		out = append(out, line)
	}
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// clean keeps printable ASCII, as the rrd default font has little else.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return ' '
		}
		return r
	}, s)
}
