// Package backtest replays an OpenMetrics text file with timestamps (the
// input of `promtool tsdb create-blocks-from openmetrics`) through the SLO
// engine and writes one JSON object per step and SLO instance.
package backtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"

	"github.com/obsd-dev/obsd/slo"
	"github.com/obsd-dev/obsd/slo/match"
	"github.com/obsd-dev/obsd/slo/spec"
)

// Options control a replay.
type Options struct {
	// Step between evaluations (default 1m).
	Step time.Duration
	// From and To bound the evaluations; zero means the first and last
	// sample's time.
	From, To time.Time
	// Progress, when set, is called after every step.
	Progress func(done, total int)
}

// Sample is one parsed input sample.
type Sample struct {
	Labels labels.Labels
	T      int64 // ms
	V      float64
}

// Parse reads an OpenMetrics text exposition whose samples all carry
// timestamps and returns them sorted by time (stable per series).
func Parse(data []byte) ([]Sample, error) {
	p := textparse.NewOpenMetricsParser(data, labels.NewSymbolTable(), textparse.WithOMParserSTSeriesSkipped())
	var out []Sample
	for {
		et, err := p.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("invalid OpenMetrics input: %w", err)
		}
		if et != textparse.EntrySeries {
			continue
		}
		var l labels.Labels
		_, ts, v := p.Series()
		p.Labels(&l)
		if ts == nil {
			return nil, fmt.Errorf("sample %s has no timestamp", l.String())
		}
		out = append(out, Sample{Labels: l, T: *ts, V: v})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].T < out[j].T })
	return out, nil
}

// Line is one output object.
type Line struct {
	Time            string            `json:"time"`
	SLO             string            `json:"slo"`
	Group           map[string]string `json:"group,omitempty"`
	ErrorRatio      Windows           `json:"error_ratio"`
	BurnRate        Windows           `json:"burn_rate"`
	BudgetRemaining float64           `json:"budget_remaining"`
	Alerts          []Alert           `json:"alerts"`
}

// Windows holds one number per report window, in order.
type Windows struct {
	M5     float64 `json:"5m"`
	M30    float64 `json:"30m"`
	H1     float64 `json:"1h"`
	H2     float64 `json:"2h"`
	H6     float64 `json:"6h"`
	D1     float64 `json:"1d"`
	D3     float64 `json:"3d"`
	Period float64 `json:"period"`
}

func windowsOf(st *slo.Status, f func(slo.WindowResult) float64) Windows {
	w := st.Windows
	return Windows{f(w[0]), f(w[1]), f(w[2]), f(w[3]), f(w[4]), f(w[5]), f(w[6]), f(w[7])}
}

// Alert is a severity that is not inactive.
type Alert struct {
	Severity string `json:"severity"`
	State    string `json:"state"`
}

// Run replays samples through a fresh engine for slos and writes JSON
// lines to w.
func Run(w io.Writer, slos []*spec.SLO, samples []Sample, opts Options) error {
	if opts.Step <= 0 {
		opts.Step = time.Minute
	}
	if len(samples) == 0 {
		return errors.New("the input holds no samples")
	}
	e, err := slo.NewEngine(slos, slo.Options{})
	if err != nil {
		return err
	}
	from, to := opts.From, opts.To
	if from.IsZero() {
		from = time.UnixMilli(samples[0].T).UTC().Truncate(opts.Step)
	}
	if to.IsZero() {
		to = time.UnixMilli(samples[len(samples)-1].T).UTC()
	}
	if to.Before(from) {
		return fmt.Errorf("'to' %s is before 'from' %s", to, from)
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	m := newMatcher(e, slos)
	total := int(to.Sub(from)/opts.Step) + 1
	i := 0
	for step := 0; step < total; step++ {
		t := from.Add(time.Duration(step) * opts.Step)
		for ; i < len(samples) && samples[i].T <= t.UnixMilli(); i++ {
			m.feed(samples[i])
		}
		var encErr error
		e.Evaluate(context.Background(), t, func(st *slo.Status) {
			if encErr == nil {
				encErr = enc.Encode(lineOf(st, t))
			}
		})
		if encErr != nil {
			return fmt.Errorf("could not write output: %w", encErr)
		}
		if opts.Progress != nil {
			opts.Progress(step+1, total)
		}
	}
	return bw.Flush()
}

func lineOf(st *slo.Status, t time.Time) Line {
	l := Line{Time: t.UTC().Format(time.RFC3339), SLO: st.SLO, Group: st.Group,
		ErrorRatio:      windowsOf(st, func(r slo.WindowResult) float64 { return r.ErrorRatio }),
		BurnRate:        windowsOf(st, func(r slo.WindowResult) float64 { return r.BurnRate }),
		BudgetRemaining: st.BudgetRemaining, Alerts: []Alert{}}
	for _, a := range st.Alerts {
		if a.State != slo.Inactive {
			l.Alerts = append(l.Alerts, Alert{Severity: a.Severity, State: a.State.String()})
		}
	}
	return l
}

// matcher routes samples to SLO instances the way the connector routes
// Prometheus-style metrics.
type matcher struct {
	e    *slo.Engine
	slos []*spec.SLO
}

func newMatcher(e *slo.Engine, slos []*spec.SLO) *matcher { return &matcher{e: e, slos: slos} }

func (m *matcher) feed(s Sample) {
	name := s.Labels.Get(labels.MetricName)
	get := s.Labels.Get
	for i, sp := range m.slos {
		var total, bad float64
		var by []string
		switch {
		case sp.SLI.Metric != nil:
			by = sp.SLI.Metric.GroupBy
			isTotal, isBad := match.Ratio(sp.SLI.Metric, name, get)
			if !isTotal && !isBad {
				continue
			}
			if isTotal {
				total = s.V
			}
			if isBad {
				bad = s.V
			}
		case sp.SLI.Latency != nil:
			by = sp.SLI.Latency.GroupBy
			switch match.Latency(sp.SLI.Latency, name, get) {
			case match.LatencyCount:
				total, bad = s.V, s.V
			case match.LatencyGood:
				bad = -s.V
			default:
				continue
			}
		default:
			continue
		}
		gh := slo.HashSeed
		for _, k := range by {
			gh = slo.HashString(gh, get(k))
		}
		in := m.e.Instance(i, gh, func() map[string]string { return groupOf(by, get) }, time.UnixMilli(s.T))
		sh := slo.HashString(slo.HashSeed, s.Labels.String())
		m.e.AddCumulative(in, sh, time.Time{}, time.UnixMilli(s.T), total, bad)
	}
}

func groupOf(by []string, get func(string) string) map[string]string {
	if len(by) == 0 {
		return nil
	}
	g := make(map[string]string, len(by))
	for _, k := range by {
		g[k] = get(k)
	}
	return g
}
