package backends

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/internal/vltest"
)

// logRecord is one record the test sends and expects back.
type logRecord struct {
	body     string
	ts       time.Time
	severity plog.SeverityNumber
	traceID  pcommon.TraceID
	spanID   pcommon.SpanID
	userID   string
}

func traceIDOf(n int) pcommon.TraceID {
	var id pcommon.TraceID
	binary.BigEndian.PutUint64(id[:8], 0x4bf92f3577b34da6)
	binary.BigEndian.PutUint64(id[8:], uint64(n)+1)
	return id
}

func spanIDOf(n int) pcommon.SpanID {
	var id pcommon.SpanID
	binary.BigEndian.PutUint64(id[:], 0x00f067aa0ba90000+uint64(n)+1)
	return id
}

// appendResource adds one resource of records to ld.
func appendResource(ld plog.Logs, res map[string]any, recs []logRecord) {
	rl := ld.ResourceLogs().AppendEmpty()
	_ = rl.Resource().Attributes().FromRaw(res)
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("e2e-backends")
	for _, r := range recs {
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(r.ts))
		lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(r.ts.Add(time.Millisecond)))
		lr.Body().SetStr(r.body)
		lr.SetSeverityNumber(r.severity)
		lr.SetTraceID(r.traceID)
		lr.SetSpanID(r.spanID)
		if r.userID != "" {
			lr.Attributes().PutStr("user.id", r.userID)
		}
	}
}

// checkoutRecords are n records of the checkout service, 1ms apart from t0,
// alternating INFO and ERROR, each with its own trace id.
func checkoutRecords(prefix string, n int, t0 time.Time) []logRecord {
	out := make([]logRecord, n)
	for i := range out {
		sev := plog.SeverityNumberInfo
		if i%2 == 1 {
			sev = plog.SeverityNumberError
		}
		out[i] = logRecord{body: fmt.Sprintf("%s %d", prefix, i), ts: t0.Add(time.Duration(i) * time.Millisecond),
			severity: sev, traceID: traceIDOf(i), spanID: spanIDOf(i), userID: fmt.Sprint(1000 + i)}
	}
	return out
}

// waitRows polls VictoriaLogs until query in tenant returns want rows
// (and fails on more), and returns them keyed by _msg.
func waitRows(t *testing.T, vl *vltest.Server, tenant vltest.Tenant, query string, want int) map[string]map[string]string {
	t.Helper()
	var rows []map[string]string
	var err error
	harness.Eventually(t, 60*time.Second, func() bool {
		rows, err = vl.TryQuery(tenant, query)
		return err == nil && len(rows) >= want
	}, "VictoriaLogs tenant %s has %d rows for %q, want %d (last error %v)", tenant, len(rows), query, want, err)
	// Anything more would show within a flush interval: look again.
	time.Sleep(1500 * time.Millisecond)
	rows = vl.Query(t, tenant, query)
	if len(rows) != want {
		t.Fatalf("VictoriaLogs tenant %s has %d rows for %q, want exactly %d (no loss, no duplicate)", tenant, len(rows), query, want)
	}
	byMsg := map[string]map[string]string{}
	for _, r := range rows {
		byMsg[r["_msg"]] = r
	}
	return byMsg
}

// TestLogsReachVictoriaLogs: obsd's loki exporter (Loki push API) and its
// otlp_http exporter (OTLP logs) both write to a real VictoriaLogs. Records
// from OTLP and from a Loki pusher are found by LogsQL with their stream
// labels, structured metadata, trace and span ids and exact timestamps, in
// the tenant obsd's tenant names map to (tenant_map for the Loki push API,
// the AccountID/ProjectID headers for OTLP), and nowhere else. A tenant
// name VictoriaLogs cannot take is refused, counted, and blocks nobody.
func TestLogsReachVictoriaLogs(t *testing.T) {
	t.Parallel()
	vl := vltest.Start(t)
	lokiPort := harness.FreePort(t)
	o, p := startObsd(t, obsdConfig{
		Receivers: fmt.Sprintf("  lokipush:\n    endpoint: 127.0.0.1:%d\n", lokiPort),
		Exporters: []exporter{
			lokiExporter("loki", vl.URL+vltest.LokiPushPath,
				"    labels: [service.name, service.namespace, k8s.namespace.name, level]\n"+
					"    tenant_map: {team-a: \"11\", team-b: \"12:3\"}\n"),
			otlpHTTPExporter("otlp_http/victorialogs", vl.URL+vltest.OTLPPath,
				"    headers: {AccountID: \"21\", ProjectID: \"5\"}\n"),
		},
		Pipelines: `    logs:
      receivers: [otlp, lokipush]
      processors: [memory_limiter]
      exporters: [loki, otlp_http/victorialogs]`,
	})

	// Team a's records over OTLP (the tenant processor's obsd.tenant), and
	// five of a tenant nobody mapped.
	t0 := time.Now().Add(-time.Minute).Truncate(time.Microsecond).Add(123 * time.Nanosecond)
	recs := checkoutRecords("checkout order", 50, t0)
	ld := plog.NewLogs()
	appendResource(ld, map[string]any{"service.name": "checkout", "k8s.namespace.name": "shop",
		"k8s.pod.name": "checkout-7d9f", "obsd.tenant": "team-a"}, recs)
	appendResource(ld, map[string]any{"service.name": "stray", "obsd.tenant": "team-unmapped"},
		checkoutRecords("stray", 5, t0))
	if err := exportLogs(dial(t, p.GRPC), ld); err != nil {
		t.Fatalf("OTLP export: %v", err)
	}
	// Team b's records from a Loki pusher (X-Scope-OrgID: team-b).
	pushed := lokiJSONPush(t, lokiPort, "team-b", t0, 20)

	// The Loki push API path, tenant team-a → 11:0.
	got := waitRows(t, vl, vltest.Tenant{AccountID: 11}, "*", len(recs))
	for _, r := range recs {
		row, ok := got[r.body]
		if !ok {
			t.Fatalf("record %q missing in tenant 11:0", r.body)
		}
		level := "info"
		if r.severity == plog.SeverityNumberError {
			level = "error"
		}
		want := map[string]string{
			"_stream":      fmt.Sprintf(`{k8s_namespace_name="shop",level="%s",service_name="checkout"}`, level),
			"_time":        r.ts.UTC().Format(time.RFC3339Nano),
			"trace_id":     r.traceID.String(),
			"span_id":      r.spanID.String(),
			"user.id":      r.userID,
			"k8s.pod.name": "checkout-7d9f",
		}
		checkFields(t, "loki push, tenant 11:0", r.body, row, want)
		for _, k := range []string{"obsd.tenant", "loki.tenant", "obsd_tenant"} {
			if v, ok := row[k]; ok {
				t.Errorf("%q: the tenant leaked into the record as %s=%q", r.body, k, v)
			}
		}
	}
	// Team b, from the Loki pusher, → 12:3.
	gotB := waitRows(t, vl, vltest.Tenant{AccountID: 12, ProjectID: 3}, "*", len(pushed))
	for i, body := range pushed {
		checkFields(t, "loki push, tenant 12:3", body, gotB[body], map[string]string{
			"_stream":  `{level="warn",service_name="billing"}`,
			"_time":    t0.Add(time.Duration(i) * time.Millisecond).UTC().Format(time.RFC3339Nano),
			"trace_id": traceIDOf(i).String(),
		})
	}

	// The OTLP path: everything, in tenant 21:5 from the static headers.
	gotOTLP := waitRows(t, vl, vltest.Tenant{AccountID: 21, ProjectID: 5}, "*", len(recs)+5+len(pushed))
	for _, r := range recs {
		checkFields(t, "otlp, tenant 21:5", r.body, gotOTLP[r.body], map[string]string{
			"_time":              r.ts.UTC().Format(time.RFC3339Nano),
			"trace_id":           r.traceID.String(),
			"span_id":            r.spanID.String(),
			"user.id":            r.userID,
			"service.name":       "checkout",
			"k8s.namespace.name": "shop",
			"k8s.pod.name":       "checkout-7d9f",
		})
		if s := gotOTLP[r.body]["_stream"]; !strings.Contains(s, `service.name="checkout"`) {
			t.Errorf("otlp %q: _stream %s does not hold service.name (resource attributes are VictoriaLogs' stream fields)", r.body, s)
		}
	}

	// Nothing in the default tenant, and the unmapped tenant was refused
	// (a 400: VictoriaLogs' tenants are numbers), counted, not retried.
	if rows := vl.Query(t, vltest.Tenant{}, "*"); len(rows) != 0 {
		t.Errorf("default tenant 0:0 holds %d rows, want none: %v", len(rows), rows[0])
	}
	// obsd's own counts: everything sent, by both exporters. The loki
	// exporter's batch with the refused tenant was partly delivered, which
	// the collector counts as sent whole (as an OTLP partial success); the
	// refused records are counted apart, below.
	for exp, want := range map[string]float64{"loki": float64(len(recs) + 5 + len(pushed)), "otlp_http/victorialogs": float64(len(recs) + 5 + len(pushed))} {
		if got := counter(t, o, "otelcol_exporter_sent_log_records", map[string]string{"exporter": exp}); got != want {
			t.Errorf("otelcol_exporter_sent_log_records{exporter=%q} = %v, want %v", exp, got, want)
		}
	}
	harness.Eventually(t, 30*time.Second, func() bool {
		return counter(t, o, "obsd_loki_exporter_permanently_rejected_records_total", nil) == 5
	}, "obsd_loki_exporter_permanently_rejected_records_total = %v, want the 5 records of the unmapped tenant",
		counter(t, o, "obsd_loki_exporter_permanently_rejected_records_total", nil))
}

// lokiJSONPush pushes n lines as a Loki client would (JSON, structured
// metadata with a trace id) to obsd's lokipush receiver, as tenant.
func lokiJSONPush(t *testing.T, port int, tenant string, t0 time.Time, n int) []string {
	t.Helper()
	var values []string
	var bodies []string
	for i := range n {
		body := fmt.Sprintf("billing invoice %d", i)
		bodies = append(bodies, body)
		values = append(values, fmt.Sprintf(`["%d",%q,{"trace_id":%q}]`, t0.Add(time.Duration(i)*time.Millisecond).UnixNano(), body, traceIDOf(i).String()))
	}
	payload := `{"streams":[{"stream":{"service_name":"billing","level":"warn"},"values":[` + strings.Join(values, ",") + `]}]}`
	req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/loki/api/v1/push", port), bytes.NewBufferString(payload))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Scope-OrgID", tenant)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("lokipush answered %s", resp.Status)
	}
	return bodies
}

func checkFields(t *testing.T, path, body string, row, want map[string]string) {
	t.Helper()
	if row == nil {
		t.Errorf("%s: record %q missing", path, body)
		return
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if row[k] != want[k] {
			t.Errorf("%s: record %q: %s = %q, want %q (row %v)", path, body, k, row[k], want[k], row)
		}
	}
}
