package prometheusoperator

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// ownSLOs and otherSLOs are SLO files of a user; rules and dashboards
// generated from one must be refused with the other.
const (
	ownSLOs = "testdata/payments.yaml"
	// otherSLOs differs from ownSLOs in one objective.
	otherSLOs = "testdata/payments-changed.yaml"
)

// TestChartTakesGeneratedRulesAndDashboardsOfItsSLOs: the documented
// workflow. The user generates the rules and dashboards of their SLO files
// with obsd and gives both with --set-file; the chart renders exactly what
// obsd generated.
func TestChartTakesGeneratedRulesAndDashboardsOfItsSLOs(t *testing.T) {
	rulesFile := writeFile(t, "slo-rules.yaml", obsd(t, "slo", "rules", "--slo", ownSLOs, "--format", "prometheus-operator"))
	dashFile := writeFile(t, "dashboards.yaml", obsd(t, "dashboards", "generate", "--slo", ownSLOs, "--format", "configmap"))
	r := render(t, "--set", "mode=deployment,"+allSwitches,
		"--set-file", `slos.payments\.yaml=`+ownSLOs,
		"--set-file", "prometheusRule.sloRules="+rulesFile,
		"--set-file", "dashboards.generated="+dashFile)

	pr, ok := r.rules["obsd-slo-rules"]
	if !ok {
		t.Fatal("no obsd-slo-rules PrometheusRule")
	}
	if want := ruleGroups(t, obsd(t, "slo", "rules", "--slo", ownSLOs)); !reflect.DeepEqual(pr.Spec.Groups, want) {
		t.Errorf("the rendered SLO rules differ from `obsd slo rules`")
	}
	if len(pr.Spec.Groups) != 2 {
		t.Errorf("want the rule groups of both metric SLOs, got %d", len(pr.Spec.Groups))
	}
	promtoolCheck(t, "payments", pr.Spec.Groups)

	want := generatedDashboards(t, ownSLOs)
	got := r.dashboards(t)
	if len(got) != len(want) {
		t.Errorf("%d dashboards, want %d", len(got), len(want))
	}
	for key, json := range want {
		if got[key].Data[key] != json {
			t.Errorf("%s is not the JSON `obsd dashboards generate` writes", key)
		}
	}
	if r.configMaps["obsd-slos"].Data["payments.yaml"] == "" {
		t.Error("the SLO file is mounted")
	}
}

func TestChartRefusesWhatCannotWork(t *testing.T) {
	ownRules := writeFile(t, "own-rules.yaml", obsd(t, "slo", "rules", "--slo", ownSLOs, "--format", "prometheus-operator"))
	otherRules := writeFile(t, "other-rules.yaml", obsd(t, "slo", "rules", "--slo", otherSLOs, "--format", "prometheus-operator"))
	plainRules := writeFile(t, "plain-rules.yaml", obsd(t, "slo", "rules", "--slo", ownSLOs))
	otherDash := writeFile(t, "other-dash.yaml", obsd(t, "dashboards", "generate", "--slo", otherSLOs, "--format", "configmap"))
	hand := writeFile(t, "hand.yaml", strings.ReplaceAll(readFile(t, ownRules), "obsd.dev/slo-files-sha256", "example.com/note"))
	own := []string{"--set-file", `slos.payments\.yaml=` + ownSLOs}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"SLO rules generated from other SLO files",
			append([]string{"--set", "prometheusRule.enabled=true", "--set-file", "prometheusRule.sloRules=" + otherRules}, own...),
			"prometheusRule.sloRules was generated from other SLO files than the chart's slos"},
		{"dashboards generated from other SLO files",
			append([]string{"--set", "dashboards.enabled=true", "--set-file", "dashboards.generated=" + otherDash}, own...),
			"dashboards.generated was generated from other SLO files than the chart's slos"},
		{"the example's rules with the user's SLO files",
			append([]string{"--set", "prometheusRule.enabled=true"}, own...),
			"prometheusRule.enabled with your own slos needs their rules in prometheusRule.sloRules"},
		{"the example's dashboards with the user's SLO files",
			append([]string{"--set", "dashboards.enabled=true"}, own...),
			"dashboards.enabled with your own slos needs their dashboards in dashboards.generated"},
		{"a rule file instead of a PrometheusRule",
			append([]string{"--set", "prometheusRule.enabled=true", "--set-file", "prometheusRule.sloRules=" + plainRules}, own...),
			`prometheusRule.sloRules is not a PrometheusRule (kind "", a Prometheus rule file)`},
		{"dashboards that are not ConfigMaps",
			append([]string{"--set", "dashboards.enabled=true", "--set-file", "dashboards.generated=" + ownRules}, own...),
			`dashboards.generated document 1 is not a ConfigMap (kind "PrometheusRule")`},
		{"a PrometheusRule without the digest",
			append([]string{"--set", "prometheusRule.enabled=true", "--set-file", "prometheusRule.sloRules=" + hand}, own...),
			"has no obsd.dev/slo-files-sha256 annotation"},
		{"rules for the user's SLO files without those files",
			[]string{"--set", "prometheusRule.enabled=true", "--set-file", "prometheusRule.sloRules=" + ownRules},
			"generated from other SLO files"},
		{"a ServiceMonitor and a PodMonitor at once",
			[]string{"--set", "serviceMonitor.enabled=true,podMonitor.enabled=true"}, "would scrape every obsd pod twice"},
		{"a ServiceMonitor without the Service", []string{"--set", "serviceMonitor.enabled=true,service.enabled=false"}, "serviceMonitor.enabled needs service.enabled"},
		{"ports without the metrics port", []string{"--set", "podMonitor.enabled=true,mode=deployment", "--set-json",
			`deployment.ports=[{"name":"otlp-grpc","containerPort":4317,"protocol":"TCP"}]`}, "deployment.ports has no port named metrics"},
		{"a number as the sidecar's label value", []string{"--set", "dashboards.enabled=true,dashboards.labels.grafana_dashboard=1"},
			"/dashboards/labels/grafana_dashboard"},
		{"a scrape interval Prometheus cannot read", []string{"--set", "serviceMonitor.enabled=true,serviceMonitor.interval=30"}, "/serviceMonitor/interval"},
		{"a runbook base that is not a URL", []string{"--set", "prometheusRule.enabled=true,prometheusRule.runbookBaseURL=docs/runbooks"}, "/prometheusRule/runbookBaseURL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"template", "obsd", chartDir}, tt.args...)
			out, err := helm(t, args...)
			if err == nil || !strings.Contains(out, tt.want) {
				t.Errorf("helm %v: want an error with %q, got %v:\n%.3000s", args, tt.want, err, out)
			}
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
