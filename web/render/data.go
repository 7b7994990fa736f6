package render

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ziutek/rrd"
)

// OpData draws series whose values travel in the request (the Graphite
// API's computed series, format=png): the worker writes each into an RRD
// file of its own in a temporary directory, graphs them and removes the
// directory. No file name comes from the request.
const OpData = "data"

// Bounds of a data graph.
const (
	MaxDataSeries = 100
	MaxDataPoints = 1_000_000 // all series together
)

// DataGraph is the payload of OpData.
type DataGraph struct {
	Start, End    int64
	Width, Height int
	Title         string
	Series        []DataSeries
}

// DataSeries is one line: Values[i] holds from Start+i·Step for Step
// seconds; nil is unknown.
type DataSeries struct {
	Name   string
	Dashed bool
	Start  int64
	Step   int64
	Values []*float64
}

var palette = []string{"1f77b4", "ff7f0e", "2ca02c", "d62728", "9467bd", "8c564b", "e377c2", "7f7f7f", "bcbd22", "17becf"}

// Validate checks the bounds.
func (d *DataGraph) Validate() error {
	if err := ValidateRange(d.Start, d.End, 0); err != nil {
		return err
	}
	if d.Width < MinWidth || d.Width > MaxWidth || d.Height < MinHeight || d.Height > MaxHeight {
		return invalid("image size %d×%d not in %d..%d × %d..%d", d.Width, d.Height, MinWidth, MaxWidth, MinHeight, MaxHeight)
	}
	if err := checkText("title", d.Title); err != nil {
		return err
	}
	if len(d.Series) > MaxDataSeries {
		return invalid("more than %d series", MaxDataSeries)
	}
	for _, s := range d.Series {
		if len(s.Name) > maxText {
			return invalid("series name longer than %d bytes", maxText)
		}
	}
	return validateData(d.Series)
}

// validateData checks series whose values travel in a request: steps,
// starts and the points of all together.
func validateData(ss []DataSeries) error {
	n := 0
	for _, s := range ss {
		n += len(s.Values)
		if s.Step <= 0 || s.Step > MaxStep || s.Start < MinTime || s.Start > MaxTime {
			return invalid("series step %d or start %d out of bounds", s.Step, s.Start)
		}
	}
	if n > MaxDataPoints {
		return invalid("more than %d points", MaxDataPoints)
	}
	return nil
}

func dataGraph(d *DataGraph) ([]byte, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "graphmetrics-data-")
	if err != nil {
		return nil, fmt.Errorf("data graph: %w", err)
	}
	defer os.RemoveAll(dir)
	gr := rrd.NewGrapher()
	gr.SetTitle(clean(d.Title))
	gr.AddOptions("--width", strconv.Itoa(d.Width), "--height", strconv.Itoa(d.Height),
		"--full-size-mode", "--disable-rrdtool-tag")
	if len(d.Series) == 0 {
		gr.AddOptions("HRULE:0#00000000", "COMMENT:No data")
	}
	for i, s := range d.Series {
		path := filepath.Join(dir, strconv.Itoa(i)+".rrd")
		if err := writeData(path, s); err != nil {
			return nil, err
		}
		v := "s" + strconv.Itoa(i)
		line := "LINE1:" + v + "#" + palette[i%len(palette)] + ":" + escape(clean(s.Name)) + `\n`
		if s.Dashed {
			line += ":dashes"
		}
		gr.AddOptions("DEF:"+v+"="+path+":v:AVERAGE", line)
	}
	_, img, err := gr.Graph(time.Unix(d.Start, 0), time.Unix(d.End, 0))
	if err != nil {
		return nil, fmt.Errorf("rrd graph: %w", err)
	}
	return img, nil
}

// writeData stores s so that the row ending at Start+(i+1)·Step holds
// Values[i], and a nil value is unknown. The file's last update is Start,
// every step is updated (a nil one with "U") and the heartbeat is one
// step, so a gap never spreads a neighbour's value over itself, nor
// makes the step after it unknown. Updates go to librrd in batches.
func writeData(path string, s DataSeries) error {
	c := rrd.NewCreator(path, time.Unix(s.Start, 0), uint(s.Step))
	c.DS("v", "GAUGE", s.Step, "U", "U")
	c.RRA("AVERAGE", 0.5, 1, max(len(s.Values)+2, 2))
	if err := c.Create(true); err != nil {
		return fmt.Errorf("data series: create: %w", err)
	}
	u := rrd.NewUpdater(path)
	for i, v := range s.Values {
		t := time.Unix(s.Start+int64(i+1)*s.Step, 0)
		if v == nil {
			u.Cache(t, "U")
		} else {
			u.Cache(t, *v)
		}
		if (i+1)%500 == 0 {
			if err := u.Update(); err != nil {
				return fmt.Errorf("data series: update: %w", err)
			}
		}
	}
	if err := u.Update(); err != nil {
		return fmt.Errorf("data series: update: %w", err)
	}
	return nil
}
