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
func TestKill9UnderLoad(t *testing.T) { kill9UnderLoad(t, "kill9", options{}) }

// TestWALKill9UnderLoad is TestKill9UnderLoad with the queues on
// wal_storage, fsync never: what the process wrote is in the page cache,
// which a kill -9 does not lose.
func TestWALKill9UnderLoad(t *testing.T) {
	kill9UnderLoad(t, "wal_kill9", options{WAL: true, WALConfig: "    fsync: never\n"})
}

func kill9UnderLoad(t *testing.T, name string, opts options) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := sink.NewOTLP(t)
	p := newPorts(t)
	o := harness.StartInDir(t, t.TempDir(), config(p, s, opts))
	dumpOnFailure(t, o)
	conn := dial(t, p.GRPC)
	traces := load.New(conn, load.Config{Signal: load.Traces, BatchSize: 100, Streams: 3, Rate: 60})
	logs := load.New(conn, load.Config{Signal: load.Logs, BatchSize: 100, Streams: 3, Rate: 60})
	stop := runLoad(ctx, traces, logs)
	defer stop()

	// Three kills, each after more data was acknowledged, while the load
	// goes on.
	const kills = 3
	var downtime time.Duration
	for k := range kills {
		mark := traces.Stats().Acked + logs.Stats().Acked
		harness.Eventually(t, 60*time.Second, func() bool { return traces.Stats().Acked+logs.Stats().Acked >= mark+4000 },
			"before kill %d the load did not get 4000 more items acknowledged", k+1)
		o.Kill()
		killedAt := time.Now()
		o.Restart()
		downtime += time.Since(killedAt)
	}
	mark := traces.Stats().Acked + logs.Stats().Acked
	harness.Eventually(t, 60*time.Second, func() bool { return traces.Stats().Acked+logs.Stats().Acked >= mark+4000 },
		"after the last restart the load did not get 4000 more items acknowledged")
	stop()

	rt, rl := waitDelivered(t, s, 60*time.Second, traces, logs)
	errs := traces.Stats().Errors
	summary(t, name, "kills=%d traces{%s} logs{%s} total_downtime=%s client_errors=%v",
		kills, rt, rl, downtime.Round(100*time.Millisecond), errs)
	if rt.Lost != 0 || rl.Lost != 0 {
		t.Fatalf("acknowledged items lost after kill -9: spans %d (first %v), logs %d (first %v)",
			rt.Lost, rt.FirstLost, rl.Lost, rl.FirstLost)
	}
	if rt.Acked == 0 || rl.Acked == 0 {
		t.Fatalf("nothing acknowledged: %s / %s", rt, rl)
	}
}
