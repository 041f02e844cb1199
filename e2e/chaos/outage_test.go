package chaos

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/obsd-dev/obsd/e2e/chaos/load"
	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// outage is how long the backend refuses everything.
const outage = 30 * time.Second

// outageWindow is the length of the windows the outage is cut into: obsd
// must acknowledge in every one of them.
const outageWindow = 5 * time.Second

// TestBackendOutage: the sink refuses every export (UNAVAILABLE) for 30s
// while load continues at a steady rate. obsd keeps acknowledging into its
// persistent queues in every 5s window of the outage, refusing nothing,
// while the queues grow on disk and its memory stays under the
// memory_limiter's limit; each signal's own circuit opens, readiness fails
// while both are open; when the sink comes back each circuit closes, the
// backlog drains to an empty queue and every acknowledged item arrives.
func TestBackendOutage(t *testing.T) {
	backendOutage(t, "outage", options{Breaker: true, Readiness: true})
}

// TestWALBackendOutage is TestBackendOutage with the queues on wal_storage.
func TestWALBackendOutage(t *testing.T) {
	backendOutage(t, "wal_outage", options{Breaker: true, Readiness: true, WAL: true})
}

func backendOutage(t *testing.T, name string, opts options) {
	const limitMiB = 256
	const rate, batch = 40, 100 // requests/s per signal, items per request
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s := sink.NewOTLP(t)
	p := newPorts(t)
	opts.LimitMiB = limitMiB
	o := harness.StartInDir(t, t.TempDir(), config(p, s, opts))
	dumpOnFailure(t, o)
	mem := watchMemory(o.PID())
	defer mem.Stop()
	queueDir := filepath.Join(o.Dir, "queue")

	conn := dial(t, p.GRPC)
	traces := load.New(conn, load.Config{Signal: load.Traces, BatchSize: batch, Streams: 2, Rate: rate})
	logs := load.New(conn, load.Config{Signal: load.Logs, BatchSize: batch, Streams: 2, Rate: rate})
	stop := runLoad(ctx, traces, logs)
	defer stop()
	harness.Eventually(t, 30*time.Second, func() bool { return s.SpanCount() > 0 && s.LogRecordCount() > 0 },
		"nothing reached the sink before the outage")
	before := [2]load.Stats{traces.Stats(), logs.Stats()}

	diskBefore := dirSize(queueDir)
	s.Fail(codes.Unavailable)
	var diskPeak int64
	var queuePeak float64
	notReady := 0
	var windows []outagePhase // acknowledged per window of the outage
	start := time.Now()
	last := [2]load.Stats{traces.Stats(), logs.Stats()}
	for next := start.Add(outageWindow); time.Since(start) < outage; {
		diskPeak = max(diskPeak, dirSize(queueDir))
		queuePeak = max(queuePeak, queueSize(o))
		// health_check answers 500 while unhealthy in component status mode.
		if healthStatus(o) >= http.StatusInternalServerError {
			notReady++
		}
		time.Sleep(500 * time.Millisecond)
		if time.Now().After(next) || time.Since(start) >= outage {
			cur := [2]load.Stats{traces.Stats(), logs.Stats()}
			windows = append(windows, newPhase(last, cur))
			last, next = cur, next.Add(outageWindow)
		}
	}
	during := newPhase(before, last)
	openedDuring := map[string]float64{}
	for _, sig := range []string{"traces", "logs"} {
		openedDuring[sig] = breakerTransitions(o, sig, "open")
	}
	s.Fail(codes.OK)
	harness.Eventually(t, 60*time.Second, func() bool { return healthStatus(o) == http.StatusOK }, "obsd did not become ready again after the outage")
	healedAt := time.Now()
	stop()
	after := newPhase(last, [2]load.Stats{traces.Stats(), logs.Stats()})

	rt, rl := waitDelivered(t, s, 90*time.Second, traces, logs)
	harness.Eventually(t, 60*time.Second, func() bool { return queueSize(o) == 0 },
		"the exporter queues did not drain to 0 after the outage")
	drain := time.Since(healedAt)
	peak := mem.Stop()
	final, err := readMemory(o.PID())
	if err != nil {
		t.Fatalf("read obsd memory: %v", err)
	}
	m := scrape(o)
	closedAfter := map[string]float64{}
	stateAfter := map[string]float64{}
	for _, sig := range []string{"traces", "logs"} {
		closedAfter[sig] = harness.Sum(m, "obsd_circuit_breaker_transitions_total", map[string]string{"breaker": "circuit_breaker/" + sig, "to": "closed"})
		stateAfter[sig] = harness.Sum(m, "obsd_circuit_breaker_state", map[string]string{"breaker": "circuit_breaker/" + sig})
	}
	summary(t, name, "outage=%s traces{%s} logs{%s} during{%s} windows=%v after{%s} breaker_opened=%v breaker_closed_after=%v not_ready_samples=%d queue_peak_requests=%.0f disk_before=%dB disk_peak=%dB drain=%s vmhwm=%.0fMiB rss_peak=%.0fMiB limit=%dMiB client_errors=%v/%v",
		outage, rt, rl, during, windows, after, openedDuring, closedAfter, notReady, queuePeak, diskBefore, diskPeak, drain.Round(100*time.Millisecond), final.HWM, peak.RSS, limitMiB,
		traces.Stats().Errors, logs.Stats().Errors)

	if rt.Lost != 0 || rl.Lost != 0 {
		t.Errorf("acknowledged items lost in the outage: spans %d (first %v), logs %d (first %v)", rt.Lost, rt.FirstLost, rl.Lost, rl.FirstLost)
	}
	for _, ph := range append([]outagePhase{during, after}, windows...) {
		if ph.Failed[0]+ph.Failed[1] != 0 {
			t.Errorf("obsd refused data while the backend was down or recovering: %s", ph)
		}
	}
	// Every window of the outage acknowledges each signal: at least half
	// of what the generator aims at (rate × batch × window), and all but
	// the requests in flight at the window's edges (2 streams per signal)
	// of what was sent in it.
	wantPerWindow := int(rate*batch*outageWindow.Seconds()) / 2
	for i, w := range windows {
		if w.Seconds < outageWindow.Seconds()/2 {
			continue // a last short window
		}
		for sig, name := range []string{"spans", "logs"} {
			if w.Acked[sig] < wantPerWindow || w.Acked[sig] < w.Sent[sig]-2*2*batch {
				t.Errorf("outage window %d (%.1fs): %d %s acknowledged of %d sent, want at least %d and all but those in flight: obsd stopped taking data",
					i, w.Seconds, w.Acked[sig], name, w.Sent[sig], wantPerWindow)
			}
		}
	}
	if final.HWM >= limitMiB {
		t.Errorf("obsd's peak RSS %.0f MiB is not under its memory limit %d MiB", final.HWM, limitMiB)
	}
	for _, sig := range []string{"traces", "logs"} {
		if openedDuring[sig] < 1 {
			t.Errorf("the %s circuit did not open in the outage", sig)
		}
		if closedAfter[sig] < 1 || stateAfter[sig] != 0 {
			t.Errorf("the %s circuit did not close after the outage: %v transitions to closed, state %v", sig, closedAfter[sig], stateAfter[sig])
		}
	}
	if notReady == 0 {
		t.Errorf("obsd stayed ready while every exporter circuit was open")
	}
	if diskPeak <= diskBefore || queuePeak == 0 {
		t.Errorf("the queue did not spill to disk: %d B before, %d B peak, queue peak %.0f requests", diskBefore, diskPeak, queuePeak)
	}
}

// outagePhase is what the generators sent, had acknowledged and had refused
// between two snapshots, per signal (0 traces, 1 logs), in items and
// requests.
type outagePhase struct {
	Seconds     float64
	Sent, Acked [2]int
	Failed      [2]int // requests
}

func newPhase(from, to [2]load.Stats) outagePhase {
	var ph outagePhase
	for i := range 2 {
		ph.Sent[i] = to[i].Sent - from[i].Sent
		ph.Acked[i] = to[i].Acked - from[i].Acked
		ph.Failed[i] = to[i].Failed() - from[i].Failed()
	}
	ph.Seconds = to[0].At.Sub(from[0].At).Seconds()
	return ph
}

func (ph outagePhase) String() string {
	return fmt.Sprintf("%.1fs spans %d/%d logs %d/%d refused %d/%d", ph.Seconds, ph.Acked[0], ph.Sent[0], ph.Acked[1], ph.Sent[1], ph.Failed[0], ph.Failed[1])
}

// breakerTransitions is obsd_circuit_breaker_transitions_total of the
// circuit_breaker/<signal> extension to state to.
func breakerTransitions(o *harness.Obsd, signal, to string) float64 {
	return harness.Sum(scrape(o), "obsd_circuit_breaker_transitions_total", map[string]string{"breaker": "circuit_breaker/" + signal, "to": to})
}
