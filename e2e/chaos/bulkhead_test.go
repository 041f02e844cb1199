package chaos

import (
	"context"
	"testing"
	"time"

	"github.com/obsd-dev/obsd/e2e/chaos/load"
	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// TestBulkheadStuckLogBackend: the logs backend hangs (answers after 30s,
// past the 5s exporter timeout) while the traces backend is fine. Traces
// keep flowing through their own pipeline, queue and circuit: every
// acknowledged span arrives while the log backend is still stuck, the
// traces circuit never opens, the logs circuit does, and once the log
// backend recovers the queued logs arrive too.
func TestBulkheadStuckLogBackend(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tracesSink, logsSink := sink.NewOTLP(t), sink.NewOTLP(t)
	p := newPorts(t)
	o := harness.StartInDir(t, t.TempDir(), config(p, tracesSink, options{LogsTo: logsSink, Breaker: true}))
	dumpOnFailure(t, o)
	logsSink.Delay(30 * time.Second)

	conn := dial(t, p.GRPC)
	traces := load.New(conn, load.Config{Signal: load.Traces, BatchSize: 100, Streams: 2, Rate: 20})
	logs := load.New(conn, load.Config{Signal: load.Logs, BatchSize: 100, Streams: 2, Rate: 20})
	stop := runLoad(ctx, traces, logs)
	defer stop()
	breaker := func(name, to string) float64 {
		return harness.Sum(scrape(o), "obsd_circuit_breaker_transitions_total", map[string]string{"breaker": "circuit_breaker/" + name, "to": to})
	}
	harness.Eventually(t, 60*time.Second, func() bool { return breaker("logs", "open") >= 1 }, "the logs circuit never opened on the stuck backend")
	acked := traces.Stats().Acked
	harness.Eventually(t, 30*time.Second, func() bool { return traces.Stats().Acked > acked+2000 }, "traces stopped being acknowledged")
	stop()

	// The log backend is still stuck: traces must all be there already.
	rt, _ := waitDelivered(t, tracesSink, 30*time.Second, traces, nil)
	logsWhileStuck := logsSink.LogRecordCount()
	tracesOpened := breaker("traces", "open")
	logsOpened := breaker("logs", "open")
	logsSink.Delay(0)
	_, rl := waitDelivered(t, logsSink, 60*time.Second, nil, logs)
	summary(t, "bulkhead", "logs backend stuck (30s answers, 5s timeout): traces{%s} traces_circuit_opened=%.0f logs_circuit_opened=%.0f logs_received_while_stuck=%d; after recovery logs{%s}",
		rt, tracesOpened, logsOpened, logsWhileStuck, rl)
	if rt.Lost != 0 {
		t.Errorf("a stuck log backend held back %d acknowledged spans (first %v)", rt.Lost, rt.FirstLost)
	}
	if tracesOpened != 0 {
		t.Errorf("the traces circuit opened %v times although only the log backend was stuck", tracesOpened)
	}
	if logsWhileStuck != 0 {
		t.Errorf("the stuck log backend stored %d records: the fault was not injected", logsWhileStuck)
	}
	if rl.Lost != 0 {
		t.Errorf("acknowledged logs lost after the log backend recovered: %d (first %v)", rl.Lost, rl.FirstLost)
	}
}
