package chaos

import (
	"context"
	"testing"
	"time"

	"github.com/obsd-dev/obsd/e2e/chaos/load"
	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// TestKill9UnderLoad: spans and logs stream through obsd (persistent queues)
// to the sink; obsd is killed with SIGKILL mid-stream and restarted on the
// same directory while the load goes on. Every item acknowledged to the
// client reaches the sink; duplicates are counted and reported.
func TestKill9UnderLoad(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := sink.NewOTLP(t)
	p := newPorts(t)
	o := harness.StartInDir(t, t.TempDir(), config(p, s, options{}))
	dumpOnFailure(t, o)
	conn := dial(t, p.GRPC)
	traces := load.New(conn, load.Config{Signal: load.Traces, BatchSize: 100, Streams: 3, Rate: 60})
	logs := load.New(conn, load.Config{Signal: load.Logs, BatchSize: 100, Streams: 3, Rate: 60})
	stop := runLoad(ctx, traces, logs)
	defer stop()

	ackedAtLeast := func(n int) func() bool {
		return func() bool { return traces.Stats().Acked >= n && logs.Stats().Acked >= n }
	}
	harness.Eventually(t, 60*time.Second, ackedAtLeast(3000), "the load never got 3000 spans and logs acknowledged")
	before := traces.Stats().Acked + logs.Stats().Acked
	o.Kill()
	killedAt := time.Now()
	o.Restart()
	downtime := time.Since(killedAt)
	// Keep sending after the restart until a good deal more was acknowledged.
	after := traces.Stats().Acked + logs.Stats().Acked
	harness.Eventually(t, 60*time.Second, func() bool { return traces.Stats().Acked+logs.Stats().Acked >= after+6000 },
		"after the restart the load did not get 6000 more items acknowledged")
	stop()

	rt, rl := waitDelivered(t, s, 60*time.Second, traces, logs)
	errs := traces.Stats().Errors
	summary(t, "kill9", "traces{%s} logs{%s} acked_before_kill=%d downtime=%s client_errors=%v",
		rt, rl, before, downtime.Round(100*time.Millisecond), errs)
	if rt.Lost != 0 || rl.Lost != 0 {
		t.Fatalf("acknowledged items lost after kill -9: spans %d (first %v), logs %d (first %v)",
			rt.Lost, rt.FirstLost, rl.Lost, rl.FirstLost)
	}
	if rt.Acked == 0 || rl.Acked == 0 {
		t.Fatalf("nothing acknowledged: %s / %s", rt, rl)
	}
}
