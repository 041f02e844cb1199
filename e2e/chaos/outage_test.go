package chaos

import (
	"context"
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

// TestBackendOutage: the sink refuses every export (UNAVAILABLE) for 30s
// while load continues at a steady rate. obsd keeps acknowledging into its
// persistent queues, which grow on disk while its memory stays under the
// memory_limiter's limit; when the sink comes back the backlog drains to an
// empty queue and every acknowledged item arrives.
func TestBackendOutage(t *testing.T) {
	backendOutage(t, "outage", options{Breaker: true, Readiness: true})
}

// TestWALBackendOutage is TestBackendOutage with the queues on wal_storage.
func TestWALBackendOutage(t *testing.T) {
	backendOutage(t, "wal_outage", options{Breaker: true, Readiness: true, WAL: true})
}

func backendOutage(t *testing.T, name string, opts options) {
	const limitMiB = 256
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
	traces := load.New(conn, load.Config{Signal: load.Traces, BatchSize: 100, Streams: 2, Rate: 40})
	logs := load.New(conn, load.Config{Signal: load.Logs, BatchSize: 100, Streams: 2, Rate: 40})
	stop := runLoad(ctx, traces, logs)
	defer stop()
	harness.Eventually(t, 30*time.Second, func() bool { return s.SpanCount() > 0 && s.LogRecordCount() > 0 },
		"nothing reached the sink before the outage")

	diskBefore := dirSize(queueDir)
	s.Fail(codes.Unavailable)
	var diskPeak int64
	var queuePeak float64
	notReady := 0
	end := time.Now().Add(outage)
	for time.Now().Before(end) {
		diskPeak = max(diskPeak, dirSize(queueDir))
		queuePeak = max(queuePeak, queueSize(o))
		// health_check answers 500 while unhealthy in component status mode.
		if healthStatus(o) >= http.StatusInternalServerError {
			notReady++
		}
		time.Sleep(500 * time.Millisecond)
	}
	s.Fail(codes.OK)
	harness.Eventually(t, 60*time.Second, func() bool { return healthStatus(o) == http.StatusOK }, "obsd did not become ready again after the outage")
	healedAt := time.Now()
	stop()
	ackedTotal := traces.Stats().Acked + logs.Stats().Acked

	rt, rl := waitDelivered(t, s, 90*time.Second, traces, logs)
	harness.Eventually(t, 60*time.Second, func() bool { return queueSize(o) == 0 },
		"the exporter queues did not drain to 0 after the outage")
	drain := time.Since(healedAt)
	peak := mem.Stop()
	final, err := readMemory(o.PID())
	if err != nil {
		t.Fatalf("read obsd memory: %v", err)
	}
	opened := harness.Sum(scrape(o), "obsd_circuit_breaker_transitions_total", map[string]string{"to": "open"})
	summary(t, name, "outage=%s traces{%s} logs{%s} breaker_opened=%.0f not_ready_samples=%d queue_peak_requests=%.0f disk_before=%dB disk_peak=%dB drain=%s vmhwm=%.0fMiB rss_peak=%.0fMiB limit=%dMiB client_errors=%v",
		outage, rt, rl, opened, notReady, queuePeak, diskBefore, diskPeak, drain.Round(100*time.Millisecond), final.HWM, peak.RSS, limitMiB,
		traces.Stats().Errors)

	if rt.Lost != 0 || rl.Lost != 0 {
		t.Errorf("acknowledged items lost in the outage: spans %d (first %v), logs %d (first %v)", rt.Lost, rt.FirstLost, rl.Lost, rl.FirstLost)
	}
	if ackedTotal < 2*int(outage/time.Second)*40*100/2 {
		t.Errorf("only %d items acknowledged: obsd stopped taking data during the outage", ackedTotal)
	}
	if final.HWM >= limitMiB {
		t.Errorf("obsd's peak RSS %.0f MiB is not under its memory limit %d MiB", final.HWM, limitMiB)
	}
	if opened < 2 {
		t.Errorf("the traces and logs circuits did not both open in the outage: %v transitions to open", opened)
	}
	if notReady == 0 {
		t.Errorf("obsd stayed ready while every exporter circuit was open")
	}
	if diskPeak <= diskBefore || queuePeak == 0 {
		t.Errorf("the queue did not spill to disk: %d B before, %d B peak, queue peak %.0f requests", diskBefore, diskPeak, queuePeak)
	}
}
