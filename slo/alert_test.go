package slo

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/spec"
)

// step is one expected transition: "<minute> <severity> <state>".
func transitions(got []contract.Transition) []string {
	var out []string
	for _, tr := range got {
		out = append(out, fmt.Sprintf("%d %s %s", int(tr.At.Sub(t0)/time.Minute), tr.Severity, tr.State))
	}
	return out
}

// replay feeds cumulative total/bad series (one value per minute, from
// minute 0, start time known) and evaluates after every minute.
func replay(t *testing.T, s *spec.SLO, total, bad string) (*Engine, *recorder) {
	t.Helper()
	e, rec := newTestEngine(t, s)
	in := e.Instance(0, HashSeed, nil, t0)
	tv, bv := series(t, total), series(t, bad)
	require.Len(t, bv, len(tv))
	for m := range tv {
		if !isNaN(tv[m]) {
			e.AddCumulative(in, 1, t0, minute(m), tv[m], 0)
		}
		if !isNaN(bv[m]) {
			e.AddCumulative(in, 2, t0, minute(m), 0, bv[m])
		}
		status(e, minute(m))
	}
	return e, rec
}

func TestAlertStateMachine(t *testing.T) {
	withFor := testSLO("a", 0.99)
	withFor.Alerting.Page.For = 3 * time.Minute
	noTicket := testSLO("a", 0.99)
	noTicket.Alerting.Ticket.Enabled = false
	minEv := testSLO("a", 0.99)
	minEv.Alerting.MinEvents = 200
	// Page pairs: [0] 1h/5m ×14.4 (never holds below), [1] 6h/30m ×6.
	pairFor := testSLO("a", 0.99)
	pairFor.Alerting.Page.Windows[1].For = 25 * time.Minute
	pairOverrides := testSLO("a", 0.99)
	pairOverrides.Alerting.Page.For = 25 * time.Minute
	pairOverrides.Alerting.Page.Windows[1].For = 3 * time.Minute
	tests := []struct {
		name       string
		slo        *spec.SLO
		total, bad string
		want       []string
	}{
		{
			// 100 req/min; from minute 61 on 20 of them fail (20%) until minute 100.
			// ticket (1× over 3d & 6h; both hold all data): 20k/(6000+100k) >= 0.01 at k=4.
			// page (6× over 6h & 30m): 20k/(6000+100k) >= 0.06 at k=26; the 1h pair needs k=44.
			// page resolves when the 30m window drops under 0.9×6%: 20(30-j)/3000 < 0.054 at j=22.
			name:  "a burst of errors fires the ticket, then the page, and the page resolves with hysteresis",
			slo:   testSLO("a", 0.99),
			total: "0+100x130", bad: "0x60 20+20x39 800x29",
			want: []string{"64 ticket firing", "86 page firing", "122 page resolved"},
		},
		{
			name:  "a 'for' duration makes the page pending first",
			slo:   withFor,
			total: "0+100x130", bad: "0x60 20+20x39 800x29",
			want: []string{"64 ticket firing", "86 page pending", "89 page firing", "122 page resolved"},
		},
		{
			// The 6h/30m pair holds from 86 (errors stop at 100; without
			// hysteresis its 30m window holds until 121): it waits its own
			// 25m though the severity's 'for' is 0.
			name:  "a pair waits its own 'for'",
			slo:   pairFor,
			total: "0+100x130", bad: "0x60 20+20x39 800x29",
			want: []string{"64 ticket firing", "86 page pending", "111 page firing", "122 page resolved"},
		},
		{
			name:  "a pair's 'for' overrides the severity's",
			slo:   pairOverrides,
			total: "0+100x130", bad: "0x60 20+20x39 800x29",
			want: []string{"64 ticket firing", "86 page pending", "89 page firing", "122 page resolved"},
		},
		{
			// Without the ticket the page follows the same arithmetic.
			name:  "a disabled severity never transitions",
			slo:   noTicket,
			total: "0+100x130", bad: "0x60 20+20x39 800x29",
			want: []string{"86 page firing", "122 page resolved"},
		},
		{
			// 5 requests a minute, all failing: the 5m window has 25 < 200 events, the 6h one reaches 200 at minute 40.
			name:  "the minimum-events guard holds back alerts on little traffic",
			slo:   minEv,
			total: "0+5x45", bad: "0+5x45",
			want: []string{"40 ticket firing"},
		},
		{
			name:  "zero traffic never alerts",
			slo:   testSLO("a", 0.99),
			total: "0x60", bad: "0x60",
			want: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, rec := replay(t, tt.slo, tt.total, tt.bad)
			assert.Equal(t, tt.want, transitions(rec.got))
		})
	}
}

func TestPageInhibitsTicket(t *testing.T) {
	// All requests fail from minute 11: the page pair (14.4× over 1h and
	// 5m) holds at once, in the same evaluation as the ticket's, so the
	// ticket never fires.
	_, rec := replay(t, testSLO("a", 0.99), "0+100x20", "0x10 100+100x9")
	assert.Equal(t, []string{"11 page firing"}, transitions(rec.got))
}

func TestTransitionCarriesTheNumbers(t *testing.T) {
	s := testSLO("a", 0.99)
	s.Alerting.Annotations = map[string]string{"summary": "x"}
	_, rec := replay(t, s, "0+100x86", "0x60 20+20x25")
	require.Len(t, rec.got, 2)
	p := rec.got[1]
	assert.Equal(t, "page", p.Severity)
	assert.Equal(t, "firing", p.State)
	assert.Equal(t, 6*time.Hour, p.LongWindow)
	assert.Equal(t, 30*time.Minute, p.ShortWindow)
	assert.InDelta(t, 6.0, p.Threshold, 1e-12)
	assert.InDelta(t, 520.0/8600/0.01, p.BurnRateLong, 1e-9)
	assert.InDelta(t, 520.0/3000/0.01, p.BurnRateShort, 1e-9)
	assert.Equal(t, 8600.0, p.Events)
	assert.Equal(t, 520.0, p.BadEvents)
	assert.InDelta(t, 1-520.0/8600/0.01, p.BudgetRemaining, 1e-9)
	assert.Equal(t, map[string]string{"team": "t"}, p.Labels)
	assert.Equal(t, map[string]string{"summary": "x", "runbook_url": "https://rb/a"}, p.Annotations)
	assert.Equal(t, minute(86), p.ActiveSince)
	assert.Equal(t, time.Duration(0), p.TimeToExhaustion, "budget already spent")
}

// The SRE Workbook's worked numbers for a 99.9% SLO over 30 days: a burn
// rate of 14.4 for one hour spends 2% of the budget and, sustained,
// exhausts the whole budget in 50 hours.
func TestWorkbookExample(t *testing.T) {
	s := testSLO("a", 0.999)
	e, rec := newTestEngine(t, s)
	in := e.Instance(0, HashSeed, nil, t0)
	const perMin = 1000
	period := int(spec.DefaultPeriod / time.Minute)
	for m := 1; m <= period; m++ {
		bad := 0.0
		if m > period-60 {
			bad = 14.4 // error ratio 1.44% = 14.4 × 0.1%
		}
		e.AddEvents(in, minute(m), perMin, bad)
		if m%60 == 0 || m > period-60 {
			status(e, minute(m))
		}
	}
	st := status(e, minute(period))
	assert.InDelta(t, 14.4, st.Windows[2].BurnRate, 1e-9, "1h burn rate")
	assert.InDelta(t, 0.98, st.BudgetRemaining, 1e-9, "2% of the budget spent")
	require.NotEmpty(t, rec.got)
	last := rec.got[len(rec.got)-1]
	assert.Equal(t, "page", last.Severity)
	assert.Equal(t, "firing", last.State)
	// From a full budget, a sustained 14.4× burn lasts 720h/14.4 = 50h.
	assert.Equal(t, 50*time.Hour, exhaustion(1, 14.4, spec.DefaultPeriod))
	assert.Equal(t, 49*time.Hour, exhaustion(0.98, 14.4, spec.DefaultPeriod).Round(time.Minute))
}

func TestStatusTimeToExhaustionUsesTheLastHour(t *testing.T) {
	// 99% over 30d: 1h at a 10% error ratio is a burn rate of 10. After a
	// clean day the period's error ratio is 0.4% (burn 0.4, 60% of the
	// budget left): at burn 10 that lasts 0.6 × 720h / 10 = 43.2h.
	e, _ := newTestEngine(t, testSLO("tte", 0.99))
	in := e.Instance(0, HashSeed, nil, minute(0))
	for m := 0; m < 24*60; m++ { // a clean day
		e.AddEvents(in, minute(m), 100, 0)
	}
	for m := 24 * 60; m < 25*60; m++ { // then an hour at 10% errors
		e.AddEvents(in, minute(m), 100, 10)
	}
	st := status(e, minute(25*60))
	recent := st.Windows[WindowRecent]
	require.InDelta(t, 10, recent.BurnRate, 1e-9)
	want := time.Duration(st.BudgetRemaining * float64(spec.DefaultPeriod) / 10)
	assert.InDelta(t, float64(want), float64(st.TimeToExhaustion), float64(time.Minute))
	assert.InDelta(t, float64(43*time.Hour+12*time.Minute), float64(st.TimeToExhaustion), float64(time.Minute))

	st = status(e, minute(27*60)) // two clean hours later: not exhausting
	assert.Equal(t, time.Duration(-1), st.TimeToExhaustion)
}
