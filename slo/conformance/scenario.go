// Package conformance generates counter scenarios for comparing obsd's SLO
// engine with the real Prometheus: the same samples written as OpenMetrics
// text with timestamps (for the backtest and `promtool tsdb
// create-blocks-from openmetrics`) and as promtool unit-test input series.
package conformance

import (
	"fmt"
	"math/rand"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Series is one counter series: Metric (ending in _total), its labels in
// Prometheus text form without braces (e.g. `code="500"`), and samples.
type Series struct {
	Metric string
	Labels string
	T      []time.Time
	V      []float64
}

// Scenario is a named set of series sharing one metric name.
type Scenario struct {
	Name   string
	Metric string
	Series []Series
	// Until is the time of the last sample.
	Until time.Time
}

// Rate is a per-minute increase as a function of minutes since the start.
type Rate func(minute int) float64

// Counter builds a series scraped every step from start for n scrapes,
// increasing by rate per minute; jitter shifts each timestamp by up to
// ±jitter (deterministic per seed); resetAt > 0 drops the counter to 0 at
// that scrape index; startAt skips the scrapes before it.
type Counter struct {
	Metric, Labels string
	Start          time.Time
	Step           time.Duration
	N              int
	Rate           Rate
	Jitter         time.Duration
	Seed           int64
	ResetAt        int
	StartAt        int
}

// Build returns the series.
func (c Counter) Build() Series {
	s := Series{Metric: c.Metric, Labels: c.Labels}
	r := rand.New(rand.NewSource(c.Seed)) //nolint:gosec // deterministic test data
	v := 0.0
	perStep := c.Step.Minutes()
	for i := 0; i < c.N; i++ {
		minute := int(time.Duration(i) * c.Step / time.Minute)
		if i > 0 {
			v += c.Rate(minute) * perStep
		}
		if c.ResetAt > 0 && i == c.ResetAt {
			v = c.Rate(minute) * perStep / 2
		}
		if i < c.StartAt {
			continue
		}
		if i == c.StartAt && c.StartAt > 0 {
			v = 0
		}
		t := c.Start.Add(time.Duration(i) * c.Step)
		if c.Jitter > 0 {
			t = t.Add(time.Duration(r.Int63n(int64(2*c.Jitter))) - c.Jitter).Truncate(time.Millisecond)
		}
		s.T = append(s.T, t)
		s.V = append(s.V, v)
	}
	return s
}

// OpenMetrics writes series as OpenMetrics text with timestamps, one
// counter family per metric, ending in "# EOF".
func OpenMetrics(series []Series) []byte {
	byFam := map[string][]Series{}
	var fams []string
	for _, s := range series {
		f := strings.TrimSuffix(s.Metric, "_total")
		if _, ok := byFam[f]; !ok {
			fams = append(fams, f)
		}
		byFam[f] = append(byFam[f], s)
	}
	sort.Strings(fams)
	var b strings.Builder
	for _, f := range fams {
		fmt.Fprintf(&b, "# TYPE %s counter\n", f)
		for _, s := range byFam[f] {
			for i := range s.T {
				fmt.Fprintf(&b, "%s{%s} %s %s\n", s.Metric, s.Labels, num(s.V[i]),
					strconv.FormatFloat(float64(s.T[i].UnixMilli())/1000, 'f', -1, 64))
			}
		}
	}
	b.WriteString("# EOF\n")
	return []byte(b.String())
}

// PromtoolValues writes a series' values in promtool's input_series
// notation (space separated, one per interval). The series must have
// regular timestamps (no jitter) at that interval from the test's start.
func PromtoolValues(s Series) string {
	parts := make([]string, len(s.V))
	for i, v := range s.V {
		parts[i] = num(v)
	}
	return strings.Join(parts, " ")
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
