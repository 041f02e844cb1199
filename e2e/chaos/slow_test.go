package chaos

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/obsd-dev/obsd/e2e/chaos/load"
	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// slowFor is how long the backend stays slow; sinkDelay is how long it
// takes to answer meanwhile, against an exporter timeout of 2s.
const (
	slowFor   = 12 * time.Second
	sinkDelay = 10 * time.Second
)

// TestSlowBackend: the sink answers only after 10s while obsd's exporter
// timeout is 2s. The timeouts fire and the exports are retried, the data
// stays in the queue, and once the sink is fast again every acknowledged
// item arrives.
func TestSlowBackend(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := sink.NewOTLP(t)
	p := newPorts(t)
	o := harness.StartInDir(t, t.TempDir(), config(p, s, options{Timeout: "2s", Breaker: true}))
	dumpOnFailure(t, o)
	conn := dial(t, p.GRPC)
	traces := load.New(conn, load.Config{Signal: load.Traces, BatchSize: 100, Streams: 2, Rate: 20})
	stop := runLoad(ctx, traces)
	defer stop()
	harness.Eventually(t, 30*time.Second, func() bool { return s.SpanCount() > 0 }, "nothing reached the sink before it turned slow")

	s.Delay(sinkDelay)
	callsBefore, spansBefore := s.Calls(), s.SpanCount()
	slowStart := time.Now()
	var queuePeak, statePeak float64
	breaker := map[string]string{"breaker": "circuit_breaker/traces"}
	for time.Since(slowStart) < slowFor {
		m := scrape(o)
		queuePeak = max(queuePeak, harness.Sum(m, "otelcol_exporter_queue_size", nil))
		if harness.Sum(m, "obsd_circuit_breaker_state", breaker) == 2 { // open
			statePeak = 1
		}
		time.Sleep(250 * time.Millisecond)
	}
	opened := harness.Sum(scrape(o), "obsd_circuit_breaker_transitions_total", with(breaker, "to", "open"))
	rejected := harness.Sum(scrape(o), "obsd_circuit_breaker_rejected_total", breaker)
	attempts := s.Calls() - callsBefore
	storedWhileSlow := s.SpanCount() - spansBefore
	timeouts := strings.Count(o.Output(), "DeadlineExceeded")
	s.Delay(0)
	healedAt := time.Now()
	stop()

	rt, _ := waitDelivered(t, s, 60*time.Second, traces, nil)
	harness.Eventually(t, 60*time.Second, func() bool { return queueSize(o) == 0 }, "the queue did not drain after the sink became fast")
	harness.Eventually(t, 30*time.Second, func() bool { return harness.Sum(scrape(o), "obsd_circuit_breaker_state", breaker) == 0 },
		"the circuit did not close once the sink was fast again")
	summary(t, "slow", "sink_delay=%s exporter_timeout=2s slow_for=%s traces{%s} attempts_while_slow=%d timeout_logs=%d stored_while_slow=%d queue_peak_requests=%.0f breaker_opened=%.0f breaker_rejected=%.0f drain=%s",
		sinkDelay, slowFor, rt, attempts, timeouts, storedWhileSlow, queuePeak, opened, rejected, time.Since(healedAt).Round(100*time.Millisecond))

	if rt.Lost != 0 {
		t.Errorf("acknowledged spans lost with a slow backend: %d (first %v)", rt.Lost, rt.FirstLost)
	}
	if timeouts == 0 {
		t.Errorf("obsd never logged an export timing out (DeadlineExceeded)")
	}
	// Each consumer's export times out after 2s and is retried until three
	// failures open the circuit; then probes only, every 2s.
	if attempts < 3 {
		t.Errorf("the sink saw %d export attempts in %s; timeouts and retries should make several", attempts, slowFor)
	}
	if opened < 1 || statePeak != 1 || rejected == 0 {
		t.Errorf("the circuit breaker did not open on the timeouts: opened %v times, state 1 seen %v, rejected %v", opened, statePeak == 1, rejected)
	}
	if queuePeak == 0 {
		t.Errorf("the queue never held data while the sink was slow")
	}
}
