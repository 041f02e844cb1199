package openslo

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/spec"
)

func FuzzLoadOpenSLO(f *testing.F) {
	for _, glob := range []string{"../testdata/openslo/*.yaml", "../testdata/openslo/valid/*.yaml", "../testdata/openslo/invalid/*.yaml"} {
		files, err := filepath.Glob(glob)
		if err != nil {
			f.Fatal(err)
		}
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := NewSet()
		s.Add("fuzz.yaml", data)
		slos, _ := s.Convert() // valid SLOs may sit next to errors of other documents
		for _, s := range slos {
			if !(s.Objective > 0 && s.Objective < 1) {
				t.Fatalf("accepted objective %v", s.Objective)
			}
			if s.SLI.Metric == nil && s.SLI.Latency == nil && s.SLI.PromQL == nil {
				t.Fatalf("accepted an SLO without SLI: %+v", s)
			}
			if s.Period < time.Hour {
				t.Fatalf("accepted period %s", s.Period)
			}
		}
	})
}

func TestOpenSLOSetRefusesAliasBombs(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: openslo/v1\nkind: Service\nmetadata: {name: s}\nspec:\n  description: x\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	s := NewSet()
	s.Add("bomb.yaml", []byte(b.String()))
	_, err := s.Convert()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bomb.yaml: ")
	assert.Contains(t, err.Error(), "YAML aliases expand too far")
}

// An SLO may reference an SLI of another file in a Set; Parse resolves
// within its file only.
func TestSetResolvesReferencesAcrossFiles(t *testing.T) {
	sli := []byte("apiVersion: openslo/v1\nkind: SLI\nmetadata: {name: errors}\nspec:\n  ratioMetric:\n" +
		"    bad: {metricSource: {spec: {query: 'x_total{c=\"5\"}'}}}\n    total: {metricSource: {spec: {query: x_total}}}\n")
	slo := []byte("apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec:\n  service: s\n  indicatorRef: errors\n" +
		"  objectives: [{target: 0.99}]\n")
	s := NewSet()
	s.Add("sli.yaml", sli)
	s.Add("slo.yaml", slo)
	slos, err := s.Convert()
	require.NoError(t, err)
	require.Len(t, slos, 1)
	assert.Equal(t, "x_total", slos[0].SLI.Metric.Total.MetricName)
	assert.Equal(t, "slo.yaml", slos[0].Source)

	_, err = Parse("slo.yaml", slo)
	assert.EqualError(t, err, `slo.yaml: document 1 (SLO "a"): 'spec.indicatorRef' names no SLI document "errors" in the loaded files`)
	assert.True(t, Is(slo))
	assert.False(t, Is([]byte("version: obsd/v1\napiVersion: openslo/v1\n")), "a version key is not OpenSLO")
}

// sloWith is a valid SLO document with extra YAML under metadata
// (meta) and spec (extra), each line indented for its place.
func sloWith(meta, extra string) []byte {
	return []byte("apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: a\n" + meta + "spec:\n  service: s\n" +
		"  indicator:\n    spec:\n      ratioMetric:\n" +
		"        bad: {metricSource: {spec: {query: 'x_total{c=\"5\"}'}}}\n        total: {metricSource: {spec: {query: x_total}}}\n" +
		"  objectives: [{target: 0.99}]\n" + extra)
}

// OpenSLO v1 labels are a string or a list of strings per key (the
// spec and its Go SDK); obsd labels are strings: a list is joined with ",".
func TestLabelValues(t *testing.T) {
	for _, tc := range []struct {
		name, labels string
		want         map[string]string
		err          string
	}{
		{"a string", "    team: payments\n", map[string]string{"team": "payments"}, ""},
		{"a list of one", "    single: [green]\n", map[string]string{"single": "green"}, ""},
		{"a list joined with commas", "    multiple:\n      - one\n      - two\n", map[string]string{"multiple": "one,two"}, ""},
		{"string and lists together", "    inline: test\n    tags: [a, b]\n", map[string]string{"inline": "test", "tags": "a,b"}, ""},
		{"an empty list", "    none: []\n", map[string]string{"none": ""}, ""},
		{"a map value", "    owner: {team: x}\n", nil, `'metadata.labels.owner' must be a string or a list of strings`},
		{"a list holding a map", "    tags: [{a: b}]\n", nil, `'metadata.labels.tags[0]' must be a string`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if s := parseOne(t, "l.yaml", sloWith("  labels:\n"+tc.labels, ""), tc.err); s != nil {
				assert.Equal(t, tc.want, s.Labels)
			}
		})
	}
}

// OpenSLO v1 alert policies are inline AlertPolicy objects or
// {alertPolicyRef: NAME}; a plain string (as older tools wrote them) is
// refused with the field and what to write, not a YAML type error.
func TestAlertPolicyAsPlainString(t *testing.T) {
	policy := "---\napiVersion: openslo/v1\nkind: AlertPolicy\nmetadata: {name: fast-burn}\nspec:\n  conditions:\n" +
		"    - kind: AlertCondition\n      metadata: {name: c}\n      spec:\n        severity: page\n" +
		"        condition: {kind: burnrate, op: gte, threshold: 14.4, lookbackWindow: 1h, alertAfter: 0s}\n"
	for _, tc := range []struct {
		name, policies, extra string
		want                  []string
	}{
		{"a string naming no document", "  alertPolicies: [FooAlertPolicy]\n", "",
			[]string{`l.yaml: document 1 (SLO "a"): 'spec.alertPolicies[0]' is the plain string "FooAlertPolicy"`,
				`an inline AlertPolicy or a reference: write '- alertPolicyRef: FooAlertPolicy' with a document of kind: AlertPolicy named "FooAlertPolicy"`}},
		{"a string naming a loaded AlertPolicy", "  alertPolicies:\n    - fast-burn\n", policy,
			[]string{`'spec.alertPolicies[0]' is the plain string "fast-burn"`, `write '- alertPolicyRef: fast-burn'`}},
		{"the second item", "  alertPolicies:\n    - alertPolicyRef: fast-burn\n    - other\n", policy,
			[]string{`'spec.alertPolicies[1]' is the plain string "other"`}},
		{"an inline policy is still decoded strictly", "  alertPolicies:\n    - kind: AlertPolicy\n      colour: red\n", "",
			[]string{"field colour not found"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("l.yaml", append(sloWith("", tc.policies), tc.extra...))
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "cannot unmarshal")
		})
	}
	slos, err := Parse("l.yaml", append(sloWith("", "  alertPolicies:\n    - alertPolicyRef: fast-burn\n"), policy...))
	require.NoError(t, err, "the reference the error asks for loads")
	require.Len(t, slos, 1)
	assert.True(t, slos[0].Alerting.Page.Enabled)
}

// A raw ratio and a threshold over a query that is not a histogram are
// values only Prometheus sees: they load export-only (spec.PromQLRatio),
// with the error ratio Prometheus computes over each window.
func TestExportOnlyIndicators(t *testing.T) {
	src := func(q string) string { return "{metricSource: {type: Prometheus, spec: {query: '" + q + "'}}}" }
	threshold := func(q, objective string) []byte {
		return []byte("apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec:\n  service: s\n" +
			"  indicator:\n    spec:\n      thresholdMetric: " + src(q) + "\n  objectives: [" + objective + "]\n")
	}
	ratio := func(fields string) []byte {
		return []byte("apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: a}\nspec:\n  service: s\n" +
			"  indicator:\n    spec:\n      ratioMetric: {" + fields + "}\n  objectives: [{target: 0.99}]\n")
	}
	lag := `sum(min_over_time(kafka_consumergroup_lag{topic="in"}[2m]))`
	for _, tc := range []struct {
		name  string
		doc   []byte
		ratio string // the exported error ratio, or
		err   string // the error
	}{
		{"raw failure ratio of a recorded series", ratio("rawType: failure, raw: " + src(`job:error_ratio{job="api"}`)),
			`avg_over_time(job:error_ratio{job="api"}[{{.window}}])`, ""},
		{"raw success ratio of an expression", ratio("rawType: success, raw: " + src(`sum(up{job="api"}) / count(up{job="api"})`)),
			`1 - avg_over_time((sum(up{job="api"}) / count(up{job="api"}))[{{.window}}:])`, ""},
		{"raw ratio over the window as written", ratio("rawType: failure, raw: " + src(`sum(rate(e[{{.window}}])) / sum(rate(t[{{.window}}]))`)),
			`(sum(rate(e[{{.window}}])) / sum(rate(t[{{.window}}])))`, ""},
		{"raw without rawType", ratio("raw: " + src("r")), "", `'spec.indicator.spec.ratioMetric.rawType' must be success or failure with 'raw', got ""`},
		{"raw with total", ratio("rawType: failure, raw: " + src("r") + ", total: " + src("t")), "", `'spec.indicator.spec.ratioMetric' must have 'raw' or 'good'/'bad' with 'total', not both`},
		{"raw of another source", ratio("rawType: failure, raw: {metricSource: {type: Datadog, spec: {query: r}}}"), "",
			`'spec.indicator.spec.ratioMetric.raw.metricSource.type' "Datadog" is not supported`},
		{"raw invalid PromQL", ratio("rawType: failure, raw: " + src("sum(")), "", `'spec.indicator.spec.ratioMetric.raw.metricSource.spec.query' is not valid PromQL`},
		{"gauge at most a value", threshold(lag, "{op: lte, value: 100, target: 0.99}"),
			`1 - avg_over_time(((` + lag + `) <= bool 100)[{{.window}}:])`, ""},
		{"gauge above a value", threshold(lag, "{op: gt, value: 0.5, target: 0.99}"),
			`1 - avg_over_time(((` + lag + `) > bool 0.5)[{{.window}}:])`, ""},
		{"gauge without value", threshold(lag, "{op: gt, target: 0.99}"), "",
			`'spec.objectives[0].value' is required for a thresholdMetric: the value the query is compared with (op gt)`},
		{"gauge with an unknown op", threshold(lag, "{op: eq, value: 1, target: 0.99}"), "", `'spec.objectives[0].op' must be lt, lte, gt or gte, got "eq"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := parseOne(t, "x.yaml", tc.doc, tc.err)
			if s == nil {
				return
			}
			p := s.SLI.PromQL
			require.NotNil(t, p)
			assert.Equal(t, tc.ratio, p.ErrorRatio)
			assert.NotEmpty(t, s.ExportOnly())
		})
	}
}

// obsd's calendar periods are one week, month or quarter
// (spec.CalendarPeriod has no day or multi-unit length): other calendar
// durations are refused with what to write instead.
func TestCalendarDurations(t *testing.T) {
	for _, tc := range []struct {
		duration string
		unit     spec.CalendarUnit // or
		err      string
	}{
		{"1w", spec.CalendarWeek, ""},
		{"1M", spec.CalendarMonth, ""},
		{"1Q", spec.CalendarQuarter, ""},
		{"1d", "", `'spec.timeWindow[0].duration' must be 1w, 1M or 1Q for a calendar window, got "1d": obsd's calendar periods are one week, month or quarter; for 1d write a rolling window (isRolling: true, no calendar)`},
		{"2w", "", `got "2w": obsd's calendar periods are one week, month or quarter; for 2w write a rolling window (isRolling: true, no calendar)`},
		{"2M", "", `got "2M": obsd's calendar periods are one week, month or quarter; for 2M write days as a rolling window (e.g. 61d)`},
		{"1Y", "", `got "1Y": obsd's calendar periods are one week, month or quarter; for 1Y write days as a rolling window (e.g. 365d)`},
	} {
		t.Run(tc.duration, func(t *testing.T) {
			doc := sloWith("", "  timeWindow:\n    - duration: "+tc.duration+"\n      isRolling: false\n      calendar: {startTime: 2024-01-01 00:00:00, timeZone: UTC}\n")
			s := parseOne(t, "c.yaml", doc, tc.err)
			if s == nil {
				return
			}
			require.NotNil(t, s.Calendar)
			assert.Equal(t, tc.unit, s.Calendar.Unit)
		})
	}
}

// parseOne parses doc; with wantErr it expects an error containing it and
// returns nil, else the file's one SLO.
func parseOne(t *testing.T, file string, doc []byte, wantErr string) *spec.SLO {
	t.Helper()
	slos, err := Parse(file, doc)
	if wantErr != "" {
		require.Error(t, err)
		assert.Contains(t, err.Error(), wantErr)
		return nil
	}
	require.NoError(t, err)
	require.Len(t, slos, 1)
	return slos[0]
}
