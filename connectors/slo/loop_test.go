package slo

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/obsd-dev/obsd/slo/contract"
)

func TestTheLoopEvaluatesAndSnapshotsOnItsIntervals(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.EvaluationInterval = 10 * time.Millisecond
	cfg.State.SnapshotInterval = 10 * time.Millisecond
	h := newHarness(t, cfg, time.Now())
	span := spanSpec{svc: "checkout", name: "POST /pay", route: "/pay", kind: ptrace.SpanKindServer, end: time.Now()}
	require.NoError(t, h.traces.ConsumeTraces(context.Background(), traces(span)))
	require.Eventually(t, func() bool {
		v, ok := h.telemetry(contract.MetricEvents, map[string]string{"slo": "checkout-spans"})
		return ok && v == 1 && len(h.sink.AllMetrics()) > 0
	}, 10*time.Second, 10*time.Millisecond, "the loop never evaluated")
	require.Eventually(t, func() bool {
		s, _ := h.f.runners.Get(h.id)
		_, err := readFileSize(s.path("snapshot.json"))
		return err == nil
	}, 10*time.Second, 10*time.Millisecond, "the loop never wrote a snapshot")
	// Shutdown (in cleanup) stops the goroutine: goleak checks it in TestMain.
}

func readFileSize(path string) (int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}
