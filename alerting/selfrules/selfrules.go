// Package selfrules holds the Prometheus alerting rules for the failure modes
// obsd can detect in itself, one per runbook page in docs/runbooks/, and
// renders them as a Prometheus rule file. It imports no collector packages.
package selfrules

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"go.yaml.in/yaml/v3"

	"github.com/obsd-dev/obsd/internal/breakerstate"
	"github.com/obsd-dev/obsd/slo/contract"
)

// DefaultRunbookBaseURL is where the runbook pages live; a rule's runbook_url
// is this base, "/", and the page's file name.
const DefaultRunbookBaseURL = "https://github.com/obsd-dev/obsd/blob/main/docs/runbooks"

// GroupName is the name of the single rule group Generate writes.
const GroupName = "obsd-self"

// Page is one failure mode: its runbook page and, when obsd exposes a metric
// for it, the alerting rule that detects it.
type Page struct {
	// File is the page's file name in docs/runbooks/ (e.g. "circuit-open.md").
	File string
	// Title is the failure mode as the index names it.
	Title string
	// Rule is nil when no metric detects the failure mode (the page then
	// says how it is detected instead).
	Rule *Rule
}

// Rule is one alerting rule.
type Rule struct {
	Alert       string
	Expr        string
	For         model.Duration
	Severity    string // "critical" or "warning"
	Summary     string
	Description string
}

// signals is the per-signal metric suffixes of the collector's counters.
var signals = []struct{ suffix, name string }{
	{"spans", "traces"}, {"log_records", "logs"}, {"metric_points", "metrics"},
}

// perSignal sums rate(<prefix><suffix>[window]) by the given labels plus a
// "signal" label, across the three signals; `or` is safe because the
// added signal label keeps the three label sets apart.
func perSignal(prefix, window, by string) string {
	parts := make([]string, 0, len(signals))
	for _, s := range signals {
		parts = append(parts, fmt.Sprintf(`label_replace(rate(%s%s[%s]), "signal", %q, "", "")`,
			prefix, s.suffix, window, s.name))
	}
	return fmt.Sprintf("sum by (%s, signal) (%s)", by, strings.Join(parts, " or "))
}

// notClosed holds while a circuit state gauge (internal/breakerstate's
// encoding) reads anything but closed. A circuit whose probes keep failing
// moves open → half_open → open at every probe, so "== open" with a 'for'
// would restart its wait at each probe; "not closed" does not.
func notClosed(gauge, label string) string {
	return fmt.Sprintf("max by (instance, %s) (%s) > %d", label, gauge, breakerstate.Closed)
}

// Pages returns the failure modes in index order.
func Pages() []Page {
	return []Page{
		{File: "backend-down.md", Title: "Backend down and queue filling", Rule: &Rule{
			Alert: "ObsdBackendDownQueueFilling",
			Expr: "max by (instance, exporter) (otelcol_exporter_queue_size / otelcol_exporter_queue_capacity) > 0.5\n" +
				"and on (instance, exporter)\n" +
				"(" + perSignal("otelcol_exporter_send_failed_", "5m", "instance, exporter") + " > 0)",
			For: model.Duration(10 * time.Minute), Severity: "warning",
			Summary:     "obsd exporter {{ $labels.exporter }} on {{ $labels.instance }} fails to send and its queue is over half full",
			Description: "Sends from {{ $labels.exporter }} fail and its sending queue is {{ $value | humanizePercentage }} full; when it is full, new data is dropped.",
		}},
		{File: "circuit-open.md", Title: "Circuit open", Rule: &Rule{
			Alert:       "ObsdAlertCircuitOpen",
			Expr:        notClosed(breakerstate.AlertingGauge, breakerstate.AlertingGaugeLabel),
			For:         model.Duration(5 * time.Minute),
			Severity:    "critical",
			Summary:     "obsd's circuit to {{ $labels.endpoint }} on {{ $labels.instance }} is not closed",
			Description: "obsd stopped calling {{ $labels.endpoint }} after repeated failures; alerts wait in the outbox or go to the fallback destination.",
		}},
		{File: "exporter-circuit-open.md", Title: "Exporter circuit open", Rule: &Rule{
			Alert:       "ObsdExporterCircuitOpen",
			Expr:        notClosed(breakerstate.ExporterGauge, breakerstate.ExporterGaugeLabel),
			For:         model.Duration(10 * time.Minute),
			Severity:    "warning",
			Summary:     "obsd's exporter circuit {{ $labels.breaker }} on {{ $labels.instance }} is not closed",
			Description: "The backend behind {{ $labels.breaker }} kept failing; exports fail fast and data waits in the exporter's persistent queue until a probe succeeds.",
		}},
		{File: "data-refused.md", Title: "Data refused or shed", Rule: &Rule{
			Alert:       "ObsdDataRefused",
			Expr:        perSignal("otelcol_receiver_refused_", "5m", "instance, receiver") + " > 0",
			For:         model.Duration(10 * time.Minute),
			Severity:    "warning",
			Summary:     "obsd receiver {{ $labels.receiver }} on {{ $labels.instance }} refuses {{ $labels.signal }}",
			Description: "{{ $labels.receiver }} refuses {{ $value | humanize }} {{ $labels.signal }} items/s (memory limiter or a failing pipeline); senders retry or lose the data.",
		}},
		{File: "data-shed.md", Title: "Data shed under memory pressure", Rule: &Rule{
			Alert:       "ObsdDataShed",
			Expr:        "sum by (instance, signal, reason) (rate(obsd_shed_items_total[5m])) > 0",
			For:         model.Duration(10 * time.Minute),
			Severity:    "warning",
			Summary:     "obsd on {{ $labels.instance }} sheds {{ $labels.signal }} ({{ $labels.reason }})",
			Description: "Under memory pressure obsd drops {{ $value | humanize }} {{ $labels.signal }} items/s ({{ $labels.reason }}); SLO numbers stay exact, but the backend misses these items.",
		}},
		{File: "queue-disk-full.md", Title: "Disk full for the queue", Rule: &Rule{
			Alert:       "ObsdQueueEnqueueFailing",
			Expr:        perSignal("otelcol_exporter_enqueue_failed_", "5m", "instance, exporter") + " > 0",
			For:         model.Duration(5 * time.Minute),
			Severity:    "critical",
			Summary:     "obsd exporter {{ $labels.exporter }} on {{ $labels.instance }} cannot enqueue {{ $labels.signal }}",
			Description: "{{ $value | humanize }} {{ $labels.signal }} items/s are dropped because the sending queue is full or its file storage cannot be written (disk full).",
		}},
		{File: "slo-snapshot-unreadable.md", Title: "SLO snapshot unreadable", Rule: &Rule{
			Alert: "ObsdSLOStateUnreadable",
			// The counter is 1 from the first scrape (the state is read
			// before anyone scrapes), so increase() never sees it rise:
			// fire while it is non-zero in the first hour of the process.
			Expr: fmt.Sprintf("max by (instance, %s) (%s) > 0\n", contract.LabelState, contract.MetricRestoreFailures) +
				"and on (instance)\n" +
				"max by (instance) (otelcol_process_uptime) < 3600",
			Severity:    "warning",
			Summary:     "obsd on {{ $labels.instance }} could not read its {{ $labels.state }} state at start",
			Description: "The {{ $labels.state }} state file was unreadable and was moved aside; obsd started it fresh, so SLO counts or alert states before the restart are missing.",
		}},
		{File: "alert-delivery-failing.md", Title: "Alert delivery failing", Rule: &Rule{
			Alert: "ObsdAlertDeliveryFailing",
			Expr: "sum by (instance, destination) (rate(obsd_alerts_sent_total{outcome=~\"retry|rejected|dropped|fallback\"}[10m])) > 0\n" +
				"unless on (instance, destination)\n" +
				"(sum by (instance, destination) (rate(obsd_alerts_sent_total{outcome=\"success\"}[10m])) > 0)",
			For:         model.Duration(10 * time.Minute),
			Severity:    "critical",
			Summary:     "obsd cannot deliver alerts to {{ $labels.destination }} on {{ $labels.instance }}",
			Description: "No alert reached {{ $labels.destination }} in 10 minutes while deliveries failed ({{ $value | humanize }}/s); pages may not reach on-call.",
		}},
		{File: "config-reload-refused.md", Title: "Config reload refused", Rule: &Rule{
			Alert: "ObsdConfigReloadRefused",
			Expr: "sum by (instance) (increase(obsd_config_reloads_total{result=\"refused\"}[15m])) > 0\n" +
				"unless on (instance)\n" +
				"(sum by (instance) (increase(obsd_config_reloads_total{result=\"applied\"}[15m])) > 0)",
			Severity:    "warning",
			Summary:     "obsd on {{ $labels.instance }} refused a reloaded config",
			Description: "A reloaded config was invalid; obsd keeps running on the previous one, so the intended change is not in force.",
		}},
		{File: "correlation-coverage-dropping.md", Title: "Correlation coverage dropping", Rule: &Rule{
			Alert: "ObsdCorrelationCoverageLow",
			Expr: "sum by (instance, service) (rate(obsd_correlation_log_records_total{outcome=~\"present|lifted\"}[30m]))\n" +
				"/ sum by (instance, service) (rate(obsd_correlation_log_records_total[30m])) < 0.9",
			For:         model.Duration(30 * time.Minute),
			Severity:    "warning",
			Summary:     "Log records of {{ $labels.service }} on {{ $labels.instance }} lose their trace ids",
			Description: "Only {{ $value | humanizePercentage }} of {{ $labels.service }}'s log records carry a trace id (present or lifted) over 30 minutes.",
		}},
	}
}

// Generate renders the rules of Pages as a Prometheus rule file, each rule
// annotated with runbook_url = baseURL + "/" + its page.
func Generate(baseURL string) ([]byte, error) {
	if baseURL == "" {
		return nil, fmt.Errorf("runbook base URL is empty")
	}
	baseURL = strings.TrimSuffix(baseURL, "/")
	g := rulefmt.RuleGroup{Name: GroupName}
	for _, p := range Pages() {
		if p.Rule == nil {
			continue
		}
		r := p.Rule
		g.Rules = append(g.Rules, rulefmt.Rule{
			Alert:  r.Alert,
			Expr:   r.Expr,
			For:    r.For,
			Labels: map[string]string{"severity": r.Severity, "component": "obsd"},
			Annotations: map[string]string{
				"summary":     r.Summary,
				"description": r.Description,
				"runbook_url": baseURL + "/" + p.File,
			},
		})
	}
	var buf bytes.Buffer
	buf.WriteString("# Alerting rules for obsd's own failure modes; generated by `obsd rules self`.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(rulefmt.RuleGroups{Groups: []rulefmt.RuleGroup{g}}); err != nil {
		return nil, fmt.Errorf("encoding rules: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding rules: %w", err)
	}
	return buf.Bytes(), nil
}
