// Package plot draws what an SLO dashboard's burn-rate and budget panels
// will show, from the output of `obsd slo backtest`, as a PNG: the burn
// rates of the SLO's alert windows with each pair's factor as a dashed
// line (top), and the error budget remaining with 0 as a line (bottom).
// It uses only the standard library (no font: the legend is the colour
// order documented on Render).
package plot

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"slices"
	"time"

	"github.com/prometheus/common/model"

	"github.com/obsd-dev/obsd/slo/spec"
)

// Step is one line of `obsd slo backtest` output (one instance at one time).
type Step struct {
	Time            time.Time          `json:"time"`
	SLO             string             `json:"slo"`
	Group           map[string]string  `json:"group,omitempty"`
	BurnRate        map[string]float64 `json:"burn_rate"`
	BudgetRemaining float64            `json:"budget_remaining"`
}

// maxLine bounds one backtest line.
const maxLine = 1 << 20

// ReadSteps reads backtest JSON lines and keeps those of the SLO named
// slo (all instances of a group-by SLO). A line that is not a step is an
// error naming its line number.
func ReadSteps(r io.Reader, slo string) ([]Step, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxLine)
	var out []Step
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var s Step
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, fmt.Errorf("backtest line %d: %w", n, err)
		}
		if s.SLO == slo {
			out = append(out, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("could not read backtest output: %w", err)
	}
	return out, nil
}

// Palette is the colour of each burn-rate window line in order of
// Windows(s); the budget line is drawn in Palette[0].
var Palette = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff},
	{0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff}, {0x17, 0xbe, 0xcf, 0xff},
}

var (
	red   = color.RGBA{0xd6, 0x27, 0x28, 0xff}
	grey  = color.RGBA{0xcc, 0xcc, 0xcc, 0xff}
	black = color.RGBA{0x33, 0x33, 0x33, 0xff}
	white = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

// Windows returns the distinct windows (as in the backtest's burn_rate
// keys, e.g. "1h") of the SLO's enabled alert pairs, long before short,
// in pair order, and the pairs' factors.
func Windows(s *spec.SLO) (windows []string, factors []float64) {
	for _, sev := range []spec.Severity{s.Alerting.Page, s.Alerting.Ticket} {
		if !sev.Enabled {
			continue
		}
		for _, p := range sev.Windows {
			for _, w := range []time.Duration{p.Long, p.Short} {
				if k := model.Duration(w).String(); !slices.Contains(windows, k) {
					windows = append(windows, k)
				}
			}
			factors = append(factors, p.Factor)
		}
	}
	return windows, factors
}

// Render writes a width×height PNG of steps (from ReadSteps) for s.
func Render(w io.Writer, s *spec.SLO, steps []Step, width, height int) error {
	if width < 100 || height < 100 || width > 8192 || height > 8192 {
		return fmt.Errorf("plot size %dx%d must be between 100x100 and 8192x8192", width, height)
	}
	if len(steps) == 0 {
		return errors.New("no backtest steps for slo " + s.Name)
	}
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	fill(img, img.Bounds(), white)
	t0, t1 := steps[0].Time, steps[0].Time
	for _, st := range steps {
		t0, t1 = minTime(t0, st.Time), maxTime(t1, st.Time)
	}
	x := func(t time.Time) float64 {
		if !t1.After(t0) {
			return 0.5
		}
		return float64(t.Sub(t0)) / float64(t1.Sub(t0))
	}
	margin := 10
	top := image.Rect(margin, margin, width-margin, height/2-margin/2)
	bottom := image.Rect(margin, height/2+margin/2, width-margin, height-margin)
	burnPanel(img, top, s, steps, x)
	budgetPanel(img, bottom, steps, x)
	return png.Encode(w, img)
}

// burnPanel draws the windows' burn rates and the factors as dashed lines.
func burnPanel(img *image.RGBA, r image.Rectangle, s *spec.SLO, steps []Step, x func(time.Time) float64) {
	windows, factors := Windows(s)
	hi := 1.0
	for _, f := range factors {
		hi = max(hi, f)
	}
	for _, st := range steps {
		for _, w := range windows {
			if v := st.BurnRate[w]; !math.IsNaN(v) && !math.IsInf(v, 0) {
				hi = max(hi, v)
			}
		}
	}
	c := chart{img: img, r: r, lo: 0, hi: hi * 1.1}
	c.frame()
	c.hline(1, grey, false)
	for _, f := range factors {
		c.hline(f, red, true)
	}
	for i, w := range windows {
		c.series(steps, x, func(st Step) (float64, bool) { v, ok := st.BurnRate[w]; return v, ok }, Palette[i%len(Palette)])
	}
}

// budgetPanel draws the error budget remaining with 0 as a line.
func budgetPanel(img *image.RGBA, r image.Rectangle, steps []Step, x func(time.Time) float64) {
	lo, hi := 0.0, 1.0
	for _, st := range steps {
		if v := st.BudgetRemaining; !math.IsNaN(v) && !math.IsInf(v, 0) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	c := chart{img: img, r: r, lo: lo - 0.05*(hi-lo), hi: hi + 0.05*(hi-lo)}
	c.frame()
	c.hline(0, red, true)
	c.series(steps, x, func(st Step) (float64, bool) { return st.BudgetRemaining, true }, Palette[0])
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
