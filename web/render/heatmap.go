package render

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/png"
	"math"
	"time"
)

// OpHeatmap draws a heatmap (issue 13's app-time view), which librrd cannot:
// the worker paints the cells into a PNG of one pixel per cell and wraps it
// in an SVG with the axes and the colour legend.
const OpHeatmap = "heatmap"

// MaxHeatmapRows bounds the buckets of a heatmap.
const MaxHeatmapRows = 1000

// Heatmap is the payload of OpHeatmap: Cells[i][j] is the share (0..1) of
// column i's requests in row j; column i covers [Start+i·Step,
// Start+(i+1)·Step), row j is the bucket under Labels[j] (rows bottom up,
// on the bucket axis, which is logarithmic when the buckets are).
type Heatmap struct {
	Start, Step   int64
	Width, Height int
	Title         string
	Labels        []string
	Cells         [][]float32
}

// Validate checks the bounds.
func (h *Heatmap) Validate() error {
	if h.Step <= 0 || h.Step > MaxStep || h.Start < MinTime || h.Start > MaxTime {
		return invalid("heatmap step %d or start %d out of bounds", h.Step, h.Start)
	}
	if h.Width < MinWidth || h.Width > MaxWidth || h.Height < MinHeight || h.Height > MaxHeight {
		return invalid("image size %d×%d not in %d..%d × %d..%d", h.Width, h.Height, MinWidth, MaxWidth, MinHeight, MaxHeight)
	}
	if err := checkText("title", h.Title); err != nil {
		return err
	}
	if len(h.Labels) == 0 || len(h.Labels) > MaxHeatmapRows || len(h.Cells)*len(h.Labels) > MaxDataPoints {
		return invalid("heatmap of %d×%d cells", len(h.Cells), len(h.Labels))
	}
	for _, l := range h.Labels {
		if len(l) > 32 {
			return invalid("heatmap label longer than 32 bytes")
		}
	}
	for _, c := range h.Cells {
		if len(c) != len(h.Labels) {
			return invalid("heatmap column of %d cells, want %d", len(c), len(h.Labels))
		}
	}
	return nil
}

// heatColor maps a share in 0..1 to a colour from pale yellow to dark red.
func heatColor(v float64) color.RGBA {
	v = math.Max(0, math.Min(1, v))
	stops := [...][3]float64{{255, 255, 204}, {253, 141, 60}, {189, 0, 38}, {60, 0, 30}}
	x := v * float64(len(stops)-1)
	i := min(int(x), len(stops)-2)
	f := x - float64(i)
	c := func(k int) uint8 { return uint8(stops[i][k] + (stops[i+1][k]-stops[i][k])*f) }
	return color.RGBA{c(0), c(1), c(2), 255}
}

func heatmapSVG(h *Heatmap) ([]byte, error) {
	if err := h.Validate(); err != nil {
		return nil, err
	}
	cols, rows := max(len(h.Cells), 1), len(h.Labels)
	img := image.NewRGBA(image.Rect(0, 0, cols, rows))
	var top float64 // the legend's top: the largest share drawn
	for _, c := range h.Cells {
		for _, v := range c {
			top = max(top, float64(v))
		}
	}
	top = max(top, 1e-9)
	for i, c := range h.Cells {
		for j, v := range c {
			if v > 0 {
				img.SetRGBA(i, rows-1-j, heatColor(float64(v)/top))
			}
		}
	}
	var pngBuf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&pngBuf, img); err != nil {
		return nil, fmt.Errorf("heatmap: %w", err)
	}
	const left, right, up, down = 64, 84, 24, 28
	pw, ph := float64(h.Width-left-right), float64(h.Height-up-down)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="10">`, h.Width, h.Height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/><text x="%d" y="15" text-anchor="middle" font-size="12">%s</text>`, h.Width/2, html.EscapeString(clean(h.Title)))
	fmt.Fprintf(&b, `<image x="%d" y="%d" width="%g" height="%g" preserveAspectRatio="none" style="image-rendering:pixelated" href="data:image/png;base64,%s"/>`,
		left, up, pw, ph, base64.StdEncoding.EncodeToString(pngBuf.Bytes()))
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%g" height="%g" fill="none" stroke="#888"/>`, left, up, pw, ph)
	// Bucket axis: about ten labels, at row boundaries (upper bounds).
	every := max(rows/10, 1)
	for j := 0; j < rows; j += every {
		y := float64(up) + ph - ph*float64(j+1)/float64(rows)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" dy="3">%s s</text>`, left-4, y, html.EscapeString(h.Labels[j]))
	}
	fmt.Fprintf(&b, `<text transform="rotate(-90)" x="%g" y="10" text-anchor="middle">app time (log buckets)</text>`, -(float64(up) + ph/2))
	// Time axis: five labels.
	end := h.Start + int64(cols)*h.Step
	for k := 0; k <= 4; k++ {
		t := h.Start + (end-h.Start)*int64(k)/4
		layout := "01-02 15:04"
		if end-h.Start > 60*86400 {
			layout = "2006-01-02"
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, float64(left)+pw*float64(k)/4, h.Height-down+14, time.Unix(t, 0).UTC().Format(layout))
	}
	// Colour legend: share of the step's requests.
	lx := float64(h.Width - right + 16)
	fmt.Fprintf(&b, `<defs><linearGradient id="hm" x1="0" y1="1" x2="0" y2="0">`)
	for k := 0; k <= 10; k++ {
		c := heatColor(float64(k) / 10)
		fmt.Fprintf(&b, `<stop offset="%d%%" stop-color="#%02x%02x%02x"/>`, k*10, c.R, c.G, c.B)
	}
	fmt.Fprintf(&b, `</linearGradient></defs><rect x="%g" y="%d" width="12" height="%g" fill="url(#hm)" stroke="#888"/>`, lx, up, ph)
	for k := 0; k <= 4; k++ {
		fmt.Fprintf(&b, `<text x="%g" y="%.1f" dy="3">%.0f%%</text>`, lx+16, float64(up)+ph-ph*float64(k)/4, 100*top*float64(k)/4)
	}
	fmt.Fprintf(&b, `<text x="%g" y="%d" font-size="9">share of requests</text>`, lx-14, h.Height-6)
	b.WriteString(`</svg>`)
	return b.Bytes(), nil
}
