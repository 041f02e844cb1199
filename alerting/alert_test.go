package alerting

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/api/v2/models"
	amtemplate "github.com/prometheus/alertmanager/template"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/contract"
)

func testBuilder(t *testing.T, tc TemplatesConfig) *builder {
	t.Helper()
	c, err := compileTemplates(tc)
	require.NoError(t, err)
	return &builder{alertName: DefaultAlertName, tmpl: c}
}

func TestBuildAlertLabelsAndAnnotations(t *testing.T) {
	b := testBuilder(t, TemplatesConfig{
		Summary:      DefaultSummaryTemplate,
		Description:  DefaultDescriptionTemplate,
		RunbookURL:   "https://runbooks.example/{{ .Service }}/{{ .SLO }}",
		DashboardURL: "https://grafana.example/d/{{ .SLO }}?var-team={{ .Labels.team }}",
		GeneratorURL: "https://obsd.example/slo/{{ pathEscape .SLO }}",
	})
	tr := sampleTransition
	tr.Labels = map[string]string{"team": "payments", "slo": "must-not-win"}
	tr.Annotations = map[string]string{"owner": "payments", "summary": "overridden by the template"}
	a, err := b.build(&tr)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"alertname": "SLOErrorBudgetBurn", "slo": "checkout-availability", "service": "checkout",
		"severity": "page", "team": "payments", "long_window": "1h", "short_window": "5m",
	}, a.Labels)
	assert.Equal(t, "SLO checkout-availability of checkout is burning its error budget 14.4x too fast", a.Annotations["summary"])
	assert.Equal(t, "Burn rate 14.4x over 1h and 15x over 5m (threshold 14.4x). Objective 99.9%, "+
		"error budget remaining 50%, budget exhausted in 1h30m at the current rate. 150 bad of 1e+04 events over 1h.",
		a.Annotations["description"])
	assert.Equal(t, "https://runbooks.example/checkout/checkout-availability", a.Annotations["runbook_url"])
	assert.Equal(t, "https://grafana.example/d/checkout-availability?var-team=payments", a.Annotations["dashboard_url"])
	assert.Equal(t, "payments", a.Annotations["owner"], "spec annotations are kept")
	assert.Equal(t, "https://obsd.example/slo/checkout-availability", a.GeneratorURL)
	assert.Equal(t, tr.ActiveSince, a.StartsAt)
}

func TestTemplateFunctions(t *testing.T) {
	tests := []struct {
		name, tmpl, want string
		mutate           func(*contract.Transition)
	}{
		{"a budget that is not being exhausted reads never", "{{ duration .TimeToExhaustion }}", "never",
			func(tr *contract.Transition) { tr.TimeToExhaustion = -1 }},
		{"durations are rounded to seconds", "{{ duration .TimeToExhaustion }}", "2m3s",
			func(tr *contract.Transition) { tr.TimeToExhaustion = 123400 * time.Millisecond }},
		{"humanize keeps three significant digits", "{{ humanize .BurnRateLong }}", "3.14",
			func(tr *contract.Transition) { tr.BurnRateLong = 3.14159 }},
		{"an absent SLO label renders empty, not <no value>", "[{{ .Labels.missing }}]", "[]", nil},
		{"query escaping for dashboard variables", "{{ queryEscape .Service }}", "a+b%26c",
			func(tr *contract.Transition) { tr.Service = "a b&c" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := testBuilder(t, TemplatesConfig{Summary: tt.tmpl})
			tr := sampleTransition
			if tt.mutate != nil {
				tt.mutate(&tr)
			}
			a, err := b.build(&tr)
			require.NoError(t, err)
			assert.Equal(t, tt.want, a.Annotations["summary"])
		})
	}
}

func TestRuntimeTemplateErrorDropsOnlyItsAnnotation(t *testing.T) {
	// index on a missing key of a nil map passes the sample (which has
	// labels) but fails with no labels at all.
	b := testBuilder(t, TemplatesConfig{Summary: "ok", RunbookURL: `{{ index .Annotations "owner" | len | printf "%d" }}{{ if eq (len .Labels) 0 }}{{ template "nope" }}{{ end }}`})
	tr := sampleTransition
	tr.Labels = nil
	a, err := b.build(&tr)
	require.Error(t, err)
	assert.Equal(t, "ok", a.Annotations["summary"])
	assert.NotContains(t, a.Annotations, "runbook_url")
}

func TestPostableAlertsJSONIsWhatAlertmanagerDecodes(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	in := []Alert{{Labels: map[string]string{"alertname": "X"}, Annotations: map[string]string{"summary": "s"},
		StartsAt: start, EndsAt: start.Add(4 * time.Minute), GeneratorURL: "http://obsd/x"}}
	data, err := json.Marshal(toPostable(in))
	require.NoError(t, err)
	var out models.PostableAlerts
	require.NoError(t, json.Unmarshal(data, &out))
	require.Len(t, out, 1)
	assert.Equal(t, models.LabelSet{"alertname": "X"}, out[0].Labels)
	assert.Equal(t, "s", out[0].Annotations["summary"])
	assert.True(t, time.Time(out[0].EndsAt).Equal(start.Add(4*time.Minute)))
	assert.Equal(t, "http://obsd/x", out[0].GeneratorURL.String())
}

func TestWebhookPayload(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	alerts := []Alert{
		{Labels: map[string]string{"alertname": "A", "slo": "x", "team": "t"}, StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Minute)},
		{Labels: map[string]string{"alertname": "A", "slo": "y", "team": "t"}, StartsAt: now.Add(-time.Hour), EndsAt: now.Add(-time.Minute)},
	}
	msg := toWebhook("fallback", alerts, now)
	assert.Equal(t, "4", msg.Version)
	assert.Equal(t, "firing", msg.Status, "a group with one firing alert is firing")
	assert.Equal(t, "firing", msg.Alerts[0].Status)
	assert.Equal(t, "resolved", msg.Alerts[1].Status)
	assert.Equal(t, map[string]string{"alertname": "A", "team": "t"}, msg.CommonLabels)
	assert.Equal(t, alerts[0].Fingerprint().String(), msg.Alerts[0].Fingerprint)
	assert.Equal(t, "resolved", toWebhook("f", alerts[1:], now).Status)
}

func TestWebhookPayloadDecodesAsAlertmanagerTemplateData(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	a := Alert{Labels: map[string]string{"alertname": "A", "slo": "x"}, Annotations: map[string]string{"runbook_url": "https://r/x"},
		StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Minute), GeneratorURL: "https://obsd/x"}
	data, err := json.Marshal(toWebhook("oncall", []Alert{a}, now))
	require.NoError(t, err)
	var got amtemplate.Data
	require.NoError(t, json.Unmarshal(data, &got))
	assert.Equal(t, "oncall", got.Receiver)
	assert.Equal(t, "firing", got.Status)
	require.Len(t, got.Alerts, 1)
	assert.Equal(t, "https://r/x", got.Alerts[0].Annotations["runbook_url"])
	assert.Equal(t, "x", got.Alerts[0].Labels["slo"])
	assert.Equal(t, "https://obsd/x", got.Alerts[0].GeneratorURL)
	assert.Equal(t, a.Fingerprint().String(), got.Alerts[0].Fingerprint)
	assert.True(t, got.Alerts[0].EndsAt.Equal(a.EndsAt))
}

// TestDashboardURLMatchesTheGeneratedDashboard: the sloDashboardPath
// template function gives the generated dashboard's path (slo/contract),
// also for names that need a hashed uid.
func TestDashboardURLMatchesTheGeneratedDashboard(t *testing.T) {
	b := testBuilder(t, TemplatesConfig{
		Summary: DefaultSummaryTemplate, Description: DefaultDescriptionTemplate,
		DashboardURL: "https://grafana.example{{ sloDashboardPath .SLO }}",
	})
	for _, name := range []string{"checkout-availability", "search.frontend:spans latency"} {
		tr := sampleTransition
		tr.SLO = name
		a, err := b.build(&tr)
		require.NoError(t, err)
		assert.Equal(t, "https://grafana.example"+contract.DashboardPath(name), a.Annotations[AnnotationDashboardURL])
	}
}
