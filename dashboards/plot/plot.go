// Package plot draws an SLO's backtest (`obsd slo backtest --plot`) as a
// PNG a person can read: the SLO, objective and period in the title; the
// burn rate of each alert window with a legend and each pair's factor as
// a labelled dashed line; the periods each alert fired shaded; the error
// budget remaining in percent with the zero line; a UTC time axis. Build
// makes the figure (a model in data units, whose structure Describe
// writes for golden tests), Draw rasterises it with an embedded bitmap
// font. Only the standard library is used.
package plot

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"image/color"
	"image/png"
	"io"
	"maps"
	"slices"
	"strings"
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
	Alerts          []StepAlert        `json:"alerts"`
}

// StepAlert is one severity's alert state at a step.
type StepAlert struct {
	Severity string `json:"severity"`
	State    string `json:"state"`
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

// Instance returns the steps of one instance of a grouped SLO: the one
// whose group is instance ("k=v, k=v", as GroupString writes it), or the
// only one when instance is empty; the error lists the instances.
func Instance(steps []Step, instance string) ([]Step, error) {
	by := map[string][]Step{}
	for _, s := range steps {
		k := GroupString(s.Group)
		by[k] = append(by[k], s)
	}
	keys := slices.Sorted(maps.Keys(by))
	switch {
	case instance != "":
		if st, ok := by[instance]; ok {
			return st, nil
		}
		return nil, fmt.Errorf("no instance %q; the SLO's instances: %s", instance, quoteAll(keys))
	case len(keys) > 1:
		return nil, fmt.Errorf("the SLO has %d instances, choose one: %s", len(keys), quoteAll(keys))
	}
	return steps, nil
}

func quoteAll(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = fmt.Sprintf("%q", k)
	}
	return strings.Join(q, ", ")
}

// Palette is the colour of each burn-rate window line in order of
// Windows(s).
var Palette = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff},
	{0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff}, {0x17, 0xbe, 0xcf, 0xff}, {0xe3, 0x77, 0xc2, 0xff},
}

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

// Render writes the PNG of one SLO instance's steps (Build, then Draw).
func Render(w io.Writer, s *spec.SLO, steps []Step, opts Options) error {
	f, err := Build(s, steps, opts)
	if err != nil {
		return err
	}
	img, err := Draw(f)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	_, err = w.Write(buf.Bytes())
	return err
}
