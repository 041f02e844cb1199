package plot

import (
	"image"
	"image/color"
	"math"
	"sort"
	"time"
)

// Layout of a drawn figure, in pixels.
const (
	marginL     = 70  // y tick labels
	marginR     = 190 // rule labels
	marginB     = 50  // x tick labels and the axis label
	legendRow   = 20
	panelTitleH = 26
	panelGap    = 22
	lineWidth   = 2.0
)

var (
	white    = color.RGBA{0xff, 0xff, 0xff, 0xff}
	ink      = color.RGBA{0x22, 0x22, 0x22, 0xff}
	muted    = color.RGBA{0x66, 0x66, 0x66, 0xff}
	gridGrey = color.RGBA{0xe4, 0xe4, 0xe4, 0xff}
	frameInk = color.RGBA{0x99, 0x99, 0x99, 0xff}
)

// Draw rasterises f.
func Draw(f *Figure) (*image.RGBA, error) {
	faces, err := loadFaces()
	if err != nil {
		return nil, err
	}
	img := image.NewRGBA(image.Rect(0, 0, f.Width, f.Height))
	fillRect(img, img.Rect, white)
	y := 30.0
	faces[faceTitle].draw(img, marginL, y, f.Title, ink)
	y += 22
	faces[faceNormal].draw(img, marginL, y, f.Subtitle, muted)
	y = drawLegend(img, faces[faceSmall], f.Legend, y+14)

	chartTop := int(y) + 12
	chartBottom := f.Height - marginB
	free := chartBottom - chartTop - len(f.Panels)*panelTitleH - (len(f.Panels)-1)*panelGap
	share := 0.0
	for _, p := range f.Panels {
		share += p.Share
	}
	x0, x1 := marginL, f.Width-marginR
	top := chartTop
	var frame image.Rectangle
	for i, p := range f.Panels {
		faces[faceBold].draw(img, float64(x0), float64(top+17), p.Title, ink)
		h := int(float64(free) * p.Share / share)
		frame = image.Rect(x0, top+panelTitleH, x1, top+panelTitleH+h)
		drawPanel(img, faces[faceSmall], f, &p, frame)
		top = frame.Max.Y + panelGap
		if i == len(f.Panels)-1 {
			for _, t := range f.XTicks {
				x := xOf(f, frame, t.At)
				w := faces[faceSmall].width(t.Label)
				faces[faceSmall].draw(img, x-w/2, float64(frame.Max.Y+18), t.Label, ink)
				vline(img, int(math.Round(x)), frame.Max.Y, frame.Max.Y+5, frameInk)
			}
			w := faces[faceNormal].width(f.XLabel)
			faces[faceNormal].draw(img, float64(x1)-w, float64(frame.Max.Y+40), f.XLabel, muted)
		}
	}
	return img, nil
}

// drawLegend draws the entries in rows from baseline y; it returns the
// baseline below the last row.
func drawLegend(img *image.RGBA, fc *face, entries []LegendEntry, y float64) float64 {
	x := float64(marginL)
	for _, e := range entries {
		w := 28 + fc.width(e.Label) + 18
		if x+w > float64(img.Rect.Dx()-20) {
			x, y = marginL, y+legendRow
		}
		mid := y - 4
		switch e.Kind {
		case LegendBand:
			c := e.Color
			c.A = 0x50
			fillAlpha(img, image.Rect(int(x), int(mid)-7, int(x)+22, int(mid)+7), c)
		case LegendDashed:
			dashed(img, x, x+22, mid, e.Color)
		default:
			segment(img, x, mid, x+22, mid, lineWidth+1, e.Color, img.Rect)
		}
		fc.draw(img, x+28, y, e.Label, ink)
		x += w
	}
	return y + 6
}

func xOf(f *Figure, r image.Rectangle, t time.Time) float64 {
	span := f.To.Sub(f.From)
	if span <= 0 {
		return float64(r.Min.X+r.Max.X) / 2
	}
	return float64(r.Min.X) + float64(t.Sub(f.From))/float64(span)*float64(r.Dx()-1)
}

func yOf(p *Panel, r image.Rectangle, v float64) float64 {
	if !(p.YMax > p.YMin) {
		return float64(r.Max.Y - 1)
	}
	return float64(r.Max.Y-1) - (v-p.YMin)/(p.YMax-p.YMin)*float64(r.Dy()-1)
}

// drawPanel draws one panel in its frame r: bands, grid, rules, series,
// frame, tick and rule labels.
func drawPanel(img *image.RGBA, fc *face, f *Figure, p *Panel, r image.Rectangle) {
	for _, b := range p.Bands {
		xa, xb := int(math.Round(xOf(f, r, b.From))), int(math.Round(xOf(f, r, b.To)))
		fillAlpha(img, image.Rect(xa, r.Min.Y, max(xb, xa+2), r.Max.Y), b.Color)
	}
	for _, t := range p.YTicks {
		y := int(math.Round(yOf(p, r, t.Value)))
		hline(img, r.Min.X, r.Max.X, y, gridGrey)
		w := fc.width(t.Label)
		fc.draw(img, float64(r.Min.X)-8-w, float64(y)+4, t.Label, ink)
	}
	for _, t := range f.XTicks {
		vline(img, int(math.Round(xOf(f, r, t.At))), r.Min.Y, r.Max.Y, gridGrey)
	}
	for _, ru := range p.Rules {
		y := yOf(p, r, ru.Value)
		if ru.Dashed {
			dashed(img, float64(r.Min.X), float64(r.Max.X), y, ru.Color)
		} else {
			segment(img, float64(r.Min.X), y, float64(r.Max.X), y, 1.5, ru.Color, r)
		}
	}
	for _, s := range p.Series {
		drawSeries(img, f, p, r, s)
	}
	strokeRect(img, r, frameInk)
	ruleLabels(img, fc, p, r)
}

// drawSeries joins consecutive points; NaN breaks the line. Points that
// fall on the pixel of the previous one are skipped.
func drawSeries(img *image.RGBA, f *Figure, p *Panel, r image.Rectangle, s Series) {
	have := false
	var px, py float64
	for _, pt := range s.Points {
		if math.IsNaN(pt.V) {
			have = false
			continue
		}
		x, y := xOf(f, r, pt.T), yOf(p, r, pt.V)
		y = math.Max(float64(r.Min.Y), math.Min(float64(r.Max.Y-1), y))
		if have && math.Abs(x-px) < 0.5 && math.Abs(y-py) < 0.5 {
			continue
		}
		if have {
			segment(img, px, py, x, y, lineWidth, s.Color, r)
		} else {
			segment(img, x, y, x, y, lineWidth, s.Color, r)
		}
		px, py, have = x, y, true
	}
}

// ruleLabels writes each rule's label right of the frame, at its height,
// moved apart so that none overlap.
func ruleLabels(img *image.RGBA, fc *face, p *Panel, r image.Rectangle) {
	type lab struct {
		y float64
		r Rule
	}
	var ls []lab
	for _, ru := range p.Rules {
		ls = append(ls, lab{y: yOf(p, r, ru.Value), r: ru})
	}
	sort.SliceStable(ls, func(i, j int) bool { return ls[i].y < ls[j].y })
	const gap = 15.0
	for i := 1; i < len(ls); i++ { // push overlapping labels down
		ls[i].y = math.Max(ls[i].y, ls[i-1].y+gap)
	}
	if n := len(ls); n > 0 { // and back up from the frame's bottom
		ls[n-1].y = math.Min(ls[n-1].y, float64(r.Max.Y))
		for i := n - 2; i >= 0; i-- {
			ls[i].y = math.Min(ls[i].y, ls[i+1].y-gap)
		}
	}
	for _, l := range ls {
		fc.draw(img, float64(r.Max.X)+8, l.y+4, l.r.Label, l.r.Color)
	}
}

// segment draws an anti-aliased line of width w from (x0, y0) to (x1, y1),
// clipped to clip: every pixel is covered by its distance to the segment.
func segment(img *image.RGBA, x0, y0, x1, y1, w float64, col color.RGBA, clip image.Rectangle) {
	half := w/2 + 1
	minX, maxX := int(math.Floor(math.Min(x0, x1)-half)), int(math.Ceil(math.Max(x0, x1)+half))
	minY, maxY := int(math.Floor(math.Min(y0, y1)-half)), int(math.Ceil(math.Max(y0, y1)+half))
	box := image.Rect(minX, minY, maxX+1, maxY+1).Intersect(clip).Intersect(img.Rect)
	dx, dy := x1-x0, y1-y0
	l2 := dx*dx + dy*dy
	for py := box.Min.Y; py < box.Max.Y; py++ {
		for px := box.Min.X; px < box.Max.X; px++ {
			cx, cy := float64(px)+0.5, float64(py)+0.5
			t := 0.0
			if l2 > 0 {
				t = math.Max(0, math.Min(1, ((cx-x0)*dx+(cy-y0)*dy)/l2))
			}
			ex, ey := x0+t*dx-cx, y0+t*dy-cy
			if cov := w/2 + 0.5 - math.Sqrt(ex*ex+ey*ey); cov > 0 {
				blendMax(img, px, py, col, math.Min(cov, 1))
			}
		}
	}
}

// blendMax blends like blend, but a pixel a line already covers in its
// own colour is not darkened again where two segments meet.
func blendMax(img *image.RGBA, x, y int, col color.RGBA, a float64) {
	o := img.PixOffset(x, y)
	p := img.Pix[o : o+3 : o+3]
	if p[0] == col.R && p[1] == col.G && p[2] == col.B {
		return
	}
	blend(img, x, y, col, a)
}

// dashed draws a horizontal dashed line at y from xa to xb.
func dashed(img *image.RGBA, xa, xb, y float64, col color.RGBA) {
	for x := xa; x < xb; x += 12 {
		segment(img, x, y, math.Min(x+7, xb), y, 1.6, col, img.Rect)
	}
}

func hline(img *image.RGBA, xa, xb, y int, col color.RGBA) {
	for x := xa; x < xb; x++ {
		blend(img, x, y, col, 1)
	}
}

func vline(img *image.RGBA, x, ya, yb int, col color.RGBA) {
	for y := ya; y < yb; y++ {
		blend(img, x, y, col, 1)
	}
}

func strokeRect(img *image.RGBA, r image.Rectangle, col color.RGBA) {
	hline(img, r.Min.X, r.Max.X, r.Min.Y, col)
	hline(img, r.Min.X, r.Max.X, r.Max.Y-1, col)
	vline(img, r.Min.X, r.Min.Y, r.Max.Y, col)
	vline(img, r.Max.X-1, r.Min.Y, r.Max.Y, col)
}

func fillRect(img *image.RGBA, r image.Rectangle, col color.RGBA) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			img.SetRGBA(x, y, col)
		}
	}
}

// fillAlpha blends col (with its alpha) over r.
func fillAlpha(img *image.RGBA, r image.Rectangle, col color.RGBA) {
	r = r.Intersect(img.Rect)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			blend(img, x, y, color.RGBA{col.R, col.G, col.B, 0xff}, float64(col.A)/255)
		}
	}
}
