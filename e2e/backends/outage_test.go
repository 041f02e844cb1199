package backends

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/internal/jaegertest"
	"github.com/obsd-dev/obsd/internal/promtest"
	"github.com/obsd-dev/obsd/internal/vltest"
)

// outageLength is how long each backend is down.
const outageLength = 30 * time.Second

// TestBackendOutages stops each real backend for 30 seconds under steady
// traffic and starts it again on the same port and data: every item obsd
// acknowledged (logs, spans) or scraped (metrics) before, during and after
// the outage ends up in the backend. The three outages run at the same
// time (subtests started from goroutines, so that go test's -parallel,
// GOMAXPROCS by default, does not queue them: they mostly wait).
func TestBackendOutages(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	for _, tc := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"VictoriaLogs behind the loki and otlp_http exporters", logsOutage},
		{"Jaeger behind the otlp_grpc exporter", tracesOutage},
		{"Prometheus behind the remote write exporter", metricsOutage},
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run(tc.name, tc.run)
		}()
	}
	wg.Wait()
}

// backendProcess is a server the test can take down and bring back.
type backendProcess interface {
	Stop()
	Start()
}

// runOutage calls tick every 200ms from now on; after 3s it stops b, 30s
// later starts it again, and 3s after that stops ticking. It returns how
// long the backend was down.
func runOutage(t *testing.T, b backendProcess, tick func()) time.Duration {
	t.Helper()
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(200 * time.Millisecond)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				tick()
			}
		}
	}()
	time.Sleep(3 * time.Second)
	down := time.Now()
	b.Stop()
	time.Sleep(outageLength)
	b.Start()
	downFor := time.Since(down)
	time.Sleep(3 * time.Second)
	close(done)
	wg.Wait()
	return downFor
}

func logsOutage(t *testing.T) {
	vl := vltest.Start(t)
	_, p := startObsd(t, obsdConfig{
		Exporters: []exporter{
			lokiExporter("loki", vl.URL+vltest.LokiPushPath, ""),
			otlpHTTPExporter("otlp_http/victorialogs", vl.URL+vltest.OTLPPath, "    headers: {AccountID: \"21\"}\n"),
		},
		Pipelines: `    logs:
      receivers: [otlp]
      processors: [memory_limiter]
      exporters: [loki, otlp_http/victorialogs]`,
	})
	conn := dial(t, p.GRPC)
	var acked []string
	seq, failed := 0, 0
	downFor := runOutage(t, vl, func() {
		ld := plog.NewLogs()
		recs := make([]logRecord, 10)
		for i := range recs {
			recs[i] = logRecord{body: fmt.Sprintf("outage %d", seq), ts: time.Now(), severity: plog.SeverityNumberInfo,
				traceID: traceIDOf(seq), spanID: spanIDOf(seq)}
			seq++
		}
		appendResource(ld, map[string]any{"service.name": "outage"}, recs)
		if err := exportLogs(conn, ld); err != nil {
			failed++
			return
		}
		for _, r := range recs {
			acked = append(acked, r.body)
		}
	})
	if failed > 0 {
		t.Errorf("obsd refused %d of the batches while VictoriaLogs was down: the persistent queue should take them", failed)
	}
	for _, tenant := range []vltest.Tenant{{}, {AccountID: 21}} {
		lost, dup := missingLogs(t, vl, tenant, acked)
		t.Logf("logs, tenant %s: acknowledged %d, lost %d, duplicates %d; VictoriaLogs down %s",
			tenant, len(acked), len(lost), dup, downFor.Round(100*time.Millisecond))
		if len(lost) > 0 {
			t.Errorf("tenant %s: %d acknowledged records never reached VictoriaLogs, e.g. %q", tenant, len(lost), lost[0])
		}
	}
}

// missingLogs waits until every acked body is in tenant (60s at most) and
// returns those still missing and the number of duplicates.
func missingLogs(t *testing.T, vl *vltest.Server, tenant vltest.Tenant, acked []string) (lost []string, dup int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		rows, err := vl.TryQuery(tenant, "*")
		seen := map[string]int{}
		for _, r := range rows {
			seen[r["_msg"]]++
		}
		lost, dup = lost[:0], 0
		for _, b := range acked {
			if seen[b] == 0 {
				lost = append(lost, b)
			}
			dup += max(0, seen[b]-1)
		}
		if (err == nil && len(lost) == 0) || time.Now().After(deadline) {
			return lost, dup
		}
		time.Sleep(time.Second)
	}
}

func tracesOutage(t *testing.T) {
	j := jaegertest.Start(t, jaegertest.Badger)
	_, p := startObsd(t, obsdConfig{
		Exporters: []exporter{otlpGRPCExporter("otlp_grpc/jaeger", j.OTLPGRPC)},
		Pipelines: `    traces:
      receivers: [otlp]
      processors: [memory_limiter]
      exporters: [otlp_grpc/jaeger]`,
	})
	conn := dial(t, p.GRPC)
	var acked []string
	seq, failed := 0, 0
	downFor := runOutage(t, j, func() {
		td := ptrace.NewTraces()
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", "outage")
		spans := rs.ScopeSpans().AppendEmpty().Spans()
		var ids []string
		for range 2 {
			s := spans.AppendEmpty()
			var tid pcommon.TraceID
			binary.BigEndian.PutUint64(tid[:8], 0x0a7a6e)
			binary.BigEndian.PutUint64(tid[8:], uint64(seq)+1)
			s.SetTraceID(tid)
			s.SetSpanID(spanIDOf(seq))
			s.SetName(fmt.Sprintf("outage %d", seq))
			now := time.Now()
			s.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(-time.Millisecond)))
			s.SetEndTimestamp(pcommon.NewTimestampFromTime(now))
			ids = append(ids, tid.String())
			seq++
		}
		if err := exportTraces(conn, td); err != nil {
			failed++
			return
		}
		acked = append(acked, ids...)
	})
	if failed > 0 {
		t.Errorf("obsd refused %d of the batches while Jaeger was down: the persistent queue should take them", failed)
	}
	var lost []string
	deadline := time.Now().Add(60 * time.Second)
	pending := acked
	for len(pending) > 0 && time.Now().Before(deadline) {
		lost = lost[:0]
		for _, id := range pending {
			if _, found, err := j.TryTrace(id); err != nil || !found {
				lost = append(lost, id)
			}
		}
		pending = append([]string(nil), lost...)
		if len(pending) > 0 {
			time.Sleep(time.Second)
		}
	}
	t.Logf("traces: acknowledged %d spans, lost %d; Jaeger down %s", len(acked), len(pending), downFor.Round(100*time.Millisecond))
	if len(pending) > 0 {
		t.Errorf("%d acknowledged traces never reached Jaeger, e.g. %s", len(pending), pending[0])
	}
}

// countingTarget serves a gauge and counts the scrapes it answered; once
// closed it answers 503, so that no sample is made any more.
type countingTarget struct {
	addr   string
	served atomic.Int64
	closed atomic.Bool
}

func startCountingTarget(t *testing.T) *countingTarget {
	t.Helper()
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "outage_probe", Help: "A sample per scrape."})
	g.Set(1)
	reg.MustRegister(g)
	inner := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	ct := &countingTarget{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ct.addr = l.Addr().String()
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct.closed.Load() {
			http.Error(w, "closed", http.StatusServiceUnavailable)
			return
		}
		inner.ServeHTTP(w, r)
		ct.served.Add(1)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ct
}

func metricsOutage(t *testing.T) {
	target := startCountingTarget(t)
	prom := promtest.Start(t, promtest.Options{})
	startWithSLOFile(t, metricsConfig(target.addr, prom.RemoteWriteURL()))
	downFor := runOutage(t, prom, func() {})
	target.closed.Store(true)
	served := target.served.Load()
	var got float64
	var err error
	harness.Eventually(t, 90*time.Second, func() bool {
		var s []promtest.Sample
		s, err = prom.TryQuery(`count_over_time(outage_probe{job="shop"}[15m])`)
		got = 0
		if len(s) == 1 {
			got = s[0].Value
		}
		return err == nil && got >= float64(served)
	}, "Prometheus holds %v samples of outage_probe, the target answered %d scrapes (error %v)", got, served, err)
	t.Logf("metrics: %d scrapes, %v samples in Prometheus; Prometheus down %s", served, got, downFor.Round(100*time.Millisecond))
	if got != float64(served) {
		t.Errorf("Prometheus holds %v samples for %d scrapes", got, served)
	}
}
