package cluster

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/internal/promtest"
	"github.com/obsd-dev/obsd/slo/contract"
)

// The test's timeline, from T0 (ticks of 100ms).
const (
	tick        = 100 * time.Millisecond
	ticks       = 4500 // 450s of traffic
	burstFrom   = 2400 // 240s: 30% errors, 50% on agent A, 10% on agent B
	burstTo     = 3600 // 360s
	gapTicks    = 1000 // the issue's scenario: 200 failing spans to one agent, 200 good ones to the other, 2/s each for 100s
	gapEvery5   = 5    // one gap span every 5 ticks
	gapBLag     = 100  // gap-b's spans start 10s after gap-a's
	killAtTick  = 1495 // 149.5s: agent B is killed with SIGKILL while items flow (4.5s after its last bad item)
	evalEvery   = 5 * time.Second
	gapEvery    = 30 * time.Second // the gap pair runs obsd's default interval
	settleAfter = 12 * time.Second
)

// bad says which of the tick's two items (to agent A, to agent B) fail.
func bad(i int) (a, b bool) {
	if i >= burstFrom && i < burstTo {
		j := i % 10
		return j < 5, j == 5
	}
	return i%100 == 0, i%100 == 50 // 1%
}

// quiet reports whether t is within 0.3s before or 1s after an
// evaluation instant.
func quiet(t time.Time) bool {
	phase := t.Sub(t.Truncate(evalEvery))
	return phase < time.Second || phase >= evalEvery-300*time.Millisecond
}

// issueRules is the issue's query, recorded as it did: the ratio of the
// agents' cumulative counters' rates.
const issueRules = `groups:
  - name: issue-23
    rules:
      - record: issue:gap_error_ratio:rate5m
        expr: sum(rate(obsd_slo_bad_events_total{slo="gap-spans"}[5m])) / sum(rate(obsd_slo_events_total{slo="gap-spans"}[5m]))
`

func exportRules(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "slo.yaml")
	if err := os.WriteFile(path, []byte(sloFile), 0o600); err != nil {
		t.Fatal(err)
	}
	out, code := harness.Run(t, time.Minute, "slo", "rules", "--slo", path, "--grafana-url", "https://grafana.example")
	if code != 0 {
		t.Fatalf("obsd slo rules: exit %d\n%s", code, out)
	}
	if !strings.Contains(out, `obsd_slo_window_bad_events{slo="shop-spans", window="1m"}`) {
		t.Fatalf("the span SLO's rules do not read the agents' sums:\n%s", out)
	}
	return out
}

// promAlert is the first firing alert of an SLO seen in Prometheus.
type promAlert struct {
	promtest.Alert
	seen bool
}

// TestAgentsAndRulerDecideAsOneObsd: two agents in ruler mode, each with
// half of one service's spans and log records, the errors of a burst split
// 5:1 between them, remote-write their window sums to Prometheus 2.42,
// which runs the exported rules; a third obsd sees everything and decides
// in-process. Prometheus' recorded error ratios equal the single obsd's
// within 1% once the windows are full, the page fires at the same
// evaluation (± one evaluation interval) with the same labels and runbook,
// nothing fires before the burst, and a SIGKILL of one agent changes none
// of that and resets no counter.
func TestAgentsAndRulerDecideAsOneObsd(t *testing.T) {
	began := time.Now()
	prom := promtest.Start(t, promtest.Options{Rules: map[string]string{"slo-rules.yml": exportRules(t), "issue.yml": issueRules},
		EvaluationInterval: time.Second})
	single := promtest.Start(t, promtest.Options{})
	proxy := startRWProxy(t, prom.RemoteWriteURL())
	hook := startWebhook(t)
	agentA, portA := startObsd(t, obsdSpec{instance: "agent-a", mode: contract.AlertsRuler, interval: evalEvery, remoteWrite: proxy.URL("agent-a")})
	agentB, portB := startObsd(t, obsdSpec{instance: "agent-b", mode: contract.AlertsRuler, interval: evalEvery, remoteWrite: proxy.URL("agent-b")})
	one, portOne := startObsd(t, obsdSpec{instance: "single", mode: contract.AlertsBoth, interval: evalEvery, remoteWrite: single.RemoteWriteURL(), webhook: hook.url})
	_, portGapA := startObsd(t, obsdSpec{instance: "gap-a", mode: contract.AlertsRuler, interval: gapEvery, remoteWrite: proxy.URL("gap-a")})
	_, portGapB := startObsd(t, obsdSpec{instance: "gap-b", mode: contract.AlertsRuler, interval: gapEvery, remoteWrite: proxy.URL("gap-b")})
	_ = agentA
	newTarget := func(name string, port int) *target {
		return &target{name: name, conn: dial(t, port), acked: map[string]int{}}
	}
	ta, tb, tone := newTarget("agent-a", portA), newTarget("agent-b", portB), newTarget("single", portOne)
	tga, tgb := newTarget("gap-a", portGapA), newTarget("gap-b", portGapB)
	all := []*target{ta, tb, tone, tga, tgb}

	// Prometheus' alerts, polled: the first firing one per SLO, and any
	// pending or firing before the burst (a false burn).
	//
	// T0 is half an evaluation interval after an aligned instant, so the
	// baseline's bad items (every 10s) are sent between two evaluations:
	// an item sent at an evaluation instant is counted at that instant by
	// an obsd that evaluates a moment later and at the next one by an obsd
	// that evaluates a moment earlier, and one bad item of twelve in a 1m
	// window is 8% of its ratio (measured on a first run: up to 98% apart
	// at single instants on the 1m window, 5.8% on the 1h one). That is
	// the in-flight residual of docs/kubernetes.md, not the sum.
	t0 := time.Now().Add(2 * time.Second).Truncate(evalEvery).Add(evalEvery + evalEvery/2)
	burstAt := t0.Add(burstFrom * tick)
	var amu sync.Mutex
	firstProm := map[string]*promAlert{}
	var falseBurns []string
	stopPoll := make(chan struct{})
	var pollWG sync.WaitGroup
	pollWG.Add(1)
	go func() {
		defer pollWG.Done()
		for {
			select {
			case <-stopPoll:
				return
			case <-time.After(250 * time.Millisecond):
			}
			alerts, err := prom.Alerts()
			if err != nil {
				continue
			}
			now := time.Now()
			amu.Lock()
			for _, a := range alerts {
				slo := a.Labels["slo"]
				if now.Before(burstAt) && slo != "gap-spans" { // the gap SLO burns at 50×: right
					falseBurns = append(falseBurns, fmt.Sprintf("%s %s at %s", slo, a.State, now.Sub(t0)))
				}
				if a.State == "firing" && firstProm[slo] == nil {
					firstProm[slo] = &promAlert{Alert: a, seen: true}
				}
			}
			amu.Unlock()
		}
	}()

	// The sender: every tick one span and one log record to each agent,
	// both to the single obsd; the issue's 200 + 200 spans to the gap
	// pair. No item is made from 0.3s before to 1s after an evaluation
	// instant: an item in flight at an instant is counted there by an obsd
	// that evaluates after it arrives and at the next instant by one that
	// evaluates before (measured without this quiet time: up to 98% on a
	// single 1m-window ratio when a bad item raced, see docs/kubernetes.md).
	// The test checks the sums; that residual is documented.
	var killAt, upAt time.Time
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range ticks {
			if d := time.Until(t0.Add(time.Duration(i) * tick)); d > 0 {
				time.Sleep(d)
			}
			now := time.Now()
			if !quiet(now) {
				badA, badB := bad(i)
				ta.pending = append(ta.pending, span("shop", now, badA), logRecord("worker", now, badA))
				tb.pending = append(tb.pending, span("shop", now, badB), logRecord("worker", now, badB))
				tone.pending = append(tone.pending, span("shop", now, badA), span("shop", now, badB),
					logRecord("worker", now, badA), logRecord("worker", now, badB))
			}
			if i < gapTicks && i%gapEvery5 == 0 {
				tga.pending = append(tga.pending, span("gap", now, true))
			}
			if j := i - gapBLag; j >= 0 && j < gapTicks && j%gapEvery5 == 0 {
				tgb.pending = append(tgb.pending, span("gap", now, false))
			}
			for _, tg := range all {
				tg.flush()
			}
		}
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && len(tb.pending) > 0; time.Sleep(100 * time.Millisecond) {
			tb.flush()
		}
	}()

	// SIGKILL agent B mid-test, and bring it back on its state.
	time.Sleep(time.Until(t0.Add(killAtTick*tick + 50*time.Millisecond)))
	killAt = time.Now()
	agentB.Kill()
	agentB.Restart()
	upAt = time.Now()
	<-done
	end := time.Now()
	time.Sleep(settleAfter)
	close(stopPoll)
	pollWG.Wait()
	t.Logf("traffic from T0 = %s for %s; agent B killed at T0+%s, healthy again at T0+%s (%s down); sent: %s",
		t0.Format(time.RFC3339), end.Sub(t0).Round(time.Second), killAt.Sub(t0).Round(time.Millisecond),
		upAt.Sub(t0).Round(time.Millisecond), upAt.Sub(killAt).Round(time.Millisecond), describeTargets(all))
	for _, tg := range all {
		if len(tg.pending) > 0 {
			t.Fatalf("%s never took %d items", tg.name, len(tg.pending))
		}
	}

	r := &report{t: t, prom: prom, single: single, t0: t0, end: end, killAt: killAt, upAt: upAt, counted: []*target{ta, tb, tone}, retriedB: tb.fails}
	r.lost = map[string][2]float64{"shop-spans": r.lostBy("shop-spans", tb, "spans"), "worker-logs": r.lostBy("worker-logs", tb, "logs")}
	for _, slo := range []string{"shop-spans", "worker-logs"} {
		r.compareRatios(slo)
		r.compareCounterRates(slo)
		amu.Lock()
		fp := firstProm[slo]
		amu.Unlock()
		r.compareAlerts(slo, fp, hook, burstAt)
	}
	amu.Lock()
	if len(falseBurns) > 0 {
		t.Errorf("alerts before the burst (a false burn): %v", falseBurns)
	}
	amu.Unlock()
	r.checkKill()
	r.issueGap()
	r.remoteWriteCost(proxy)
	r.otlpSizes()
	_ = one
	t.Logf("test duration: %s", time.Since(began).Round(time.Second))
}

func describeTargets(ts []*target) string {
	var parts []string
	for _, tg := range ts {
		parts = append(parts, fmt.Sprintf("%s %d spans (%d bad), %d logs (%d bad), %d refused sends",
			tg.name, tg.acked["spans"], tg.acked["bad spans"], tg.acked["logs"], tg.acked["bad logs"], tg.fails))
	}
	return strings.Join(parts, "; ")
}

// report compares Prometheus' rules on the agents with the single obsd.
type report struct {
	t                     *testing.T
	prom, single          *promtest.Server
	t0, end, killAt, upAt time.Time
	// lost are the events and bad events agent B acknowledged and does
	// not count, by SLO: never positive (its journal keeps every accepted
	// request's events), negative by the requests it counted before the
	// SIGKILL and counted again when the client retried them.
	lost map[string][2]float64
	// counted are the two agents and the single obsd, whose items in
	// flight at an instant may be counted there or at the next instant.
	counted []*target
	// retriedB: the requests agent B refused (its kill) and took later.
	retriedB int
}

// inFlight: the events and bad events of an SLO on their way to any of
// the agents or the single obsd at the evaluation instant whose samples
// a query at ts reads (the aligned instant at or before ts).
func (r *report) inFlight(slo string, ts time.Time) (events, bad float64) {
	kind := map[string]string{"shop-spans": "spans", "worker-logs": "logs"}[slo]
	ms := ts.Truncate(evalEvery).UnixMilli()
	for _, tg := range r.counted {
		events += float64(tg.inFlight[ms][kind])
		bad += float64(tg.inFlight[ms]["bad "+kind])
	}
	return events, bad
}

// lostBy counts what agent B acknowledged of kind and does not count.
func (r *report) lostBy(slo string, tb *target, kind string) [2]float64 {
	at := r.end.Add(settleAfter - time.Second)
	var out [2]float64
	for i, name := range []string{"obsd_slo_events_total", "obsd_slo_bad_events_total"} {
		res, err := r.prom.QueryAt(fmt.Sprintf(`%s{instance="agent-b", slo=%q}`, name, slo), at)
		if err != nil || len(res) != 1 {
			r.t.Fatalf("agent B's %s of %s: %v %v", name, slo, res, err)
		}
		acked := tb.acked[kind]
		if i == 1 {
			acked = tb.acked["bad "+kind]
		}
		out[i] = float64(acked) - res[0].Value
	}
	r.t.Logf("FIGURE agent B acknowledged %d %s (%d bad) of %s and counts %.0f fewer (%.0f bad) after the SIGKILL (negative: a request counted before the kill and counted again when the client retried it)",
		tb.acked[kind], kind, tb.acked["bad "+kind], slo, out[0], out[1])
	if out[0] > 0 || out[1] > 0 {
		r.t.Errorf("agent B lost %.0f acknowledged %s (%.0f bad) of %s to the SIGKILL: its journal (storage: wal_storage) keeps every accepted request's events",
			out[0], kind, out[1], slo)
	}
	return out
}

// instants are the comparison times: 0.5s before the aligned instant
// after each one, where every obsd's sample of the instant has arrived
// (remote write on a loaded machine took more than 2.5s now and then,
// mostly from an agent that had just restarted) and Prometheus' latest
// evaluation (every 1s) read it: what a ruler evaluating with a query
// offset reads. The evaluations that ran before the last sample arrived
// are measured apart (mixing).
func (r *report) instants(from time.Time) (time.Time, time.Time) {
	const at = evalEvery - 500*time.Millisecond
	first := from.Truncate(evalEvery).Add(evalEvery + at)
	last := r.end.Truncate(evalEvery).Add(at)
	return first, last
}

func (r *report) inKill(ts time.Time) bool {
	return !ts.Before(r.killAt) && ts.Before(r.upAt.Add(2*evalEvery))
}

func byTime(ss []promtest.Series) map[int64]float64 {
	out := map[int64]float64{}
	if len(ss) == 0 {
		return out
	}
	for _, p := range ss[0].Points {
		out[p.T.UnixMilli()] = p.V
	}
	return out
}

func rel(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / want
}

// compareRatios: the recorded error ratio of every window against the
// single obsd's exact ratio at the same instants, and the agents' summed
// window counts against the single obsd's.
func (r *report) compareRatios(slo string) {
	t := r.t
	for _, w := range []struct {
		record, label string
		full          time.Duration
	}{{"1m", "1m", time.Minute}, {"5m", "5m", 5 * time.Minute}, {"1h", contract.WindowPeriod, time.Minute}} {
		from, to := r.instants(r.t0.Add(w.full))
		q := func(p *promtest.Server, expr string) map[int64]float64 {
			res, err := p.QueryRange(expr, from, to, evalEvery)
			if err != nil {
				t.Fatal(err)
			}
			return byTime(res)
		}
		sums := func(metric string) string {
			return fmt.Sprintf(`sum(%s{slo=%q, window=%q})`, metric, slo, w.label)
		}
		got := q(r.prom, fmt.Sprintf(`obsd_slo:sli_error:ratio_rate%s{slo=%q}`, w.record, slo))
		exp := q(r.single, sums(contract.MetricWindowBadEvents)+" / "+sums(contract.MetricWindowEvents))
		evA, evS := q(r.prom, sums(contract.MetricWindowEvents)), q(r.single, sums(contract.MetricWindowEvents))
		badA, badS := q(r.prom, sums(contract.MetricWindowBadEvents)), q(r.single, sums(contract.MetricWindowBadEvents))
		var n, nLoss, nKill, exactSums, nFlight int
		var worst, worstLoss, worstKill, worstAt, peak, events float64
		for ms, e := range exp {
			g, ok := got[ms]
			ts := time.UnixMilli(ms)
			if !ok {
				t.Errorf("%s %s: no recorded ratio at T0+%s", slo, w.record, ts.Sub(r.t0))
				continue
			}
			d := rel(g, e)
			peak, events = math.Max(peak, e), math.Max(events, evS[ms])
			if r.inKill(ts) {
				nKill++
				worstKill = math.Max(worstKill, d)
				continue
			}
			// The sums: the single obsd's, less what agent B lost, give or
			// take the items in flight at the instant and, in windows
			// holding the kill, the requests agent B refused around it
			// (OTLP is at least once: a request it had counted before the
			// SIGKILL and never acknowledged is counted again on retry, so
			// its net loss may hide a loss and a duplicate).
			lost := r.lost[slo]
			holdsKill := ts.After(r.killAt) && (w.label == contract.WindowPeriod || !ts.Add(-w.full-time.Minute).After(r.killAt))
			holdsLoss := holdsKill && lost[0] > 0
			var retried float64
			if holdsKill {
				retried = float64(r.retriedB)
			} else {
				lost = [2]float64{}
			}
			dev, dbad := evS[ms]-evA[ms], badS[ms]-badA[ms]
			fly, flyBad := r.inFlight(slo, ts)
			switch {
			case dev == 0 && dbad == 0:
				exactSums++
			case math.Abs(dev-lost[0]) <= fly+retried && math.Abs(dbad-lost[1]) <= flyBad+retried:
				if fly > 0 || retried > 0 {
					nFlight++
				}
			default:
				t.Errorf("%s window %s at T0+%s: the agents sum %v events (%v bad), the single obsd counts %v (%v bad); agent B lost %v (%v bad) net; in flight at that instant %v (%v bad); requests agent B refused around the kill %v",
					slo, w.record, ts.Sub(r.t0), evA[ms], badA[ms], evS[ms], badS[ms], lost[0], lost[1], fly, flyBad, retried)
			}
			if holdsLoss {
				nLoss++
				worstLoss = math.Max(worstLoss, d)
				if evS[ms] < 100*lost[0] {
					continue // the lost events alone may move this small window's ratio by 1%
				}
			}
			n++
			if d > worst {
				worst, worstAt = d, ts.Sub(r.t0).Seconds()
			}
			if d > 0.01 {
				t.Errorf("%s window %s at T0+%s: Prometheus %.6f, single obsd %.6f (%.2f%% apart)", slo, w.record, ts.Sub(r.t0), g, e, 100*d)
			}
		}
		if n == 0 {
			t.Errorf("%s window %s: nothing compared", slo, w.record)
		}
		t.Logf("FIGURE ratio %s window %s: %d instants within 1%% (largest difference %.4f%% at T0+%.1fs, 0 when none; peak ratio %.4f, up to %.0f events); "+
			"sums equal to the event at %d of %d instants (%d more apart by no more than agent B's net loss, the items in flight at the instant and the requests agent B refused around the kill); windows holding agent B's lost events: %d instants (checked when they hold 100× the loss), largest %.4f%%; during its restart %d instants, largest %.4f%%",
			slo, w.record, n, 100*worst, worstAt, peak, events, exactSums, len(exp)-nKill, nFlight, nLoss, 100*worstLoss, nKill, 100*worstKill)
		r.mixing(slo, w.record, w.label, w.full)
	}
}

// mixing compares every one of Prometheus' rule evaluations (1s), also
// those that ran while an agent's sample of the latest instant was still
// on its way: the residual of a ruler evaluating at its own instants.
func (r *report) mixing(slo, record, label string, full time.Duration) {
	from := r.t0.Add(full + evalEvery)
	rec, err := r.prom.QueryRange(fmt.Sprintf(`obsd_slo:sli_error:ratio_rate%s{slo=%q}`, record, slo), from, r.end, time.Second)
	if err != nil {
		r.t.Fatal(err)
	}
	want, err := r.single.QueryRange(fmt.Sprintf(`sum(obsd_slo_window_bad_events{slo=%q, window=%q}) / sum(obsd_slo_window_events{slo=%q, window=%q})`,
		slo, label, slo, label), from, r.end, time.Second)
	if err != nil {
		r.t.Fatal(err)
	}
	got, exp := byTime(rec), byTime(want)
	var n, off int
	var worst float64
	for ms, e := range exp {
		g, ok := got[ms]
		if !ok || r.inKill(time.UnixMilli(ms)) {
			continue
		}
		n++
		d := rel(g, e)
		worst = math.Max(worst, d)
		if d > 0.01 {
			off++
		}
	}
	r.t.Logf("FIGURE every 1s evaluation %s window %s: %d compared, %d (%.2f%%) more than 1%% apart (Prometheus' evaluation between an aligned instant and the last agent's sample of it), largest %.3f%%",
		slo, record, n, off, 100*float64(off)/math.Max(1, float64(n)), 100*worst)
}

// compareCounterRates: what the cumulative counters give with rate(), for
// the record: the extrapolation error the window sums remove.
func (r *report) compareCounterRates(slo string) {
	for _, w := range []string{"1m", "5m"} {
		d, _ := time.ParseDuration(w)
		from, to := r.instants(r.t0.Add(d))
		rec, err := r.prom.QueryRange(fmt.Sprintf(`sum(rate(obsd_slo_bad_events_total{slo=%q}[%s])) / sum(rate(obsd_slo_events_total{slo=%q}[%s]))`,
			slo, w, slo, w), from, to, evalEvery)
		if err != nil {
			r.t.Fatal(err)
		}
		want, err := r.single.QueryRange(fmt.Sprintf(`sum(obsd_slo_window_bad_events{slo=%q, window=%q}) / sum(obsd_slo_window_events{slo=%q, window=%q})`,
			slo, w, slo, w), from, to, evalEvery)
		if err != nil {
			r.t.Fatal(err)
		}
		got, exp := byTime(rec), byTime(want)
		var worst, worstG, worstE float64
		off := 0
		for ms, e := range exp {
			g, ok := got[ms]
			if !ok {
				continue
			}
			if d := rel(g, e); d > worst {
				worst, worstG, worstE = d, g, e
			}
			if rel(g, e) > 0.01 {
				off++
			}
		}
		r.t.Logf("FIGURE cumulative counters %s rate[%s] ratio vs the single obsd: largest difference %.2f%% (%.4f vs %.4f), %d of %d instants more than 1%% apart",
			slo, w, 100*worst, worstG, worstE, off, len(exp))
	}
}

// compareAlerts: the page fires in Prometheus at the single obsd's
// evaluation (± one evaluation interval), with the same labels and links.
func (r *report) compareAlerts(slo string, fp *promAlert, hook *webhook, burstAt time.Time) {
	t := r.t
	want, ok := hook.firstFiring(slo)
	if !ok {
		t.Errorf("%s: the single obsd never paged", slo)
		return
	}
	if fp == nil {
		t.Errorf("%s: Prometheus never fired the page (the single obsd fired at T0+%s)", slo, want.StartsAt.Sub(r.t0))
		return
	}
	d := fp.ActiveAt.Sub(want.StartsAt)
	t.Logf("FIGURE page %s: single obsd fired at T0+%s (burst began T0+%s), Prometheus at T0+%s: %+.3fs",
		slo, want.StartsAt.Sub(r.t0), burstAt.Sub(r.t0), fp.ActiveAt.Sub(r.t0), d.Seconds())
	if d < -evalEvery || d > evalEvery {
		t.Errorf("%s: Prometheus fired %s after the single obsd, more than one evaluation interval (%s)", slo, d, evalEvery)
	}
	if want.StartsAt.Before(burstAt) {
		t.Errorf("%s: the single obsd fired before the burst", slo)
	}
	if fmt.Sprint(fp.Labels) != fmt.Sprint(want.Labels) {
		t.Errorf("%s: labels differ:\nPrometheus  %v\nsingle obsd %v", slo, fp.Labels, want.Labels)
	}
	for _, k := range []string{"runbook_url", "dashboard_url"} {
		if fp.Annotations[k] == "" || fp.Annotations[k] != want.Annotations[k] {
			t.Errorf("%s: annotation %s: Prometheus %q, single obsd %q", slo, k, fp.Annotations[k], want.Annotations[k])
		}
	}
	t.Logf("FIGURE page %s labels %v, runbook %s", slo, fp.Labels, fp.Annotations["runbook_url"])
}

// checkKill: the killed agent's counters never went back (no reset seen
// by Prometheus), no window sum or rate was negative, and the events it
// counts are those it acknowledged (lostBy).
func (r *report) checkKill() {
	t := r.t
	at := r.end.Add(settleAfter - time.Second)
	span := fmt.Sprintf("[%ds]", int(at.Sub(r.t0).Seconds())+30)
	for _, q := range []struct{ expr, what string }{
		{`resets(obsd_slo_events_total{instance="agent-b"}` + span + `)`, "counter resets of agent B's events"},
		{`resets(obsd_slo_bad_events_total{instance="agent-b"}` + span + `)`, "counter resets of agent B's bad events"},
	} {
		res, err := r.prom.QueryAt(q.expr, at)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) == 0 {
			t.Errorf("%s: no series", q.what)
		}
		for _, s := range res {
			if s.Value != 0 {
				t.Errorf("%s: %v = %v, want 0", q.what, s.Labels, s.Value)
			}
		}
	}
	for _, q := range []string{
		`min_over_time(obsd_slo_window_events` + span + `) < 0`,
		`min_over_time(obsd_slo_window_bad_events` + span + `) < 0`,
		`min_over_time(rate(obsd_slo_events_total{instance="agent-b"}[30s])` + span[:len(span)-1] + `:5s]) < 0`,
		`min_over_time(obsd_slo:sli_error:ratio_rate1m` + span + `) < 0`,
	} {
		res, err := r.prom.QueryAt(q, at)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) > 0 {
			t.Errorf("negative values: %s = %v", q, res)
		}
	}
	// The recorded 5m event count across the restart: the lost events only.
	from, to := r.killAt.Add(-evalEvery), r.upAt.Add(3*evalEvery)
	ev, err := r.prom.QueryRange(`obsd_slo:sli_events:increase5m{slo="shop-spans"}`, from.Truncate(time.Second), to, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) == 1 && len(ev[0].Points) > 0 {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, p := range ev[0].Points {
			lo, hi = math.Min(lo, p.V), math.Max(hi, p.V)
		}
		t.Logf("FIGURE recorded 5m events of shop-spans around the kill: %.0f to %.0f (never dropping to a partial sum)", lo, hi)
	}
}

// issueGap: the issue's scenario, 200 failing spans on one agent and 200
// good ones on the other, through the cumulative counters' rate() (the
// issue's recorded query) and through the exported rules.
func (r *report) issueGap() {
	t := r.t
	// From when both agents' last spans (T0+110s) are exported (30s
	// evaluations) until the 5m window, whose old edge is rounded up to
	// its 1m slices, starts losing the first ones (after T0+4m).
	from, to := r.t0.Add(150*time.Second), r.t0.Add(235*time.Second)
	rate, err := r.prom.QueryRange(`issue:gap_error_ratio:rate5m`, from, to, evalEvery)
	if err != nil {
		t.Fatal(err)
	}
	exact, err := r.prom.QueryRange(`obsd_slo:sli_error:ratio_rate5m{slo="gap-spans"}`, from, to, evalEvery)
	if err != nil {
		t.Fatal(err)
	}
	summarize := func(ss []promtest.Series) (lo, hi, last float64, n int) {
		lo, hi = math.Inf(1), math.Inf(-1)
		for _, s := range ss {
			for _, p := range s.Points {
				lo, hi, last = math.Min(lo, p.V), math.Max(hi, p.V), p.V
				n++
			}
		}
		return
	}
	rlo, rhi, rlast, rn := summarize(rate)
	elo, ehi, elast, en := summarize(exact)
	t.Logf("FIGURE issue scenario (200 failing spans on gap-a from T0, 200 good on gap-b from T0+10s, 2/s each, evaluation_interval 30s), T0+150s..T0+235s: "+
		"cumulative counters sum(rate[5m]) ratio %.4f..%.4f (last %.4f, %d points); window sums (exported rules) %.6f..%.6f (last %.6f, %d points); true 0.5",
		rlo, rhi, rlast, rn, elo, ehi, elast, en)
	if en == 0 || math.Abs(elo-0.5) > 1e-9 || math.Abs(ehi-0.5) > 1e-9 {
		t.Errorf("the exported rules recorded %v..%v for the issue's scenario, want exactly 0.5", elo, ehi)
	}
	if rn == 0 {
		t.Errorf("the issue's rate() query recorded nothing")
	}
}

// remoteWriteCost: what the agents sent: series per SLO and bytes per sample.
func (r *report) remoteWriteCost(p *rwProxy) {
	for _, c := range []string{"agent-a", "agent-b", "gap-a"} {
		s := p.Stats(c)
		var slos []string
		for slo, series := range s.Series {
			if slo != "" {
				slos = append(slos, fmt.Sprintf("%s %d", slo, len(series)))
			}
		}
		sort.Strings(slos)
		r.t.Logf("FIGURE remote write %s: %d requests, %d bytes (snappy), %d samples, %.2f bytes/sample, %d window-sum samples; series per SLO: %s",
			c, s.Requests, s.Bytes, s.Samples, float64(s.Bytes)/math.Max(1, float64(s.Samples)), s.WindowSumSamples, strings.Join(slos, ", "))
		if c == "agent-a" {
			for slo, series := range s.Series {
				if slo == "shop-spans" {
					var names []string
					for x := range series {
						names = append(names, x)
					}
					sort.Strings(names)
					r.t.Logf("agent-a series of shop-spans:\n  %s", strings.Join(names, "\n  "))
				}
			}
		}
	}
}

// otlpSizes: what a gateway would receive per span and log record over
// OTLP (protobuf, uncompressed): the test's minimal items and a span with
// the HTTP and Kubernetes attributes a real service sends.
func (r *report) otlpSizes() {
	now := time.Now()
	size := func(it item) int {
		if it.isLog {
			b, _ := plogotlp.NewExportRequestFromLogs(it.ld).MarshalProto()
			return len(b)
		}
		b, _ := ptraceotlp.NewExportRequestFromTraces(it.td).MarshalProto()
		return len(b)
	}
	typical := span("checkout", now, false)
	res := typical.td.ResourceSpans().At(0).Resource().Attributes()
	for k, v := range map[string]string{"service.namespace": "shop", "service.version": "1.24.3", "k8s.namespace.name": "shop",
		"k8s.pod.name": "checkout-7d9f8b6c5d-x2k4q", "k8s.pod.uid": "0b6e1d7a-3c1e-4f0e-9a57-3f4b2a1c9d8e", "k8s.node.name": "node-0421",
		"k8s.container.name": "checkout", "telemetry.sdk.language": "go", "telemetry.sdk.name": "opentelemetry", "telemetry.sdk.version": "1.38.0"} {
		res.PutStr(k, v)
	}
	sp := typical.td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0)
	sp.SetTraceID([16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	sp.SetSpanID([8]byte{1, 2, 3, 4, 5, 6, 7, 8})
	sp.SetParentSpanID([8]byte{8, 7, 6, 5, 4, 3, 2, 1})
	for k, v := range map[string]string{"http.request.method": "POST", "url.path": "/api/v1/checkout", "url.scheme": "https",
		"server.address": "checkout.shop.svc", "client.address": "10.42.3.17", "user_agent.original": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0",
		"network.protocol.version": "1.1"} {
		sp.Attributes().PutStr(k, v)
	}
	sp.Attributes().PutInt("http.response.status_code", 200)
	sp.Attributes().PutInt("server.port", 8080)
	r.t.Logf("FIGURE OTLP bytes (protobuf, one item per request): minimal span %d, minimal log record %d, span with HTTP and Kubernetes attributes %d",
		size(span("shop", now, false)), size(logRecord("worker", now, false)), size(typical))
}
