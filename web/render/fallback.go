package render

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
)

// FallbackPNG is the error image when no worker can draw one: a pale red
// box with a red border and a cross, so it is never mistaken for a chart.
func FallbackPNG(width, height int) []byte {
	width = min(max(width, MinWidth), MaxWidth)
	height = min(max(height, MinHeight), MaxHeight)
	img := image.NewPaletted(image.Rect(0, 0, width, height),
		color.Palette{color.RGBA{0xff, 0xf0, 0xf0, 0xff}, color.RGBA{0xc0, 0, 0, 0xff}})
	for x := range width {
		for y := range height {
			dx := x * height / width
			if x < 2 || y < 2 || x >= width-2 || y >= height-2 || abs(dx-y) < 2 || abs(dx-(height-1-y)) < 2 {
				img.SetColorIndex(x, y, 1)
			}
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
