package web

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// Series is one line of a chart.
type Series struct {
	Name  string
	Class string // CSS class: the line's colour and dash
	X     []time.Time
	Y     []float64
}

// Rule is a horizontal threshold line with its label.
type Rule struct {
	Label string
	Y     float64
	Class string
}

// Chart is a server-rendered line chart.
type Chart struct {
	Title, Desc string
	// YMin and YMax bound the y axis; the axis grows to fit data and rules.
	YMin, YMax float64
	// Headroom is added above the highest rule, as a factor (0.1 leaves
	// 10% so a threshold line is not drawn on the frame).
	Headroom float64
	// YFormat formats tick and rule values.
	YFormat func(float64) string
	Series  []Series
	Rules   []Rule
}

const (
	chartW, chartH         = 640, 236
	padL, padR, padT, padB = 64, 120, 12, 48
	plotW, plotH           = chartW - padL - padR, chartH - padT - padB
	yTicks                 = 4
)

// SVG renders the chart as an accessible inline SVG: role img, a title and
// a description naming every series and rule. Output is deterministic.
func (c Chart) SVG(id string) template.HTML {
	var b strings.Builder
	lo, hi := c.bounds()
	t0, t1 := c.timeBounds()
	fy := func(v float64) float64 { return padT + plotH - (v-lo)/(hi-lo)*plotH }
	fx := func(t time.Time) float64 {
		if !t1.After(t0) {
			return padL + plotW
		}
		return padL + float64(t.Sub(t0))/float64(t1.Sub(t0))*plotW
	}
	format := c.YFormat
	if format == nil {
		format = func(v float64) string { return trimFloat(v, 3) }
	}
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="%s-t %s-d" xmlns="http://www.w3.org/2000/svg">`,
		chartW, chartH, chartW, chartH, esc(id), esc(id))
	fmt.Fprintf(&b, `<title id="%s-t">%s</title><desc id="%s-d">%s</desc>`, esc(id), esc(c.Title), esc(id), esc(c.describe(format)))
	fmt.Fprintf(&b, `<rect class="plot" x="%d" y="%d" width="%d" height="%d"/>`, padL, padT, plotW, plotH)
	for i := 0; i <= yTicks; i++ {
		v := lo + (hi-lo)*float64(i)/yTicks
		y := fy(v)
		fmt.Fprintf(&b, `<line class="grid" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, padL, y, padL+plotW, y)
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end">%s</text>`, padL-6, y+4, esc(format(v)))
	}
	if !t0.IsZero() {
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d">%s</text>`, padL, padT+plotH+16, t0.UTC().Format("15:04:05"))
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%d" text-anchor="end">%s UTC</text>`, padL+plotW, padT+plotH+16, t1.UTC().Format("15:04:05"))
	}
	for _, r := range c.Rules {
		y := fy(r.Y)
		fmt.Fprintf(&b, `<line class="rule %s" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, esc(r.Class), padL, y, padL+plotW, y)
		fmt.Fprintf(&b, `<text class="rule-label" x="%d" y="%.1f">%s</text>`, padL+plotW+6, y+4, esc(r.Label))
	}
	for i, s := range c.Series {
		if len(s.Y) == 0 {
			continue
		}
		var pts strings.Builder
		for j := range s.Y {
			if j > 0 {
				pts.WriteByte(' ')
			}
			fmt.Fprintf(&pts, "%.1f,%.1f", fx(s.X[j]), fy(clamp(s.Y[j], lo, hi)))
		}
		if len(s.Y) == 1 {
			fmt.Fprintf(&b, `<circle class="dot %s" cx="%s" r="3"/>`, esc(s.Class), strings.Replace(pts.String(), ",", `" cy="`, 1))
		} else {
			fmt.Fprintf(&b, `<polyline class="line %s" points="%s"/>`, esc(s.Class), pts.String())
		}
		lx, ly := padL+160*i, chartH-6
		fmt.Fprintf(&b, `<line class="line %s" x1="%d" y1="%d" x2="%d" y2="%d"/><text class="legend" x="%d" y="%d">%s</text>`,
			esc(s.Class), lx, ly-4, lx+20, ly-4, lx+24, ly, esc(s.Name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every interpolated string is escaped above
}

func (c Chart) bounds() (lo, hi float64) {
	lo, hi = c.YMin, c.YMax
	for _, s := range c.Series {
		for _, v := range s.Y {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	for _, r := range c.Rules {
		lo, hi = math.Min(lo, r.Y), math.Max(hi, r.Y*(1+c.Headroom))
	}
	if !(hi > lo) {
		hi = lo + 1
	}
	return lo, hi
}

func (c Chart) timeBounds() (t0, t1 time.Time) {
	for _, s := range c.Series {
		for _, t := range s.X {
			if t0.IsZero() || t.Before(t0) {
				t0 = t
			}
			if t.After(t1) {
				t1 = t
			}
		}
	}
	return t0, t1
}

func (c Chart) describe(format func(float64) string) string {
	var parts []string
	for _, s := range c.Series {
		if n := len(s.Y); n > 0 {
			parts = append(parts, fmt.Sprintf("%s: %d points, latest %s", s.Name, n, format(s.Y[n-1])))
		} else {
			parts = append(parts, s.Name+": no data yet")
		}
	}
	for _, r := range c.Rules {
		parts = append(parts, "threshold "+r.Label)
	}
	return c.Desc + " " + strings.Join(parts, "; ") + "."
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }
