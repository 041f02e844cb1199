package plot

import (
	"image"
	"image/color"
	"math"
	"time"
)

// chart maps values in [lo, hi] onto the rectangle r of img (hi at the top).
type chart struct {
	img    *image.RGBA
	r      image.Rectangle
	lo, hi float64
}

func (c chart) px(fx float64) int { return c.r.Min.X + int(math.Round(fx*float64(c.r.Dx()-1))) }

func (c chart) py(v float64) int {
	f := (v - c.lo) / (c.hi - c.lo)
	if math.IsNaN(f) { // infinite or empty range: draw at the bottom rather than off the image
		f = 0
	}
	f = min(max(f, 0), 1)
	return c.r.Max.Y - 1 - int(math.Round(f*float64(c.r.Dy()-1)))
}

// frame draws the chart's border.
func (c chart) frame() {
	r := c.r
	line(c.img, r.Min.X, r.Min.Y, r.Max.X-1, r.Min.Y, black, false)
	line(c.img, r.Min.X, r.Max.Y-1, r.Max.X-1, r.Max.Y-1, black, false)
	line(c.img, r.Min.X, r.Min.Y, r.Min.X, r.Max.Y-1, black, false)
	line(c.img, r.Max.X-1, r.Min.Y, r.Max.X-1, r.Max.Y-1, black, false)
}

// hline draws a horizontal line at value v.
func (c chart) hline(v float64, col color.RGBA, dashed bool) {
	y := c.py(v)
	line(c.img, c.r.Min.X+1, y, c.r.Max.X-2, y, col, dashed)
}

// series draws the values value(step) joined by lines; NaN, Inf and
// missing values break the line.
func (c chart) series(steps []Step, x func(time.Time) float64, value func(Step) (float64, bool), col color.RGBA) {
	havePrev := false
	var px, py int
	for _, st := range steps {
		v, ok := value(st)
		if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
			havePrev = false
			continue
		}
		nx, ny := c.px(x(st.Time)), c.py(v)
		if havePrev {
			line(c.img, px, py, nx, ny, col, false)
		} else {
			c.img.SetRGBA(nx, ny, col)
		}
		px, py, havePrev = nx, ny, true
	}
}

// line draws a Bresenham line, every other 4 pixels skipped when dashed.
func line(img *image.RGBA, x0, y0, x1, y1 int, col color.RGBA, dashed bool) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := sign(x1-x0), sign(y1-y0)
	e := dx + dy
	for i := 0; ; i++ {
		if !dashed || (i/4)%2 == 0 {
			img.SetRGBA(x0, y0, col)
		}
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

// fill paints r with col.
func fill(img *image.RGBA, r image.Rectangle, col color.RGBA) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, col)
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v < 0:
		return -1
	case v > 0:
		return 1
	}
	return 0
}
