package backends

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/internal/vltest"
)

// TestLogsVictoriaLogsRefuses: VictoriaLogs refuses a push over its
// -loki.maxRequestSize with a 400, and drops entries older than its
// retention after answering 204. A batch holding one record too large for
// the backend and one too old, among 100 good ones: the good ones arrive,
// once; the large one is refused alone (obsd pushes at most
// max_request_size), counted in obsd_loki_exporter_permanently_rejected_records_total
// and not retried; the old one is counted by VictoriaLogs
// (vl_rows_dropped_total{reason="too_small_timestamp"}); the next batch is
// not held up.
func TestLogsVictoriaLogsRefuses(t *testing.T) {
	t.Parallel()
	vl := vltest.Start(t, "-loki.maxRequestSize=65536")
	o, p := startObsd(t, obsdConfig{
		Exporters: []exporter{lokiExporter("loki", vl.URL+vltest.LokiPushPath, "    max_request_size: 32768\n")},
		Pipelines: `    logs:
      receivers: [otlp]
      processors: [memory_limiter]
      exporters: [loki]`,
	})
	conn := dial(t, p.GRPC)
	t0 := time.Now().Add(-time.Minute)
	recs := checkoutRecords("first batch", 100, t0)
	recs = append(recs[:50], append([]logRecord{
		{body: "too large " + strings.Repeat("x", 100<<10), ts: t0, severity: plog.SeverityNumberInfo},
		{body: "too old", ts: time.Now().Add(-10 * 24 * time.Hour), severity: plog.SeverityNumberInfo},
	}, recs[50:]...)...)
	ld := plog.NewLogs()
	appendResource(ld, map[string]any{"service.name": "refusals"}, recs)
	if err := exportLogs(conn, ld); err != nil {
		t.Fatalf("OTLP export: %v", err)
	}

	got := waitRows(t, vl, vltest.Tenant{}, `{service_name="refusals"}`, 100)
	for i := range 100 {
		if _, ok := got[fmt.Sprintf("first batch %d", i)]; !ok {
			t.Errorf("good record %d of the batch is missing", i)
		}
	}
	rejected := func() float64 { return counter(t, o, "obsd_loki_exporter_permanently_rejected_records_total", nil) }
	harness.Eventually(t, 30*time.Second, func() bool { return rejected() == 1 },
		"obsd_loki_exporter_permanently_rejected_records_total = %v, want 1 (the record too large)", rejected())
	if n := vl.Metric(t, `vl_rows_dropped_total{reason="too_small_timestamp"}`); n != 1 {
		t.Errorf(`VictoriaLogs counted %v rows too old, want 1`, n)
	}

	// Not retried: the queue is empty and no push goes out any more.
	queue := func() float64 {
		return counter(t, o, "otelcol_exporter_queue_size", map[string]string{"exporter": "loki"})
	}
	harness.Eventually(t, 30*time.Second, func() bool { return queue() == 0 }, "the loki queue holds %v requests, want 0", queue())
	pushes := func() float64 {
		return vl.Metric(t, `vl_http_requests_total{path="/insert/loki/api/v1/push",format="protobuf"}`)
	}
	before := pushes()
	time.Sleep(5 * time.Second) // more than two retry intervals
	if after := pushes(); after != before {
		t.Errorf("obsd pushed %v more times after the refusal: it retries what the backend refused", after-before)
	}

	// The next batch goes through.
	ld = plog.NewLogs()
	appendResource(ld, map[string]any{"service.name": "refusals"}, checkoutRecords("second batch", 100, t0.Add(time.Second)))
	if err := exportLogs(conn, ld); err != nil {
		t.Fatalf("OTLP export: %v", err)
	}
	waitRows(t, vl, vltest.Tenant{}, `{service_name="refusals"}`, 200)
	if got := rejected(); got != 1 {
		t.Errorf("obsd_loki_exporter_permanently_rejected_records_total = %v after the second batch, want still 1", got)
	}
}
