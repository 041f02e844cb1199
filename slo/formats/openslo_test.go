package formats

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"strconv"

	"github.com/obsd-dev/obsd/slo/formats/openslo"
	"github.com/obsd-dev/obsd/slo/match"
	"github.com/obsd-dev/obsd/slo/spec"
)

func getter(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadOpenSLO(t *testing.T) {
	slos, err := Load("testdata/openslo/valid/*.yaml")
	require.NoError(t, err)
	byName := map[string]*spec.SLO{}
	for _, s := range slos {
		byName[s.Name] = s
	}
	require.Len(t, byName, 5)

	t.Run("a referenced SLI with sum by and rate maps onto a metric ratio with group_by", func(t *testing.T) {
		a := byName["checkout-availability"]
		require.NotNil(t, a.SLI.Metric)
		assert.Equal(t, "checkout", a.Service)
		assert.Equal(t, "Checkout availability", a.Description, "displayName is the description when there is none")
		assert.InDelta(t, 0.999, a.Objective, 1e-12)
		assert.Equal(t, 28*24*time.Hour, a.Period)
		assert.Nil(t, a.Calendar)
		assert.Equal(t, map[string]string{"team": "payments"}, a.Labels)
		assert.Equal(t, []string{"region"}, a.SLI.Metric.GroupBy)
		tot, bad := match.Ratio(a.SLI.Metric, "http_requests_total", getter(map[string]string{"job": "checkout", "code": "503"}))
		assert.True(t, tot)
		assert.True(t, bad)
		_, bad = match.Ratio(a.SLI.Metric, "http_requests_total", getter(map[string]string{"job": "checkout", "code": "200"}))
		assert.False(t, bad)
	})
	t.Run("alert policies map onto one window pair per condition, targets onto a label", func(t *testing.T) {
		a := byName["checkout-availability"].Alerting
		assert.Equal(t, "https://runbooks.example/checkout", a.RunbookURL)
		assert.Equal(t, map[string]string{"summary": "Checkout fails too often"}, a.Annotations)
		assert.True(t, a.Page.Enabled)
		assert.Equal(t, []spec.WindowPair{{Long: time.Hour, Short: 5 * time.Minute, Factor: 13.44, For: 2 * time.Minute}}, a.Page.Windows)
		assert.Equal(t, 2*time.Minute, a.Page.For)
		assert.Equal(t, map[string]string{"notification_targets": "checkout-pager"}, a.Page.Labels)
		assert.Equal(t, []spec.WindowPair{{Long: 24 * time.Hour, Short: 2 * time.Hour, Factor: 2.8}}, a.Ticket.Windows)
		assert.Equal(t, map[string]string{"notification_targets": "checkout-tickets"}, a.Ticket.Labels)
	})
	t.Run("a thresholdMetric on a histogram with op lte is a latency SLI on a calendar month with time slices", func(t *testing.T) {
		l := byName["checkout-latency"]
		require.NotNil(t, l.SLI.Latency)
		assert.Equal(t, "http_server_request_duration_seconds", l.SLI.Latency.Histogram.MetricName, "_bucket is stripped")
		assert.Equal(t, 0.3, l.SLI.Latency.Threshold)
		require.NotNil(t, l.Calendar)
		assert.Equal(t, spec.CalendarMonth, l.Calendar.Unit)
		assert.Equal(t, "Europe/Berlin", l.Calendar.Location.String())
		assert.Equal(t, 31*24*time.Hour, l.Period)
		assert.Equal(t, spec.Budgeting{Method: spec.Timeslices, SliceTarget: 0.95, SliceWindow: 5 * time.Minute}, l.Budgeting)
		assert.True(t, l.Alerting.Page.Enabled, "no alert policy keeps obsd's default windows")
	})
	t.Run("good plus one matcher becomes bad with the negated matcher", func(t *testing.T) {
		g := byName["checkout-good"]
		require.NotNil(t, g.SLI.Metric)
		assert.Equal(t, `http_requests_total{job="checkout", code=~"5.."}`, g.SLI.Metric.Bad.Text)
		for code, wantBad := range map[string]bool{"500": true, "200": false, "": false} {
			_, bad := match.Ratio(g.SLI.Metric, "http_requests_total", getter(map[string]string{"job": "checkout", "code": code}))
			assert.Equal(t, wantBad, bad, "code %q", code)
		}
		assert.Equal(t, spec.Budgeting{Method: spec.RatioTimeslices, SliceWindow: time.Minute}, g.Budgeting, "a bare number is minutes")
		assert.Equal(t, 7*24*time.Hour, g.Period)
	})
	t.Run("a good bucket over the histogram's count is a latency SLI on a calendar quarter", func(t *testing.T) {
		b := byName["checkout-bucket"]
		require.NotNil(t, b.SLI.Latency)
		assert.Equal(t, 0.5, b.SLI.Latency.Threshold)
		assert.Equal(t, "http_server_request_duration_seconds", b.SLI.Latency.Histogram.MetricName)
		assert.Equal(t, spec.CalendarQuarter, b.Calendar.Unit)
		assert.Equal(t, 92*24*time.Hour, b.Period)
	})
	t.Run("an SLI is referenced across files and a week starts on Monday", func(t *testing.T) {
		c := byName["cart-availability"]
		require.NotNil(t, c.SLI.Metric)
		assert.Equal(t, "rpc_server_calls_total", c.SLI.Metric.Total.MetricName)
		assert.Equal(t, spec.CalendarWeek, c.Calendar.Unit)
		assert.True(t, strings.HasSuffix(c.Source, "cart.yaml"))
	})
}

func TestOpenSLOGolden(t *testing.T) {
	slos, err := Load("testdata/openslo/valid/*.yaml")
	require.NoError(t, err)
	got, err := json.MarshalIndent(slos, "", "  ")
	require.NoError(t, err)
	golden := "testdata/openslo/valid.golden.json"
	if *update {
		require.NoError(t, os.WriteFile(golden, got, 0o600))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.JSONEq(t, string(want), string(got))
}

// The examples of the OpenSLO specification's README: what maps loads,
// what does not is refused with the reason.
func TestOpenSLOSpecExamples(t *testing.T) {
	t.Run("the spec's referenced alert policy, condition and target map onto a page window pair", func(t *testing.T) {
		slos, err := Load("testdata/openslo/spec-alertpolicy-ref.yaml", "testdata/openslo/uses-spec-policy.yaml")
		require.NoError(t, err)
		require.Len(t, slos, 1)
		a := slos[0].Alerting
		assert.Equal(t, []spec.WindowPair{{Long: time.Hour, Short: 5 * time.Minute, Factor: 2, For: 5 * time.Minute}}, a.Page.Windows)
		assert.Equal(t, 5*time.Minute, a.Page.For)
		assert.Equal(t, "OnCallDevopsMailNotification", a.Page.Labels["notification_targets"])
		assert.False(t, a.Ticket.Enabled, "no ticket condition: no ticket alert")
	})
	t.Run("the spec's inline policy, Slack target and Service load once the mail target exists", func(t *testing.T) {
		slos, err := Load("testdata/openslo/spec-alertpolicy-inline.yaml", "testdata/openslo/uses-spec-policy.yaml",
			"testdata/openslo/spec-datasource.yaml")
		require.Error(t, err, "the inline policy names OnCallDevopsMailNotification, which only the other example declares")
		assert.Nil(t, slos)
		assert.Contains(t, err.Error(), `spec-alertpolicy-inline.yaml: document 1 (AlertPolicy "AlertPolicy"): 'spec.notificationTargets[0].targetRef' names no AlertNotificationTarget document "OnCallDevopsMailNotification"`)
	})
	for _, tc := range []struct{ file, want string }{
		{"spec-slo-inline.yaml", `document 1 (SLO "foo-slo"): 'spec.indicator.spec.ratioMetric.total.metricSource.type' "Datadog" is not supported: obsd counts the metrics it receives with Prometheus-style queries (type Prometheus)`},
		{"spec-ratio-metric.yaml", `document 2 (SLI "localhost-requests"): 'spec.ratioMetric.good' must select the series of 'total' plus exactly one more matcher`},
		{"spec-threshold-metric.yaml", `document 1 (SLI "redshift-latency"): 'spec.thresholdMetric.metricSource.type' "Redshift" is not supported`},
	} {
		t.Run(tc.file+" is refused with the reason", func(t *testing.T) {
			s := openslo.NewSet()
			data, err := os.ReadFile("testdata/openslo/" + tc.file)
			require.NoError(t, err)
			s.Add(tc.file, data)
			_, err = s.Convert()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	t.Run("the spec's DataSource example is accepted", func(t *testing.T) {
		s := openslo.NewSet()
		data, err := os.ReadFile("testdata/openslo/spec-datasource.yaml")
		require.NoError(t, err)
		s.Add("spec-datasource.yaml", data)
		slos, err := s.Convert()
		require.NoError(t, err)
		assert.Empty(t, slos)
	})
}

func TestOpenSLOInvalid(t *testing.T) {
	for _, tc := range []struct{ name, file, want string }{
		{"several objectives are refused", "several-objectives", `document 1 (SLO "x"): 'spec.objectives' has 2 objectives; obsd supports exactly one per SLO`},
		{"an unknown field is refused", "unknown-field", `document 1 (SLO "x"): yaml: unmarshal errors:` + "\n  line 8: field colour not found"},
		{"an unknown kind is refused", "unknown-kind", `document 1 (Dashboard "d"): 'kind' must be one of SLO, SLI`},
		{"another apiVersion is refused", "api-version", `'apiVersion' must be "openslo/v1", got "openslo/v2alpha"`},
		{"a two-month calendar is refused", "calendar-unit", `'spec.timeWindow[0].duration' must be 1w, 1M or 1Q for a calendar window, got "2M"`},
		{"a rolling month is refused", "rolling-month", `'spec.timeWindow[0].duration' "1M" is a calendar length`},
		{"a quantile is not an event SLI", "histogram-quantile", `'spec.indicator.spec.thresholdMetric.metricSource.spec.query' is a quantile, not a count of events`},
		{"a missing SLI is named", "missing-sli-ref", `'spec.indicatorRef' names no SLI document "nowhere"`},
		{"a raw ratio beside bad and total is refused", "raw-ratio", `'spec.indicator.spec.ratioMetric' must have 'raw' or 'good'/'bad' with 'total', not both`},
		{"time slices need a slice target", "timeslices-no-target", `'spec.objectives[0].timeSliceTarget' must be in (0, 1] with budgetingMethod Timeslices`},
		{"an unknown severity is refused", "bad-severity", `'spec.alertPolicies[0].spec.conditions[0].spec.severity' must be page or critical`},
		{"alerting on no data is refused", "no-data", `'spec.alertPolicies[0].spec.alertWhenNoData' true is not supported`},
		{"a threshold metric with gte is refused", "threshold-op", `'spec.objectives[0].op' must be "lte" for a thresholdMetric`},
		{"good on another metric cannot be turned into bad", "good-unmappable", `'spec.indicator.spec.ratioMetric.good' must select the series of 'total' plus exactly one more matcher`},
		{"a division is not a supported shape", "unsupported-shape", `'spec.indicator.spec.ratioMetric.bad.metricSource.spec.query' has an unsupported shape`},
		{"target and targetPercent together are refused", "both-targets", `'spec.objectives[0]' must have 'target' or 'targetPercent', not both`},
		{"two SLIs with one name are refused", "duplicate-name", `document 2 (SLI "errors"): 'metadata.name' is already used by document 1`},
		{"an unknown time zone is refused", "unknown-timezone", `'spec.timeWindow[0].calendar.timeZone' is not a known IANA time zone`},
		{"a gauge is refused", "gauge", `'spec.indicator.spec.ratioMetric.counter' false (a gauge) is not supported`},
		{"a lookback window under 12m is refused", "lookback-short", `'spec.alertPolicies[0].spec.conditions[0].spec.condition.lookbackWindow' must be between 12m`},
		{"an unknown metric source spec key is refused", "source-spec-key", `'spec.indicator.spec.ratioMetric.total.metricSource.spec.region' is not supported`},
		{"a slice window that does not divide an hour is refused", "timeslice-window", `'spec.objectives[0].timeSliceWindow' must be a whole number of minutes that divides 1h`},
		{"a map label is refused", "label-list", `'metadata.labels.owner' must be a string or a list of strings`},
		{"a non-Prometheus source is refused", "other-datasource", `'spec.indicator.spec.ratioMetric.bad.metricSource.type' "Datadog" is not supported`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join("testdata/openslo/invalid", tc.file+".yaml")
			slos, err := Load(path)
			require.Error(t, err)
			assert.Nil(t, slos)
			assert.Contains(t, err.Error(), path+": ")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestOpenSLOCalendarStartAnchorsThePeriods(t *testing.T) {
	slos, err := Load("testdata/openslo/anchored/calendar-mid-month.yaml")
	require.NoError(t, err)
	require.Len(t, slos, 1)
	c := slos[0].Calendar
	require.NotNil(t, c)
	assert.Equal(t, spec.CalendarMonth, c.Unit)
	start, end := c.Bounds(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	assert.Equal(t, time.Date(2026, 2, 15, 0, 0, 0, 0, time.UTC), start, "months run from the 15th, as startTime says")
	assert.Equal(t, time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC), end)
}

func TestInvalidTestdataHasATestEach(t *testing.T) {
	files, err := filepath.Glob("testdata/openslo/invalid/*.yaml")
	require.NoError(t, err)
	assert.Len(t, files, 24, "add a case to TestOpenSLOInvalid for every invalid file")
}

func TestParseOpenSLOFileAlone(t *testing.T) {
	data, err := os.ReadFile("testdata/openslo/valid/checkout.yaml")
	require.NoError(t, err)
	slos, err := Parse("checkout.yaml", data)
	require.NoError(t, err)
	assert.Len(t, slos, 4)

	data, err = os.ReadFile("testdata/openslo/valid/shared-sli.yaml")
	require.NoError(t, err)
	_, err = Parse("shared-sli.yaml", data)
	assert.ErrorContains(t, err, "declares no openslo/v1 document of kind SLO")

	assert.True(t, openslo.Is([]byte("apiVersion: openslo/v1\nkind: SLO\n")))
	assert.False(t, openslo.Is([]byte("version: obsd/v1\n")))
	assert.False(t, openslo.Is([]byte("apiVersion: v1\nkind: ConfigMap\n")))
}

func TestOpenSLOEmptyDocumentsAreSkipped(t *testing.T) {
	data := `# a leading comment
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: a}
spec:
  service: s
  indicator:
    spec:
      ratioMetric:
        bad: {metricSource: {spec: {query: 'x_total{c="1"}'}}}
        total: {metricSource: {spec: {query: x_total}}}
  objectives: [{target: 0.99}]
---
---
`
	slos, err := Parse("f.yaml", []byte(data))
	require.NoError(t, err)
	require.Len(t, slos, 1)
	assert.Equal(t, "a", slos[0].Name)
}

func BenchmarkParseOpenSLO(b *testing.B) {
	data, err := os.ReadFile("testdata/openslo/valid/checkout.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("checkout.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestOpenSLOAsWrittenInTheWild(t *testing.T) {
	for _, tc := range []struct {
		name, file, slo string
		check           func(t *testing.T, s *spec.SLO)
	}{
		{"a top-level YAML list, a DataSource outside the files and a week from Sunday noon", "list.yaml", "orders-availability", func(t *testing.T, s *spec.SLO) {
			require.NotNil(t, s.SLI.Metric)
			assert.Equal(t, "orders_total", s.SLI.Metric.Total.MetricName)
			require.NotNil(t, s.Calendar)
			berlin, _ := time.LoadLocation("Europe/Berlin")
			start, end := s.Calendar.Bounds(time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC))
			assert.Equal(t, time.Date(2026, 3, 1, 12, 0, 0, 0, berlin), start)
			assert.Equal(t, time.Date(2026, 3, 8, 12, 0, 0, 0, berlin), end)
		}},
		{"a JSON document", "doc.json", "search-latency", func(t *testing.T, s *spec.SLO) {
			require.NotNil(t, s.SLI.Latency)
			assert.Equal(t, 0.5, s.SLI.Latency.Threshold)
		}},
		{"a JSON list", "list.json", "cart-errors", func(t *testing.T, s *spec.SLO) {
			require.NotNil(t, s.SLI.Metric)
			assert.InDelta(t, 0.999, s.Objective, 1e-12)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			slos, err := Load(filepath.Join("testdata/openslo/wild", tc.file))
			require.NoError(t, err)
			require.Len(t, slos, 1)
			assert.Equal(t, tc.slo, slos[0].Name)
			tc.check(t, slos[0])
		})
	}
}

func TestOpenSLOListErrorsNameTheItem(t *testing.T) {
	_, err := Parse("l.yaml", []byte("- apiVersion: openslo/v1\n  kind: Service\n  metadata: {name: s}\n- apiVersion: openslo/v1\n  kind: SLO\n  metadata: {name: x}\n  spec: {colour: red}\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `l.yaml: document 2 (SLO "x"): yaml: unmarshal errors:`)
	assert.Contains(t, err.Error(), "field colour not found")
}

// Export-only OpenSLO SLIs: Load (the engine) refuses each with a
// one-line reason; LoadExport (rules, convert) keeps them.
func TestOpenSLOExportOnlyLoads(t *testing.T) {
	const path = "testdata/openslo/wild/export-only.yaml"
	_, err := Load(path)
	require.Error(t, err)
	for _, want := range []string{
		`slo "probe-success": 'spec.indicator.spec.ratioMetric.raw' can only be exported as Prometheus rules (obsd slo rules), not evaluated in-process: a precomputed success ratio`,
		`slo "consumer-lag": 'spec.indicator.spec.thresholdMetric' can only be exported as Prometheus rules (obsd slo rules), not evaluated in-process: the query is not a histogram selector`,
	} {
		assert.Contains(t, err.Error(), want)
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		assert.Contains(t, line, path+": ", "one line per SLO")
	}
	slos, _, err := LoadExport(path)
	require.NoError(t, err)
	require.Len(t, slos, 2)
	assert.Equal(t, `1 - avg_over_time((avg(probe_success{job="blackbox"}))[{{.window}}:])`, slos[0].SLI.PromQL.ErrorRatio)
	assert.Equal(t, `1 - avg_over_time(((sum(min_over_time(kafka_consumergroup_lag{consumergroup="annotator"}[2m]))) <= bool 1000)[{{.window}}:])`, slos[1].SLI.PromQL.ErrorRatio)
}

// Two conditions of one severity keep their own alertAfter: each becomes
// its window pair's 'for', the severity's is the shorter.
func TestOpenSLOConditionsKeepTheirOwnAlertAfter(t *testing.T) {
	policy := func(name string, threshold float64, lookback, after string) string {
		return `
    - kind: AlertPolicy
      metadata: {name: ` + name + `}
      spec:
        conditions:
          - kind: AlertCondition
            metadata: {name: ` + name + `-condition}
            spec:
              severity: page
              condition: {kind: burnrate, op: gte, threshold: ` + strconv.FormatFloat(threshold, 'g', -1, 64) + `, lookbackWindow: ` + lookback + `, alertAfter: ` + after + `}`
	}
	doc := `apiVersion: openslo/v1
kind: SLO
metadata: {name: api}
spec:
  service: api
  indicator:
    metadata: {name: api-errors}
    spec:
      ratioMetric:
        counter: true
        bad: {metricSource: {type: Prometheus, spec: {query: 'http_requests_total{job="api",code=~"5.."}'}}}
        total: {metricSource: {type: Prometheus, spec: {query: 'http_requests_total{job="api"}'}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{targetPercent: 99.9}]
  alertPolicies:` + policy("fast", 14, "1h", "2m") + policy("slow", 7, "6h", "15m") + "\n"
	slos, err := Parse("api.yaml", []byte(doc))
	require.NoError(t, err)
	require.Len(t, slos, 1)
	page := slos[0].Alerting.Page
	assert.Equal(t, []spec.WindowPair{
		{Long: time.Hour, Short: 5 * time.Minute, Factor: 14, For: 2 * time.Minute},
		{Long: 6 * time.Hour, Short: 30 * time.Minute, Factor: 7, For: 15 * time.Minute},
	}, page.Windows)
	assert.Equal(t, 2*time.Minute, page.For)
}
