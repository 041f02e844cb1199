package plot

import (
	"errors"
	"fmt"
	"image/color"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/spec"
)

// Colours of the thresholds, the alert bands and the budget.
var (
	pageColor   = color.RGBA{0xd6, 0x27, 0x28, 0xff}
	ticketColor = color.RGBA{0xe0, 0x8b, 0x00, 0xff}
	pageBand    = color.RGBA{0xd6, 0x27, 0x28, 0x30}
	ticketBand  = color.RGBA{0xff, 0xa5, 0x00, 0x30}
	budgetColor = color.RGBA{0x1f, 0x77, 0xb4, 0xff}
	zeroColor   = color.RGBA{0x8b, 0x00, 0x00, 0xff}
	onBudget    = color.RGBA{0x88, 0x88, 0x88, 0xff}
)

// Options tune Build.
type Options struct {
	// Width and Height of the image in pixels (default 1000×680: the width
	// of a README, so nothing is scaled down much).
	Width, Height int
	// Source names the replayed data in the subtitle (e.g. a file name).
	Source string
}

// Build makes the figure of one SLO instance's backtest steps (as
// ReadSteps returns them, one instance): its burn rate per alert window
// with each pair's factor as a labelled dashed line, the time each alert
// fired shaded, and its error budget remaining in percent with the zero
// line, on a UTC time axis.
func Build(s *spec.SLO, steps []Step, opts Options) (*Figure, error) {
	if len(steps) == 0 {
		return nil, errors.New("no backtest steps for slo " + s.Name)
	}
	if opts.Width == 0 && opts.Height == 0 {
		opts.Width, opts.Height = 1000, 680
	}
	if opts.Width < 600 || opts.Height < 400 || opts.Width > 8192 || opts.Height > 8192 {
		return nil, fmt.Errorf("plot size %dx%d must be between 600x400 and 8192x8192", opts.Width, opts.Height)
	}
	steps = slices.Clone(steps)
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].Time.Before(steps[j].Time) })
	f := &Figure{Width: opts.Width, Height: opts.Height, From: steps[0].Time.UTC(), To: steps[len(steps)-1].Time.UTC(), XLabel: "time (UTC)"}
	f.Title = title(s, steps[0].Group)
	f.Subtitle = subtitle(steps, opts.Source)
	f.XTicks = timeTicks(f.From, f.To, max(2, (opts.Width-260)/110))

	bands := alertBands(steps)
	burn := burnPanel(s, steps)
	burn.Bands = bands
	budget := budgetPanel(steps)
	budget.Bands = bands
	f.Panels = []Panel{burn, budget}

	for _, sr := range burn.Series {
		f.Legend = append(f.Legend, LegendEntry{Kind: LegendLine, Label: sr.Label, Color: sr.Color})
	}
	if s.Alerting.Page.Enabled {
		f.Legend = append(f.Legend, LegendEntry{Kind: LegendDashed, Label: "page threshold", Color: pageColor})
	}
	if s.Alerting.Ticket.Enabled {
		f.Legend = append(f.Legend, LegendEntry{Kind: LegendDashed, Label: "ticket threshold", Color: ticketColor})
	}
	seen := map[string]bool{}
	for _, b := range bands {
		if !seen[b.Label] {
			seen[b.Label] = true
			f.Legend = append(f.Legend, LegendEntry{Kind: LegendBand, Label: b.Label, Color: b.Color})
		}
	}
	f.Legend = append(f.Legend, LegendEntry{Kind: LegendLine, Label: "budget remaining", Color: budgetColor})
	return f, nil
}

// title is "SLO <name>{group} · objective 99.9% · period 30d".
func title(s *spec.SLO, group map[string]string) string {
	name := s.Name
	if len(group) > 0 {
		name += "{" + GroupString(group) + "}"
	}
	period := days(s.Period)
	if c := s.Calendar; c != nil {
		period = "calendar " + string(c.Unit)
		if c.Location != nil && c.Location != time.UTC {
			period += " (" + c.Location.String() + ")"
		}
	}
	return fmt.Sprintf("SLO %s · objective %s%% · period %s", name, trimFloat(s.Objective*100), period)
}

// subtitle says what was replayed, when, at what step.
func subtitle(steps []Step, source string) string {
	from, to := steps[0].Time.UTC(), steps[len(steps)-1].Time.UTC()
	s := fmt.Sprintf("backtest %s → %s UTC", from.Format("2006-01-02 15:04"), to.Format("2006-01-02 15:04"))
	if len(steps) > 1 {
		s += ", one evaluation every " + model.Duration(steps[1].Time.Sub(steps[0].Time)).String()
	}
	if source != "" {
		s += ", of " + source
	}
	return s
}

// GroupString renders group-by values as "k=v, k=v", keys sorted.
func GroupString(g map[string]string) string {
	keys := slices.Sorted(maps.Keys(g))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + g[k]
	}
	return strings.Join(parts, ", ")
}

// burnPanel: one line per window of the enabled alert pairs, a dashed line
// per pair's factor and a grey line at 1× (the budget spent exactly over
// the period).
func burnPanel(s *spec.SLO, steps []Step) Panel {
	p := Panel{Title: "Burn rate per alert window (1× spends the budget exactly over the period)", Share: 0.6}
	windows, _ := Windows(s)
	hi := 1.0
	for i, w := range windows {
		sr := Series{Label: w, Color: Palette[i%len(Palette)]}
		for _, st := range steps {
			v, ok := st.BurnRate[w]
			if !ok || math.IsInf(v, 0) {
				v = math.NaN()
			}
			if !math.IsNaN(v) {
				hi = math.Max(hi, v)
			}
			sr.Points = append(sr.Points, Point{T: st.Time.UTC(), V: v})
		}
		p.Series = append(p.Series, sr)
	}
	p.Rules = append(p.Rules, Rule{Value: 1, Label: "1× on budget", Color: onBudget, Dashed: false})
	for i, sev := range []spec.Severity{s.Alerting.Page, s.Alerting.Ticket} {
		if !sev.Enabled {
			continue
		}
		col := pageColor
		if i == 1 {
			col = ticketColor
		}
		for _, w := range sev.Windows {
			hi = math.Max(hi, w.Factor)
			p.Rules = append(p.Rules, Rule{Value: w.Factor, Color: col, Dashed: true,
				Label: fmt.Sprintf("%s %s/%s ≥ %s×", contract.Severities[i], model.Duration(w.Long), model.Duration(w.Short), trimFloat(w.Factor))})
		}
	}
	p.YMin, p.YMax, p.YTicks = valueTicks(0, hi*1.05, 5, func(v float64) string { return trimFloat(v) + "×" })
	return p
}

// budgetPanel: the budget remaining in percent and the zero line.
func budgetPanel(steps []Step) Panel {
	p := Panel{Title: "Error budget remaining over the period (%)", Share: 0.4}
	sr := Series{Label: "budget remaining", Color: budgetColor}
	lo, hi := 0.0, 100.0
	for _, st := range steps {
		v := st.BudgetRemaining * 100
		if math.IsNaN(v) || math.IsInf(v, 0) {
			v = math.NaN()
		} else {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		sr.Points = append(sr.Points, Point{T: st.Time.UTC(), V: v})
	}
	p.Series = []Series{sr}
	p.Rules = []Rule{{Value: 0, Label: "0%: budget spent", Color: zeroColor}}
	// At most 100% remains; below, room for an overspent budget.
	p.YMin, p.YMax, p.YTicks = valueTicks(lo-(hi-lo)*0.04, hi, 4, func(v float64) string { return trimFloat(v) + "%" })
	return p
}

// alertBands are the runs of steps in which an alert fired, per severity,
// each from its first firing step to the step after its last.
func alertBands(steps []Step) []Band {
	var out []Band
	for _, sev := range contract.Severities {
		label, col := sev+" firing", pageBand
		if sev == contract.SeverityTicket {
			col = ticketBand
		}
		var open *Band
		for i, st := range steps {
			firing := false
			for _, a := range st.Alerts {
				firing = firing || (a.Severity == sev && a.State == contract.StateFiring)
			}
			switch {
			case firing && open == nil:
				open = &Band{From: st.Time.UTC(), Label: label, Color: col}
			case !firing && open != nil:
				open.To = st.Time.UTC()
				out = append(out, *open)
				open = nil
			}
			if open != nil && i == len(steps)-1 {
				open.To = st.Time.UTC()
				out = append(out, *open)
			}
		}
	}
	return out
}

// timeTicks are at most n labelled times between from and to, on round
// UTC times (every 1m … 7d).
func timeTicks(from, to time.Time, n int) []XTick {
	span := to.Sub(from)
	steps := []time.Duration{time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
		time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 48 * time.Hour, 7 * 24 * time.Hour}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if span/s <= time.Duration(n) {
			step = s
			break
		}
	}
	layout := "15:04"
	switch {
	case step >= 24*time.Hour:
		layout = "Jan 2"
	case span > 20*time.Hour || from.YearDay() != to.YearDay():
		layout = "Jan 2 15:04"
	}
	if span/step > time.Duration(n) {
		// Longer than n weeks: ticks every span/n, on whole days.
		step = (span/time.Duration(n) + 24*time.Hour - 1) / (24 * time.Hour) * (24 * time.Hour)
		layout = "2006-01-02"
	}
	var out []XTick
	for t := from.Truncate(step); !t.After(to) && len(out) <= n+1; t = t.Add(step) {
		if !t.Before(from) {
			out = append(out, XTick{At: t, Label: t.UTC().Format(layout)})
		}
	}
	return out
}

// valueTicks widens [lo, hi] to round ticks about n apart and labels them.
func valueTicks(lo, hi float64, n int, label func(float64) string) (float64, float64, []YTick) {
	if !(hi > lo) {
		hi = lo + 1
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag * 10
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	first, last := math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	if math.IsNaN(first) || math.IsInf(first, 0) || math.IsInf(last, 0) || first+step == first {
		// Values beyond what float64 can tick (fuzzed input): the bounds only.
		return lo, hi, []YTick{{Value: lo, Label: label(lo)}, {Value: hi, Label: label(hi)}}
	}
	var ticks []YTick
	for i := 0; i <= 2*n+2; i++ {
		v := math.Round((first+float64(i)*step)/step) * step
		if v > last+step/2 {
			break
		}
		ticks = append(ticks, YTick{Value: v, Label: label(v)})
	}
	return first, last, ticks
}

// days writes a period in days when it is whole days ("28d", not
// Prometheus' "4w"), else in Prometheus notation.
func days(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return model.Duration(d).String()
}

// trimFloat writes v with at most 2 decimals and no trailing zeros.
func trimFloat(v float64) string {
	s := fmt.Sprintf("%.2f", v)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		return "0"
	}
	return s
}
