package backends

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"

	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/obsd-dev/obsd/dashboards"
	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/internal/amtest"
	"github.com/obsd-dev/obsd/internal/promtest"
	"github.com/obsd-dev/obsd/slo/contract"
	"github.com/obsd-dev/obsd/slo/formats"
	"github.com/obsd-dev/obsd/slo/spec"
)

// TestDashboardQueriesReturnSeriesOnPrometheus generates the dashboards
// (overview, agent health, one per SLO) for the SLO files obsd runs and
// sends every PromQL query of every panel, its Grafana variables
// substituted as Grafana would, to a real Prometheus holding what obsd
// wrote into it: obsd's own /metrics scraped by its prometheus receiver
// (the shipped obsd-self job) and the slo connector's obsd_slo_* series,
// both through the prometheus_remote_write exporter on its shipped
// settings. Every query must return at least one series: no panel that can
// only say "No data". A query ending in "or vector(0)" must return series
// without the fallback too, so the data behind it is really there.
//
// The SLO files are the repository's slo.example.yaml and, in a second
// obsd and Prometheus (their SLO names overlap), every worked example of
// docs/slo-guide.md. The test drives what each panel needs: spans, logs
// and scraped counters and histograms matching each SLI with a share of
// bad events (so burn rates are above 0, pages fire and reach a real
// Alertmanager, budgets are spent), a client over its rate limit, a shed
// processor under pressure, log correlation, and an exporter whose backend
// is down (send failures, queues).
func TestDashboardQueriesReturnSeriesOnPrometheus(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile("../../slo.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	guide, err := os.ReadFile("../../docs/slo-guide.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```\n").FindAllSubmatch(guide, -1)
	if len(blocks) < 10 {
		t.Fatalf("docs/slo-guide.md has %d yaml blocks, want its worked examples (at least 10)", len(blocks))
	}
	guideFiles := map[string][]byte{}
	for i, b := range blocks {
		guideFiles[fmt.Sprintf("guide-%02d.yaml", i+1)] = b[1]
	}
	for _, tc := range []struct {
		name  string
		files map[string][]byte
	}{
		{"slo.example.yaml", map[string][]byte{"slo.example.yaml": example}},
		{"docs/slo-guide.md examples", guideFiles},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkDashboardQueries(t, tc.files)
		})
	}
}

// dashboardDeadline bounds the wait for every query to return series.
const dashboardDeadline = 3 * time.Minute

func checkDashboardQueries(t *testing.T, files map[string][]byte) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "slos"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, "slos", name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	slos, err := formats.Load(filepath.Join(dir, "slos", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := dashboards.Dashboards(slos)
	if err != nil {
		t.Fatal(err)
	}
	exprs := dashboards.Expressions(ds...)

	prom := promtest.Start(t, promtest.Options{})
	webhook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(webhook.Close)
	am := amtest.Start(t, fmt.Sprintf("127.0.0.1:%d", harness.FreePort(t)), webhook.URL+"/oncall", webhook.URL+"/ticket")
	app := startAppTarget(t)
	p := dashboardPorts{ports: newPorts(t), Limited: harness.FreePort(t), Down: closedPort(t)}
	o := harness.StartInDir(t, dir, harness.Config{YAML: dashboardsConfig(p, app, prom.RemoteWriteURL(), am), HealthPort: p.Health, MetricsPort: p.Metrics})
	t.Cleanup(func() {
		if t.Failed() {
			out := o.Output()
			t.Logf("obsd output (tail):\n%s", out[max(0, len(out)-6000):])
		}
	})

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })
	conn := dial(t, p.GRPC)
	wg.Add(2)
	go func() { defer wg.Done(); driveTelemetry(ctx, t, conn) }()
	go func() { defer wg.Done(); driveRateLimit(ctx, fmt.Sprintf("http://127.0.0.1:%d/v1/traces", p.Limited)) }()

	// Poll until every query returns series or the deadline passes.
	vars := dashboards.Variables{RateInterval: "1m", Interval: "15s", Range: "1h", Instance: ".*", Datasource: "prometheus"}
	results := make([]queryResult, len(exprs))
	start := time.Now()
	for {
		empty := 0
		for i, e := range exprs {
			if results[i].ok() {
				continue
			}
			results[i] = runQuery(prom, e, vars)
			if !results[i].ok() {
				empty++
			}
		}
		if empty == 0 {
			break
		}
		if time.Since(start) > dashboardDeadline {
			break
		}
		time.Sleep(time.Second)
	}
	// A last pass over every query, so the counts reported are those of
	// one moment, and none went empty again.
	for i, e := range exprs {
		results[i] = runQuery(prom, e, vars)
	}
	var report strings.Builder
	fmt.Fprintf(&report, "%d queries of %d dashboards for %d SLOs, polled for %s:\n", len(exprs), len(ds), len(slos), time.Since(start).Round(time.Second))
	for i, e := range exprs {
		r := results[i]
		fmt.Fprintf(&report, "  %-45s %-55.55s %s  %d series", e.Dashboard, e.Panel, e.RefID, r.series)
		if r.fallback {
			fmt.Fprintf(&report, " (%d without or vector(0))", r.withoutFallback)
		}
		report.WriteString("\n")
		if !r.ok() {
			t.Errorf("dashboard %s, panel %q, query %s returns no series (err %v): %s", e.Dashboard, e.Panel, e.RefID, r.err, r.query)
			if r.fallback && r.series > 0 {
				t.Errorf("  (it returns the vector(0) fallback only: nothing drives %s)", strings.TrimSuffix(r.query, " or vector(0)"))
			}
		}
	}
	if t.Failed() {
		names, _ := prom.TryQuery(`count by (__name__, job) ({__name__=~"obsd_.*|otelcol_.*"})`)
		t.Logf("series names in Prometheus: %s", describe(names))
	}
	t.Log(report.String())
	checkInstanceVariable(t, prom, ds)
	checkOverviewCounts(t, prom, slos)
}

// queryResult is one query's outcome against Prometheus.
type queryResult struct {
	query           string
	series          int
	fallback        bool // the query ends in "or vector(0)"
	withoutFallback int  // series of the query without it
	err             error
}

func (r queryResult) ok() bool {
	return r.err == nil && r.series > 0 && (!r.fallback || r.withoutFallback > 0)
}

func runQuery(prom *promtest.Server, e dashboards.Expression, vars dashboards.Variables) queryResult {
	q := e.Query(vars)
	res, err := prom.TryQuery(q)
	r := queryResult{query: q, series: len(res), err: err}
	if lhs, ok := strings.CutSuffix(q, " or vector(0)"); ok && err == nil {
		r.fallback = true
		res, err = prom.TryQuery(lhs)
		r.withoutFallback, r.err = len(res), err
	}
	return r
}

// checkInstanceVariable: the agent dashboard's instance variable
// (label_values(METRIC, instance), which Grafana answers from the series
// API) offers obsd's instance.
func checkInstanceVariable(t *testing.T, prom *promtest.Server, ds []dashboard.Dashboard) {
	t.Helper()
	var query string
	for _, d := range ds {
		for _, v := range d.Templating.List {
			if v.Name == "instance" && v.Query != nil && v.Query.String != nil {
				query = *v.Query.String
			}
		}
	}
	m := regexp.MustCompile(`^label_values\((\w+), (\w+)\)$`).FindStringSubmatch(query)
	if m == nil {
		t.Fatalf("the agent dashboard's instance variable query is %q, want label_values(METRIC, LABEL)", query)
	}
	var values []string
	for _, s := range prom.Query(t, "group by ("+m[2]+") ("+m[1]+")") {
		if v := s.Labels[m[2]]; v != "" {
			values = append(values, v)
		}
	}
	if len(values) == 0 {
		t.Errorf("%s offers no value in Prometheus", query)
	}
	t.Logf("%s: %v", query, values)
}

// checkOverviewCounts: every SLO has its series in Prometheus, each SLO
// instance exactly once (the slo connector's remote write; the obsd-self
// scrape drops them, as the shipped configs do), so the overview's SLOs
// stat counts the instances.
func checkOverviewCounts(t *testing.T, prom *promtest.Server, slos []*spec.SLO) {
	t.Helper()
	got := map[string]float64{}
	for _, s := range prom.Query(t, `count by (slo) (obsd_slo_objective_ratio)`) {
		got[s.Labels["slo"]] = s.Value
	}
	for _, s := range slos {
		if got[s.Name] < 1 {
			t.Errorf("SLO %s has no obsd_slo_objective_ratio series in Prometheus", s.Name)
		}
	}
	if dup := prom.Query(t, `count without (job, instance) (obsd_slo_objective_ratio) > 1`); len(dup) > 0 {
		t.Errorf("SLO instances arrive more than once: %s", describe(dup))
	}
	instances := prom.Query(t, `obsd_slo_objective_ratio`)
	if n := prom.Query(t, `count(`+`obsd_slo_objective_ratio) or vector(0)`); len(n) != 1 || n[0].Value != float64(len(instances)) {
		t.Errorf("the overview's SLOs stat is %s, want %d (one per SLO instance)", describe(n), len(instances))
	}
	for _, x := range instances {
		t.Logf("  %v", x.Labels)
	}
}

// dashboardPorts are obsd's ports plus a rate-limited OTLP/HTTP receiver
// and a loopback port nothing listens on (the dead backend).
type dashboardPorts struct {
	ports
	Limited, Down int
}

// closedPort is a loopback port that refuses connections.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// dashboardsConfig is obsd with everything the dashboards show: the slo
// connector on traces, logs and scraped metrics with alerting to
// Alertmanager; its prometheus receiver scraping obsd's own /metrics
// (the shipped obsd-self job) and the app target as the jobs the SLOs
// select (api, checkout, search); remote write of both to Prometheus;
// correlation on logs; shed after the SLO fan-out; the ratelimit
// extension on a second OTLP/HTTP receiver; and an OTLP exporter per
// signal whose backend is down (no retries, an in-memory queue).
func dashboardsConfig(p dashboardPorts, app, remoteWrite, am string) string {
	scrape := func(job, target string) string {
		return fmt.Sprintf("        - job_name: %s\n          scrape_interval: 1s\n          static_configs:\n            - targets: [\"%s\"]\n", job, target)
	}
	jobs := scrape("obsd-self", fmt.Sprintf("127.0.0.1:%d", p.Metrics)) + selfScrapeDrop() +
		scrape("api", app) + scrape("checkout", app) + scrape("search", app)
	return fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
  otlp/limited:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
        middlewares: [{id: ratelimit}]
  prometheus:
    config:
      scrape_configs:
%s
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 400
    spike_limit_mib: 80
  correlation:
    default_policy:
      action: tag
  shed:
    memory_limit_mib: 1
connectors:
  forward/traces: {}
  forward/logs: {}
  slo:
    slos: ["{{DIR}}/slos/*.yaml"]
    evaluation_interval: 1s
    state:
      directory: "{{DIR}}/slo-state"
      snapshot_interval: 1s
    alerting:
      resend_interval: 2s
      route:
        receiver: am
      destinations:
        am:
          alertmanager:
            urls: [%s]
      delivery:
        initial_backoff: 100ms
        max_backoff: 1s
exporters:
%s  otlp_grpc/down:
    endpoint: 127.0.0.1:%d
    tls:
      insecure: true
    timeout: 2s
    retry_on_failure:
      enabled: false
    sending_queue:
      enabled: true
      queue_size: 1000
extensions:
  health_check:
    endpoint: 127.0.0.1:%d
  ratelimit:
    key: header:X-Scope-OrgID
    default: {rate: 1, burst: 2}
  circuit_breaker/prometheus_remote_write:
    failure_threshold: 5
    delay: 3s
    success_threshold: 2
service:
  extensions: [health_check, ratelimit, circuit_breaker/prometheus_remote_write]
  telemetry:
    logs:
      level: info
    metrics:
      level: detailed
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %d
                without_scope_info: true
                without_units: true
                without_type_suffix: true
  pipelines:
    traces:
      receivers: [otlp, otlp/limited]
      processors: [memory_limiter]
      exporters: [slo, forward/traces]
    traces/forward:
      receivers: [forward/traces]
      processors: [shed]
      exporters: [otlp_grpc/down]
    logs:
      receivers: [otlp]
      processors: [memory_limiter, correlation]
      exporters: [slo, forward/logs]
    logs/forward:
      receivers: [forward/logs]
      processors: [shed]
      exporters: [otlp_grpc/down]
    metrics/scraped:
      receivers: [prometheus]
      processors: [memory_limiter]
      exporters: [prometheus_remote_write, slo, otlp_grpc/down]
    metrics/slo:
      receivers: [slo]
      exporters: [prometheus_remote_write]
`, p.GRPC, p.Limited, jobs, am, remoteWriteExporter("prometheus_remote_write", remoteWrite).yaml, p.Down, p.Health, p.Metrics)
}

// startAppTarget serves what the metric SLIs select, growing every 100ms:
// http_requests_total{code, region} with 1 request in 10 failing, and the
// histogram http_server_request_duration_seconds{http_route="/checkout/pay"}
// with 1 observation in 10 over 250ms.
func startAppTarget(t *testing.T) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "Requests."}, []string{"code", "region"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "http_server_request_duration_seconds", Help: "Request duration.",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10},
	}, []string{"http_route"})
	reg.MustRegister(requests, duration)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				for _, region := range []string{"eu", "us"} {
					requests.WithLabelValues("200", region).Add(9)
					requests.WithLabelValues("500", region).Add(1)
				}
				for range 9 {
					duration.WithLabelValues("/checkout/pay").Observe(0.08)
				}
				duration.WithLabelValues("/checkout/pay").Observe(0.6)
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done; _ = srv.Close() })
	return l.Addr().String()
}

// driveTelemetry sends, every 500ms until ctx ends, server spans and log
// records matching the SLOs of slo.example.yaml and docs/slo-guide.md,
// one in five bad:
//   - spans of checkout (/checkout/pay), payments (/pay) and search
//     (/search): bad ones have status Error and HTTP 500, and search's last
//     500ms (over its 300ms threshold);
//   - logs of shop (http.* attributes), legacy-web (JSON bodies) and
//     billing-worker (production, bad ones at ERROR), at INFO otherwise so
//     the shed processor drops them after the SLO fan-out; half carry a
//     trace id (correlation present), half none (missing).
func driveTelemetry(ctx context.Context, t *testing.T, conn *grpc.ClientConn) {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	client := ptraceotlp.NewGRPCClient(conn)
	for seq := 0; ; seq++ {
		if err := exportTracesCtx(ctx, client, telemetrySpans(seq)); err != nil && ctx.Err() == nil {
			t.Logf("spans: %v", err)
		}
		if err := exportLogs(conn, telemetryLogs(seq)); err != nil && ctx.Err() == nil {
			t.Logf("logs: %v", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func exportTracesCtx(ctx context.Context, c ptraceotlp.GRPCClient, td ptrace.Traces) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := c.Export(ctx, ptraceotlp.NewExportRequestFromTraces(td))
	return err
}

func telemetrySpans(seq int) ptrace.Traces {
	td := ptrace.NewTraces()
	now := time.Now()
	for _, svc := range []struct{ name, route string }{{"checkout", "/checkout/pay"}, {"payments", "/pay"}, {"search", "/search"}} {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", svc.name)
		ss := rs.ScopeSpans().AppendEmpty()
		for i := range 10 {
			bad := i%5 == 0
			sp := ss.Spans().AppendEmpty()
			sp.SetTraceID(traceID(seq, i, svc.name))
			sp.SetSpanID(pcommon.SpanID{1, byte(i), byte(seq), 2, 3, 4, 5, 6})
			sp.SetName("GET " + svc.route)
			sp.SetKind(ptrace.SpanKindServer)
			sp.SetFlags(1) // sampled: not shed
			dur := 20 * time.Millisecond
			code := int64(200)
			if bad {
				dur, code = 500*time.Millisecond, 500
				sp.Status().SetCode(ptrace.StatusCodeError)
			}
			sp.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(-dur)))
			sp.SetEndTimestamp(pcommon.NewTimestampFromTime(now))
			sp.Attributes().PutStr("http.route", svc.route)
			sp.Attributes().PutStr("http.request.method", "GET")
			sp.Attributes().PutInt("http.response.status_code", code)
		}
	}
	return td
}

func traceID(seq, i int, svc string) pcommon.TraceID {
	var id pcommon.TraceID
	copy(id[:], fmt.Sprintf("%-8.8s%04d%04d", svc, seq%10000, i))
	return id
}

func telemetryLogs(seq int) plog.Logs {
	ld := plog.NewLogs()
	now := pcommon.NewTimestampFromTime(time.Now())
	add := func(svc string, res map[string]string, fill func(lr plog.LogRecord, bad bool)) {
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", svc)
		for k, v := range res {
			rl.Resource().Attributes().PutStr(k, v)
		}
		sl := rl.ScopeLogs().AppendEmpty()
		for i := range 10 {
			lr := sl.LogRecords().AppendEmpty()
			lr.SetTimestamp(now)
			lr.SetObservedTimestamp(now)
			lr.SetSeverityNumber(plog.SeverityNumberInfo)
			lr.SetSeverityText("INFO")
			if i%2 == 0 {
				lr.SetTraceID(traceID(seq, i, svc))
			}
			fill(lr, i%5 == 0)
		}
	}
	add("shop", nil, func(lr plog.LogRecord, bad bool) {
		code := int64(200)
		if bad {
			code = 500
		}
		lr.Body().SetStr("request served")
		lr.Attributes().PutStr("http.route", "/api/orders")
		lr.Attributes().PutStr("http.request.method", "GET")
		lr.Attributes().PutInt("http.response.status_code", code)
	})
	add("legacy-web", nil, func(lr plog.LogRecord, bad bool) {
		status := 200
		if bad {
			status = 503
		}
		lr.Body().SetStr(`{"request":{"path":"/cart"},"status":` + strconv.Itoa(status) + `}`)
	})
	add("billing-worker", map[string]string{"deployment.environment.name": "production"}, func(lr plog.LogRecord, bad bool) {
		lr.Body().SetStr("invoice job done")
		if bad {
			lr.SetSeverityNumber(plog.SeverityNumberError)
			lr.SetSeverityText("ERROR")
			lr.Body().SetStr("invoice job failed")
		}
	})
	return ld
}

// driveRateLimit posts, every second until ctx ends, four OTLP/HTTP trace
// requests as tenant noisy-tenant to the receiver limited to 1 request/s
// with a burst of 2: some are refused each second, so the refused counter
// keeps increasing.
func driveRateLimit(ctx context.Context, url string) {
	td := telemetrySpans(0)
	body, err := (&ptrace.ProtoMarshaler{}).MarshalTraces(td)
	if err != nil {
		return
	}
	c := http.Client{Timeout: 5 * time.Second}
	for {
		for range 4 {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				return
			}
			req.Header.Set("Content-Type", "application/x-protobuf")
			req.Header.Set("X-Scope-OrgID", "noisy-tenant")
			if resp, err := c.Do(req); err == nil {
				resp.Body.Close()
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// selfScrapeDrop is the shipped configs' metric_relabel_configs of the
// obsd-self scrape (deploy's TestSelfScrapeDoesNotDuplicateTheSLOSeries
// checks them): the SLO series the connector writes itself are dropped.
func selfScrapeDrop() string {
	names := make([]string, len(contract.EmittedMetrics))
	for i, n := range contract.EmittedMetrics {
		names[i] = regexp.QuoteMeta(n)
	}
	return "          metric_relabel_configs:\n            - source_labels: [__name__]\n              regex: '" +
		strings.Join(names, "|") + "'\n              action: drop\n"
}
