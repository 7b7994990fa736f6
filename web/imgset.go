package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"graphmetrics/web/render"
)

// Without JS a chart is the server's image, offered at a few widths
// (srcset with width descriptors, and twice the pixels on HiDPI screens)
// so the browser picks the one that fills the chart's column; the image
// URL's iw sets the drawing's width and nothing else. Heights stay the
// chart's own.
var imageWidths = []int{400, 560, 720, 880, 1040, 1200, 1440, 1800}

// srcset lists img at every width; theme and zoom as the image URL takes them.
func srcset(img, theme string, zoom int) string {
	var b strings.Builder
	for i, w := range imageWidths {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(img + "&iw=" + strconv.Itoa(w))
		if theme != "" {
			b.WriteString("&theme=" + theme)
		}
		if zoom == 2 {
			b.WriteString("&zoom=2")
		}
		b.WriteString(" " + strconv.Itoa(w*zoom) + "w")
	}
	return b.String()
}

// imgSizes is the width of the charts' column: the window less the page's
// margins, and less the side panel of asideEm (0: none) where the panel
// stands beside the charts (wider than 900 px, style.css).
func imgSizes(asideEm int) string {
	if asideEm == 0 {
		return "calc(100vw - 4em)"
	}
	return "(max-width: 900px) calc(100vw - 4em), calc(100vw - " + strconv.Itoa(asideEm+3) + "em)"
}

// imageWidth is the iw parameter of an image URL: the width to draw at,
// instead of the chart's saved one; 0 when absent.
func imageWidth(r *http.Request) (int, error) {
	s := r.URL.Query().Get("iw")
	if s == "" {
		return 0, nil
	}
	w, err := strconv.Atoi(s)
	if err != nil || w < render.MinWidth || w > render.MaxWidth {
		return 0, fmt.Errorf("%w: iw %q not in %d..%d", render.ErrInvalid, s, render.MinWidth, render.MaxWidth)
	}
	return w, nil
}
