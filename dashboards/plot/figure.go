package plot

import (
	"fmt"
	"image/color"
	"math"
	"strings"
	"time"
)

// Figure is what a plot shows, in data units: Build makes it from backtest
// steps, Describe writes its structure (the golden tests' subject) and
// Draw rasterises it.
type Figure struct {
	Width, Height int
	// Title names the SLO, its objective and period; Subtitle the replay.
	Title, Subtitle string
	// From and To bound the time axis; XTicks are its labelled times (UTC).
	From, To time.Time
	XTicks   []XTick
	XLabel   string
	Legend   []LegendEntry
	Panels   []Panel
}

// XTick is one labelled time.
type XTick struct {
	At    time.Time
	Label string
}

// LegendKind is how a legend entry is drawn.
type LegendKind string

// Legend kinds.
const (
	LegendLine   LegendKind = "line"
	LegendDashed LegendKind = "dashed"
	LegendBand   LegendKind = "band"
)

// LegendEntry is one swatch and its label.
type LegendEntry struct {
	Kind  LegendKind
	Label string
	Color color.RGBA
}

// Panel is one chart sharing the figure's time axis.
type Panel struct {
	Title string
	// YMin and YMax bound the value axis; YTicks are its labelled values.
	YMin, YMax float64
	YTicks     []YTick
	// Share is the panel's part of the figure's chart height.
	Share  float64
	Series []Series
	Rules  []Rule
	Bands  []Band
}

// YTick is one labelled value.
type YTick struct {
	Value float64
	Label string
}

// Series is one line; a NaN value breaks it.
type Series struct {
	Label  string
	Color  color.RGBA
	Points []Point
}

// Point is one value at one time.
type Point struct {
	T time.Time
	V float64
}

// Rule is a horizontal line at Value, labelled at its right end.
type Rule struct {
	Value  float64
	Label  string
	Color  color.RGBA
	Dashed bool
}

// Band shades the panel's height over [From, To).
type Band struct {
	From, To time.Time
	Label    string
	Color    color.RGBA
}

// Describe writes the figure's structure: every text, axis, tick, series
// (points and range, not values), rule and band. Two figures with the
// same description show the same thing, whatever the pixels.
func Describe(f *Figure) string {
	var b strings.Builder
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04Z") }
	fmt.Fprintf(&b, "figure %dx%d\n", f.Width, f.Height)
	fmt.Fprintf(&b, "title %q\n", f.Title)
	fmt.Fprintf(&b, "subtitle %q\n", f.Subtitle)
	fmt.Fprintf(&b, "time axis %q %s → %s, ticks:", f.XLabel, ts(f.From), ts(f.To))
	for _, t := range f.XTicks {
		fmt.Fprintf(&b, " %q", t.Label)
	}
	b.WriteString("\nlegend:\n")
	for _, l := range f.Legend {
		fmt.Fprintf(&b, "  %s %q %s\n", l.Kind, l.Label, hex(l.Color))
	}
	for _, p := range f.Panels {
		fmt.Fprintf(&b, "panel %q (%.0f%% of the height), values %s → %s, ticks:", p.Title, p.Share*100, num(p.YMin), num(p.YMax))
		for _, t := range p.YTicks {
			fmt.Fprintf(&b, " %q", t.Label)
		}
		b.WriteString("\n")
		for _, s := range p.Series {
			lo, hi, n := math.Inf(1), math.Inf(-1), 0
			for _, pt := range s.Points {
				if !math.IsNaN(pt.V) {
					lo, hi, n = math.Min(lo, pt.V), math.Max(hi, pt.V), n+1
				}
			}
			fmt.Fprintf(&b, "  series %q %s: %d points, %s → %s\n", s.Label, hex(s.Color), n, num(lo), num(hi))
		}
		for _, r := range p.Rules {
			style := "solid"
			if r.Dashed {
				style = "dashed"
			}
			fmt.Fprintf(&b, "  rule %s %q at %s %s\n", style, r.Label, num(r.Value), hex(r.Color))
		}
		for _, bd := range p.Bands {
			fmt.Fprintf(&b, "  band %q %s → %s\n", bd.Label, ts(bd.From), ts(bd.To))
		}
	}
	return b.String()
}

func hex(c color.RGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// num formats a value with up to 4 significant digits.
func num(v float64) string {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return "none"
	}
	return fmt.Sprintf("%.4g", v)
}
