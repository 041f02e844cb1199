package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/obsd-dev/obsd/alerting"
	"github.com/obsd-dev/obsd/e2e/harness"
)

// sloFile is what every obsd of the test evaluates: the span and the log
// SLO of the comparison, and the SLO of the 200-vs-200 scenario.
// Short windows (1m and 5m, factor 10) so that the test runs in minutes.
const sloFile = `version: obsd/v1
slos:
  - name: shop-spans
    service: shop
    objective: 99
    period: 1h
    labels: {team: shop}
    sli:
      spans:
        bad: {status_error: true}
    alerting:
      runbook_url: https://runbooks.example/shop
      min_events: 20
      page:
        windows:
          - {long: 5m, short: 1m, burn_rate: 10}
      ticket:
        enabled: false
  - name: worker-logs
    service: worker
    objective: 99
    period: 1h
    labels: {team: jobs}
    sli:
      logs:
        min_severity: ERROR
    alerting:
      runbook_url: https://runbooks.example/worker
      min_events: 20
      page:
        windows:
          - {long: 5m, short: 1m, burn_rate: 10}
      ticket:
        enabled: false
  - name: gap-spans
    service: gap
    objective: 99
    period: 1h
    sli:
      spans:
        bad: {status_error: true}
    alerting:
      page:
        windows:
          - {long: 5m, short: 1m, burn_rate: 10}
      ticket:
        enabled: false
`

// obsdSpec is one obsd of the test.
type obsdSpec struct {
	instance    string // the connector's instance setting
	mode        string // alert_mode
	interval    time.Duration
	remoteWrite string
	webhook     string // alerting destination (local decisions); "" none
}

// startObsd runs obsd with an OTLP receiver, the slo connector on traces
// and logs, and remote write of its metrics (one consumer, so one
// evaluation's samples are written in order).
func startObsd(t *testing.T, s obsdSpec) (*harness.Obsd, int) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slo.yaml"), []byte(sloFile), 0o600); err != nil {
		t.Fatal(err)
	}
	grpcPort, health, metrics := harness.FreePort(t), harness.FreePort(t), harness.FreePort(t)
	alertingYAML := ""
	if s.webhook != "" {
		alertingYAML = fmt.Sprintf(`    alerting:
      templates:
        dashboard_url: 'https://grafana.example{{ sloDashboardPath .SLO }}'
      route: {receiver: hook}
      destinations:
        hook: {webhook: {url: %q}}
`, s.webhook)
	}
	yaml := fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
exporters:
  prometheus_remote_write:
    endpoint: %s
    timeout: 10s
    disable_scope_info: true
    translation_strategy: UnderscoreEscapingWithoutSuffixes
    retry_on_failure: {enabled: true, initial_interval: 200ms, max_interval: 2s, max_elapsed_time: 0s}
    remote_write_queue: {enabled: true, queue_size: 10000, num_consumers: 1}
connectors:
  slo:
    slos: ["{{DIR}}/slo.yaml"]
    evaluation_interval: %s
    alert_mode: %s
    instance: %s
    state:
      directory: "{{DIR}}/slo-state"
      snapshot_interval: 500ms
    # The shipped setup: every accepted request's events are journaled
    # between snapshots, so a SIGKILL loses none of them.
    storage: wal_storage
%s
extensions:
  health_check:
    endpoint: 127.0.0.1:%d
  wal_storage:
    directory: "{{DIR}}/wal"
    fsync: never
service:
  extensions: [health_check, wal_storage]
  telemetry:
    logs:
      level: info
    metrics:
      level: normal
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
      receivers: [otlp]
      exporters: [slo]
    logs:
      receivers: [otlp]
      exporters: [slo]
    metrics/slo:
      receivers: [slo]
      exporters: [prometheus_remote_write]
`, grpcPort, s.remoteWrite, s.interval, s.mode, s.instance, alertingYAML, health, metrics)
	o := harness.StartInDir(t, dir, harness.Config{YAML: yaml, HealthPort: health, MetricsPort: metrics})
	t.Cleanup(func() {
		if t.Failed() {
			out := o.Output()
			t.Logf("%s output (tail):\n%s", s.instance, out[max(0, len(out)-6000):])
		}
	})
	return o, grpcPort
}

// dial connects to an obsd's OTLP gRPC port and reconnects within half a
// second once a killed obsd is back.
func dial(t *testing.T, port int) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", port), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, MaxDelay: 500 * time.Millisecond},
			MinConnectTimeout: time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// item is one OTLP request to one obsd: a span or a log record.
type item struct {
	td    ptrace.Traces
	ld    plog.Logs
	isLog bool
	bad   bool
}

func span(service string, end time.Time, bad bool) item {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", service)
	sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetName("GET /items")
	sp.SetKind(ptrace.SpanKindServer)
	sp.Attributes().PutStr("http.route", "/items")
	sp.SetStartTimestamp(pcommon.NewTimestampFromTime(end.Add(-20 * time.Millisecond)))
	sp.SetEndTimestamp(pcommon.NewTimestampFromTime(end))
	if bad {
		sp.Status().SetCode(ptrace.StatusCodeError)
	}
	return item{td: td, bad: bad}
}

func logRecord(service string, at time.Time, bad bool) item {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", service)
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(at))
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.Body().SetStr("job done")
	if bad {
		lr.SetSeverityNumber(plog.SeverityNumberError)
		lr.Body().SetStr("job failed")
	}
	return item{ld: ld, isLog: true, bad: bad}
}

// target is one obsd the sender feeds, with what it has not taken yet
// (an obsd that is down gets its items later, in order, as an SDK's retry
// would deliver them).
type target struct {
	name    string
	conn    *grpc.ClientConn
	pending []item
	// acked counts what obsd acknowledged, by kind ("spans", "bad spans",
	// "logs", "bad logs").
	acked map[string]int
	fails int
	// inFlight counts, by evaluation instant (Unix ms) and kind, the items
	// this target acknowledged that were on their way at that instant:
	// sent before it and acknowledged after it, or sent less than a second
	// after it (a retry; an evaluation may run that late on a loaded
	// machine). An obsd counts such an item at that instant or at the next
	// one: the in-flight residual docs/kubernetes.md describes.
	inFlight map[int64]map[string]int
}

func (tg *target) noteInFlight(kind string, bad bool, sent, acked time.Time) {
	at := acked.Truncate(evalEvery)
	if !at.After(sent) {
		if sent.Sub(sent.Truncate(evalEvery)) >= time.Second {
			return
		}
		at = sent.Truncate(evalEvery)
	}
	if tg.inFlight == nil {
		tg.inFlight = map[int64]map[string]int{}
	}
	ms := at.UnixMilli()
	if tg.inFlight[ms] == nil {
		tg.inFlight[ms] = map[string]int{}
	}
	tg.inFlight[ms][kind]++
	if bad {
		tg.inFlight[ms]["bad "+kind]++
	}
}

func (tg *target) flush() {
	for len(tg.pending) > 0 {
		it := tg.pending[0]
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		sent := time.Now()
		var err error
		kind := "spans"
		if it.isLog {
			kind = "logs"
			_, err = plogotlp.NewGRPCClient(tg.conn).Export(ctx, plogotlp.NewExportRequestFromLogs(it.ld))
		} else {
			_, err = ptraceotlp.NewGRPCClient(tg.conn).Export(ctx, ptraceotlp.NewExportRequestFromTraces(it.td))
		}
		cancel()
		if err != nil {
			tg.fails++
			return
		}
		tg.noteInFlight(kind, it.bad, sent, time.Now())
		tg.acked[kind]++
		if it.bad {
			tg.acked["bad "+kind]++
		}
		tg.pending = tg.pending[1:]
	}
}

// webhook records the alerts obsd's alerting posts (Alertmanager's
// webhook payload).
type webhook struct {
	url    string
	mu     sync.Mutex
	alerts []alerting.WebhookAlert
}

func startWebhook(t *testing.T) *webhook {
	t.Helper()
	w := &webhook{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var msg alerting.WebhookMessage
		if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		w.mu.Lock()
		w.alerts = append(w.alerts, msg.Alerts...)
		w.mu.Unlock()
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	w.url = "http://" + l.Addr().String() + "/"
	return w
}

// firstFiring is the first firing alert of slo posted, if any.
func (w *webhook) firstFiring(slo string) (alerting.WebhookAlert, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, a := range w.alerts {
		if a.Labels["slo"] == slo && a.Status == "firing" {
			return a, true
		}
	}
	return alerting.WebhookAlert{}, false
}
