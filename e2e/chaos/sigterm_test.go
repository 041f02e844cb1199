package chaos

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/obsd-dev/obsd/e2e/chaos/load"
	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// TestSIGTERMWithBacklog: with the backend refusing, so that the queues hold
// a backlog, obsd is stopped with SIGTERM under load: it exits cleanly
// (status 0) without waiting for the backend, and the restarted obsd
// delivers the backlog once the backend is back: nothing acknowledged is
// lost across a graceful stop either.
func TestSIGTERMWithBacklog(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := sink.NewOTLP(t)
	p := newPorts(t)
	o := harness.StartInDir(t, t.TempDir(), config(p, s, options{Breaker: true}))
	dumpOnFailure(t, o)
	conn := dial(t, p.GRPC)
	traces := load.New(conn, load.Config{Signal: load.Traces, BatchSize: 100, Streams: 2, Rate: 20})
	logs := load.New(conn, load.Config{Signal: load.Logs, BatchSize: 100, Streams: 2, Rate: 20})
	stop := runLoad(ctx, traces, logs)
	defer stop()

	s.Fail(codes.Unavailable)
	var backlog float64
	harness.Eventually(t, 30*time.Second, func() bool { backlog = queueSize(o); return backlog >= 20 }, "no backlog built up while the sink refused")
	stoppedAt := time.Now()
	o.Stop() // fails the test unless obsd exits 0 within 30s
	stopTook := time.Since(stoppedAt)
	o.Restart()
	s.Fail(codes.OK)
	mark := traces.Stats().Acked
	harness.Eventually(t, 30*time.Second, func() bool { return traces.Stats().Acked > mark+1000 }, "the restarted obsd took no data")
	stop()

	rt, rl := waitDelivered(t, s, 60*time.Second, traces, logs)
	summary(t, "sigterm", "backlog_requests_at_stop=%.0f stop_took=%s traces{%s} logs{%s} client_errors=%v",
		backlog, stopTook.Round(100*time.Millisecond), rt, rl, traces.Stats().Errors)
	if rt.Lost != 0 || rl.Lost != 0 {
		t.Errorf("acknowledged items lost across SIGTERM: spans %d (first %v), logs %d (first %v)", rt.Lost, rt.FirstLost, rl.Lost, rl.FirstLost)
	}
}
