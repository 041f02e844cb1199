package slo

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/spec"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func minute(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

// series expands Prometheus test notation ("0+10x5 _ 3+1x2") into one
// value per step; omitted values are NaN.
func series(t testing.TB, desc string) []float64 {
	t.Helper()
	_, vals, err := parser.NewParser(parser.Options{}).ParseSeriesDesc(`{__name__="x"} ` + desc)
	require.NoError(t, err)
	out := make([]float64, len(vals))
	for i, v := range vals {
		out[i] = v.Value
		if v.Omitted {
			out[i] = nanValue
		}
	}
	return out
}

var nanValue = func() float64 { z := 0.0; return z / z }()

func isNaN(f float64) bool { return f != f }

// testSLO is a 30d SLO with default windows.
func testSLO(name string, objective float64) *spec.SLO {
	page, ticket := spec.DefaultWindowPairs(spec.DefaultPeriod)
	return &spec.SLO{Name: name, Service: "svc", Objective: objective, Period: spec.DefaultPeriod,
		Labels: map[string]string{"team": "t"},
		Alerting: spec.Alerting{Name: name, MinEvents: spec.DefaultMinEvents, RunbookURL: "https://rb/" + name,
			Page: spec.Severity{Enabled: true, Windows: page}, Ticket: spec.Severity{Enabled: true, Windows: ticket}}}
}

// recorder is a fake Notifier keeping every transition.
type recorder struct{ got []contract.Transition }

var _ Notifier = (*recorder)(nil)

func (r *recorder) Notify(_ context.Context, ts []contract.Transition) { r.got = append(r.got, ts...) }

func newTestEngine(t testing.TB, slos ...*spec.SLO) (*Engine, *recorder) {
	t.Helper()
	rec := &recorder{}
	e, err := NewEngine(slos, Options{Notifier: rec})
	require.NoError(t, err)
	return e, rec
}

// status evaluates at now and returns a copy of instance 0's status.
func status(e *Engine, now time.Time) Status {
	var out Status
	e.Evaluate(context.Background(), now, func(s *Status) {
		if out.SLO == "" {
			out = *s
		}
	})
	return out
}
