package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/obsd-dev/obsd/alerting/selfrules"
	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/status"
)

// pollEvery is how often a drill looks at obsd's status page and at
// Alertmanager while it waits for a hop.
const pollEvery = 100 * time.Millisecond

// spansPerRequest bounds one OTLP request of a drill.
const spansPerRequest = 5000

// drillOptions are the command's knobs beyond the plan.
type drillOptions struct {
	// alertmanagers, when set, replaces the Alertmanager URLs of the
	// config for the "back" check (gameday may run elsewhere than obsd).
	alertmanagers []string
	// receiver, when set, is the drill's own webhook receiver, where
	// Alertmanager's game-day route notifies (--listen); receiverWait is
	// how long Alertmanager may take (its group_wait).
	receiver     *drillReceiver
	receiverWait time.Duration
}

// drill runs one plan and reports each hop on out.
type drill struct {
	p      *drillPlan
	opts   drillOptions
	out    io.Writer
	otlp   *otlpSender
	http   *http.Client
	start  time.Time
	failed []string
	seq    int
	// fired and delivered are when the page was seen firing and accepted
	// by every destination (zero: not seen).
	fired, delivered time.Time
	// down are the destinations that did not accept the page.
	down map[string]bool
}

// errDrillFailed is returned when a hop failed; the report says which.
var errDrillFailed = errors.New("the drill failed")

// hopRunbooks are obsd's runbook pages (docs/runbooks) for a failed hop.
var hopRunbooks = map[string][]string{
	"otlp":         {"data-refused.md"},
	"deliver":      {"alert-delivery-failing.md", "circuit-open.md"},
	"alertmanager": {"alert-delivery-failing.md"},
	"resolve":      {"alert-delivery-failing.md"},
}

// hop prints one hop's verdict with its time since the first span, and
// the runbook pages for a failed one.
func (d *drill) hop(name string, ok bool, format string, args ...any) {
	verdict := "ok"
	if !ok {
		verdict = "FAIL"
		d.failed = append(d.failed, name)
	}
	fmt.Fprintf(d.out, "  %8s  %-4s  %-24s %s\n", "+"+secs(time.Since(d.start)), verdict, name, fmt.Sprintf(format, args...))
	if ok {
		return
	}
	kind, _, _ := strings.Cut(name, " ")
	for _, page := range hopRunbooks[strings.TrimSuffix(kind, "-resolved")] {
		fmt.Fprintf(d.out, "  %8s  %-4s  %-24s runbook: %s/%s\n", "", "", "", selfrules.DefaultRunbookBaseURL, page)
	}
}

// skip prints a hop not tried because an earlier one failed.
func (d *drill) skip(name, why string) {
	fmt.Fprintf(d.out, "  %8s  %-4s  %-24s skipped: %s\n", "+"+secs(time.Since(d.start)), "-", name, why)
}

// run sends the incident, follows the page to every destination and
// back, then recovers. It returns errDrillFailed (wrapped, naming the
// first failed hop) when a hop failed.
func (d *drill) run(ctx context.Context) error {
	p := d.p
	if _, err := d.sloDetail(ctx); err != nil {
		return fmt.Errorf("cannot read obsd's status page %s: %w (is obsd running on this config? --start runs one)", p.t.statusURL, err)
	}
	d.start = time.Now()
	fmt.Fprintf(d.out, "  %8s  %-4s  %-24s %s\n", "time", "", "hop", "what happened")
	sent := d.send(ctx, p.failing, p.failN)
	if sent {
		d.hop("otlp", true, "%d failing spans accepted by %s", p.failN, d.otlp.where())
		d.followPage(ctx)
	}
	if sent && p.recoverN > 0 {
		d.recover(ctx)
	} else if sent {
		fmt.Fprintf(d.out, "  %8s  %-4s  %-24s %s\n", "", "", "recover", "skipped: "+p.recoveryImpossible)
	}
	total := time.Since(d.start)
	if !d.fired.IsZero() {
		fmt.Fprintf(d.out, "first failing span to page: %s (expected within %s)", secs(d.fired.Sub(d.start)), secs(p.fireWithin))
		if !d.delivered.IsZero() {
			fmt.Fprintf(d.out, "; to every destination: %s (expected within %s)", secs(d.delivered.Sub(d.start)), secs(p.fireWithin+p.deliverWithin))
		}
		fmt.Fprintln(d.out)
	}
	if len(d.failed) > 0 {
		fmt.Fprintf(d.out, "drill %s FAILED at hop %q after %s (failed: %s)\n", p.drill, d.failed[0], secs(total), strings.Join(d.failed, ", "))
		return fmt.Errorf("%w at hop %q: see the report above", errDrillFailed, d.failed[0])
	}
	fmt.Fprintf(d.out, "drill %s passed in %s\n", p.drill, secs(total))
	return nil
}

// send exports n spans like s in batches; it reports a failure as the
// otlp hop and returns false.
func (d *drill) send(ctx context.Context, s drillSpan, n int) bool {
	for left := n; left > 0; {
		k := min(left, spansPerRequest)
		td := drillTraces(d.p.drill, s, d.seq, k, time.Now())
		d.seq += k
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := d.otlp.send(sctx, td)
		cancel()
		if err != nil {
			d.hop("otlp", false, "%v", err)
			return false
		}
		left -= k
	}
	return true
}

// followPage waits for the game-day instance, its page, its route, each
// destination's delivery and Alertmanager's copy, as hops.
func (d *drill) followPage(ctx context.Context) {
	p := d.p
	deadline := d.start.Add(p.fireWithin)
	var inst *instanceView
	var page *status.AlertEvent
	var lastErr error
	poll(ctx, deadline, func() bool {
		det, err := d.sloDetail(ctx)
		if err != nil {
			lastErr = err
			return false
		}
		if inst == nil {
			if in := det.instance(p.drill); in != nil && in.Events >= float64(p.failN) {
				inst = in
				d.hop("slo", true, "game-day instance %s{%s}: %s events, %s bad; burn %s× over %s, %s× over %s",
					p.slo.Name, in.Instance, num(in.Events), num(in.BadEvents), num(in.burn(p.pair.Long)), durName(p.pair.Long),
					num(in.burn(p.pair.Short)), durName(p.pair.Short))
			}
		}
		page = det.event(p.drill, contract.StateFiring)
		return inst != nil && page != nil
	})
	switch {
	case inst == nil:
		d.hop("slo", false, "no game-day instance of %s with %d events within %s%s", p.slo.Name, p.failN, secs(p.fireWithin), errNote(lastErr))
		return
	case page == nil:
		d.hop("alert", false, "the page did not fire within %s of the first span (expected within one evaluation, %s, plus 'for' %s)",
			secs(p.fireWithin), durName(p.eval), durName(p.pageFor))
		return
	}
	d.hop("alert", true, "page firing (obsd evaluated it at %s), burn %s× over %s and %s× over %s, threshold %s×",
		page.At.Format("15:04:05.000"), num(page.BurnRateLong), durName(page.LongWindow), num(page.BurnRateShort), durName(page.ShortWindow), num(page.Threshold))
	if len(page.Receivers) == 0 {
		d.hop("route", false, "the page was routed to no destination: connector %s has no alerting destination, or no route takes it", p.t.connector)
		return
	}
	note := ""
	if strings.Join(page.Receivers, ",") != strings.Join(p.receivers, ",") {
		note = fmt.Sprintf(" (planned: %s)", strings.Join(p.receivers, ", "))
	}
	d.hop("route", true, "queued for %s%s", strings.Join(page.Receivers, ", "), note)
	d.fired = time.Now()
	if d.deliver(ctx, "deliver", *page, page.Receivers, d.fired) {
		d.delivered = time.Now()
	}
	d.back(ctx, page.Receivers, d.fired)
}

// deliver waits until every destination accepted everything queued up to
// ev (its outbox is empty and it delivered after ev), one hop each.
func (d *drill) deliver(ctx context.Context, hop string, ev status.AlertEvent, receivers []string, since time.Time) bool {
	deadline := since.Add(d.p.deliverWithin)
	all := true
	for _, r := range receivers {
		if d.down[r] {
			d.skip(hop+" "+r, "destination "+r+" did not accept the page")
			all = false
			continue
		}
		var last status.Destination
		var lastErr error
		done := poll(ctx, deadline, func() bool {
			dests, err := d.destinations(ctx)
			if err != nil {
				lastErr = err
				return false
			}
			for _, x := range dests {
				if x.Name == r && x.Source == ev.Source {
					last = x
					return x.Queued == 0 && !x.LastDelivered.Before(ev.At)
				}
			}
			return false
		})
		if done {
			d.hop(hop+" "+r, true, "accepted by destination %s (obsd delivered at %s, outbox empty)", r, last.LastDelivered.Format("15:04:05.000"))
			continue
		}
		all = false
		if d.down == nil {
			d.down = map[string]bool{}
		}
		d.down[r] = true
		why := fmt.Sprintf("%d alerts still queued", last.Queued)
		if last.LastError != "" {
			why += "; last error: " + last.LastError
		}
		for ep, st := range last.Breakers {
			if st != "closed" {
				why += fmt.Sprintf("; circuit %s to %s", st, ep)
			}
		}
		d.hop(hop+" "+r, false, "destination %s did not accept it within %s: %s%s", r, secs(d.p.deliverWithin), why, errNote(lastErr))
	}
	return all
}

// back checks that every Alertmanager the page went to holds it, and that
// the drill's own receiver (--listen) got Alertmanager's notification.
func (d *drill) back(ctx context.Context, receivers []string, since time.Time) {
	amDown := false
	for _, r := range receivers {
		urls, ok := d.p.alertmanagers[r]
		if !ok {
			continue
		}
		if len(d.opts.alertmanagers) > 0 {
			urls = d.opts.alertmanagers
		}
		for _, u := range urls {
			var got amAlert
			var lastErr error
			done := poll(ctx, since.Add(d.p.deliverWithin), func() bool {
				as, err := d.amAlerts(ctx, u)
				if err != nil {
					lastErr = err
					return false
				}
				if len(as) > 0 {
					got = as[0]
					return true
				}
				return false
			})
			if !done {
				amDown = true
				d.hop("alertmanager", false, "%s does not hold the page within %s%s", u, secs(d.p.deliverWithin), errNote(lastErr))
				continue
			}
			d.hop("alertmanager", true, "%s holds it (%s), routed to receiver %s", u, got.Status.State, strings.Join(got.receiverNames(), ", "))
		}
	}
	if rc := d.opts.receiver; rc != nil && amDown {
		d.skip("receiver", "Alertmanager does not hold the page")
		d.failed = append(d.failed, "receiver")
	} else if rc != nil {
		note, ok := rc.wait(ctx, d.p.drill, since.Add(d.opts.receiverWait))
		if ok {
			d.hop("receiver", true, "Alertmanager's receiver %s notified %s (status %s)", note.receiver, rc.addr, note.status)
		} else {
			d.hop("receiver", false, "no notification for the drill on %s within %s: does Alertmanager route gameday=\"true\" to a webhook at this address?",
				rc.addr, secs(d.opts.receiverWait))
		}
	}
}

// recover sends good spans, waits for the page to resolve and for the
// resolve to reach every destination.
func (d *drill) recover(ctx context.Context) {
	p := d.p
	if !d.send(ctx, p.healthy, p.recoverN) {
		return
	}
	d.hop("recover", true, "%d good spans accepted", p.recoverN)
	sent := time.Now()
	var resolved *status.AlertEvent
	poll(ctx, sent.Add(p.resolveWithin), func() bool {
		det, err := d.sloDetail(ctx)
		if err == nil {
			resolved = det.event(p.drill, contract.StateResolved)
		}
		return resolved != nil
	})
	if resolved == nil {
		d.hop("resolve", false, "the page did not resolve within %s of the recovery", secs(p.resolveWithin))
		return
	}
	d.hop("resolve", true, "page resolved (obsd evaluated it at %s)", resolved.At.Format("15:04:05.000"))
	if len(resolved.Receivers) > 0 {
		d.deliver(ctx, "deliver-resolved", *resolved, resolved.Receivers, time.Now())
	}
}

// poll calls done every pollEvery until it returns true (true) or the
// deadline passes (false).
func poll(ctx context.Context, deadline time.Time, done func() bool) bool {
	for {
		if done() {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		select {
		case <-ctx.Done():
		case <-time.After(pollEvery):
		}
	}
}

func errNote(err error) string {
	if err == nil {
		return ""
	}
	return " (last error: " + err.Error() + ")"
}

func durName(d time.Duration) string { return model.Duration(d).String() }

// sloDetailResponse is the status page's /api/v1/slos/{name}.
type sloDetailResponse struct {
	Instances []status.SLO        `json:"instances"`
	Alerts    []status.AlertEvent `json:"alerts"`
}

// instance returns the game-day instance of drill.
func (r *sloDetailResponse) instance(drill string) *instanceView {
	for i := range r.Instances {
		if r.Instances[i].Group[contract.LabelGamedayDrill] == drill {
			return &instanceView{r.Instances[i]}
		}
	}
	return nil
}

// event returns the newest page transition to state of drill's instance.
func (r *sloDetailResponse) event(drill, state string) *status.AlertEvent {
	var out *status.AlertEvent
	for i := range r.Alerts {
		a := &r.Alerts[i]
		if a.Severity == contract.SeverityPage && a.State == state && strings.Contains(a.Instance, contract.LabelGamedayDrill+"="+drill) {
			if out == nil || a.At.After(out.At) {
				out = a
			}
		}
	}
	return out
}

type instanceView struct{ status.SLO }

// burn returns the burn rate over the window of length w ("5m", "1h", ...).
func (v *instanceView) burn(w time.Duration) float64 {
	name := durName(w)
	for _, x := range v.Windows {
		if x.Name == name {
			return x.BurnRate
		}
	}
	return 0
}

func (d *drill) sloDetail(ctx context.Context) (*sloDetailResponse, error) {
	var r sloDetailResponse
	if err := d.getJSON(ctx, d.p.t.statusURL+"/api/v1/slos/"+url.PathEscape(d.p.slo.Name), &r, http.StatusNotFound); err != nil {
		return nil, err
	}
	return &r, nil
}

func (d *drill) destinations(ctx context.Context) ([]status.Destination, error) {
	var r struct {
		Destinations []status.Destination `json:"destinations"`
	}
	err := d.getJSON(ctx, d.p.t.statusURL+"/api/v1/alerts", &r)
	return r.Destinations, err
}

// amAlert is the part of Alertmanager's API v2 alert a drill reads.
type amAlert struct {
	Labels    map[string]string `json:"labels"`
	Receivers []struct {
		Name string `json:"name"`
	} `json:"receivers"`
	Status struct {
		State string `json:"state"`
	} `json:"status"`
}

func (a amAlert) receiverNames() []string {
	out := make([]string, 0, len(a.Receivers))
	for _, r := range a.Receivers {
		out = append(out, r.Name)
	}
	return out
}

// amAlerts returns the drill's alerts Alertmanager at base holds.
func (d *drill) amAlerts(ctx context.Context, base string) ([]amAlert, error) {
	q := url.Values{"filter": {fmt.Sprintf("%s=%q", contract.LabelGamedayDrill, d.p.drill)}}
	var as []amAlert
	err := d.getJSON(ctx, strings.TrimSuffix(base, "/")+"/api/v2/alerts?"+q.Encode(), &as)
	return as, err
}

// getJSON decodes a GET's JSON body into v; other answers than 200 (and
// the tolerated codes, which leave v as is) are errors.
func (d *drill) getJSON(ctx context.Context, u string, v any, tolerated ...int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	for _, c := range tolerated {
		if resp.StatusCode == c {
			return nil
		}
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s answered %s: %s", u, resp.Status, strings.TrimSpace(string(body)))
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(v)
}
