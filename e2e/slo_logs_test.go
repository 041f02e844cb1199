package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// sloLogsFile: JSON access logs of web, one instance per route with a cap
// of 2 routes, and the ERROR records of worker.
const sloLogsFile = `version: obsd/v1
slos:
  - name: web-access
    service: web
    objective: 99
    period: 1h
    group_by_limit: 2
    sli:
      logs:
        total: '{body.path=~"/.*"}'
        bad: '{body.status=~"5.."}'
        group_by: [http.route]
  - name: worker-errors
    service: worker
    objective: 99
    period: 1h
    sli:
      logs:
        min_severity: ERROR
`

const sloLogsPipelines = `
    logs:
      receivers: [otlp]
      exporters: [slo]
    metrics/slo:
      receivers: [slo]
      exporters: [otlp_grpc]`

// logLine is one record: a route attribute, a body and a severity.
type logLine struct {
	route, body string
	sev         plog.SeverityNumber
	sevText     string
}

// postLogs sends the records of one service as OTLP/HTTP protobuf.
func postLogs(t *testing.T, p ports, svc string, lines ...logLine) {
	t.Helper()
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", svc)
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	now := pcommon.NewTimestampFromTime(time.Now())
	for _, l := range lines {
		lr := lrs.AppendEmpty()
		lr.SetTimestamp(now)
		if l.route != "" {
			lr.Attributes().PutStr("http.route", l.route)
		}
		lr.Body().SetStr(l.body)
		lr.SetSeverityNumber(l.sev)
		lr.SetSeverityText(l.sevText)
	}
	data, err := plogotlp.NewExportRequestFromLogs(ld).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/v1/logs", p.OTLPHTTP), "application/x-protobuf", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /v1/logs: %s", resp.Status)
	}
}

func access(route string, status int) logLine {
	return logLine{route: route, body: fmt.Sprintf(`{"path":%q,"status":%d}`, route, status)}
}

// TestSLOFromLogs: OTLP logs through the real binary feed log SLIs: JSON
// body fields per route (with the group_by cap and its overflow
// instance), severity, and malformed bodies counted apart.
func TestSLOFromLogs(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slo.yaml"), []byte(sloLogsFile), 0o600); err != nil {
		t.Fatal(err)
	}
	s := sink.NewOTLP(t)
	p := newPorts(t)
	obsd := harness.StartInDir(t, dir, baseConfig(p, s, sloConnectorConfig(""), sloLogsPipelines))

	postLogs(t, p, "web",
		access("/a", 200), access("/a", 200), access("/a", 503),
		access("/b", 200), access("/b", 200),
		access("/c", 500), access("/d", 200), // beyond the cap of 2 routes
		logLine{route: "/a", body: `{"path":"/a","status":`}, // malformed JSON
	)
	postLogs(t, p, "worker",
		logLine{body: "job done", sev: plog.SeverityNumberInfo},
		logLine{body: "retrying", sev: plog.SeverityNumberWarn},
		logLine{body: "job failed", sev: plog.SeverityNumberError},
		logLine{body: "disk gone", sevText: "FATAL"},
	)
	postLogs(t, p, "unrelated", logLine{body: "ignored", sev: plog.SeverityNumberError})

	route := func(r string) map[string]string { return map[string]string{"slo": "web-access", "http_route": r} }
	worker := map[string]string{"slo": "worker-errors", "service": "worker"}
	type want struct {
		name   string
		labels map[string]string
		value  float64
	}
	wants := []want{
		{"obsd_slo_events_total", route("/a"), 3},
		{"obsd_slo_bad_events_total", route("/a"), 1},
		{"obsd_slo_events_total", route("/b"), 2},
		{"obsd_slo_events_total", route("__overflow__"), 2},
		{"obsd_slo_bad_events_total", route("__overflow__"), 1},
		{"obsd_slo_group_overflow_total", map[string]string{"slo": "web-access"}, 2},
		{"obsd_slo_points_total", map[string]string{"outcome": "malformed_body"}, 1},
		{"obsd_slo_events_total", worker, 4},
		{"obsd_slo_bad_events_total", worker, 2},
		{"obsd_slo_points_total", map[string]string{"outcome": "counted"}, 11},
	}
	var last string
	harness.Eventually(t, 30*time.Second, func() bool {
		m := obsd.Metrics(t)
		last = ""
		ok := true
		for _, w := range wants {
			got := harness.Sum(m, w.name, w.labels)
			last += fmt.Sprintf("%s%v = %v (want %v)\n", w.name, w.labels, got, w.value)
			ok = ok && got == w.value
		}
		return ok
	}, "obsd's /metrics never showed the log SLO counts:\n%s\nobsd output:\n%s", lazy(func() string { return last }), lazy(obsd.Output))
	if !obsd.WaitOutput("slo group_by cap reached", 5*time.Second) {
		t.Errorf("no log line when web-access started overflowing")
	}
}

// lazy is a value printed in a failure message, computed when printed.
type lazy func() string

func (l lazy) String() string { return l() }
