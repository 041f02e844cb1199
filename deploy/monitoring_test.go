package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/obsd-dev/obsd/alerting/selfrules"
	"github.com/obsd-dev/obsd/internal/k8smanifest"
	"github.com/obsd-dev/obsd/slo/contract"
)

// generatedChartFiles are the chart's pre-generated rules and dashboards
// for the example SLOs (Helm cannot run obsd), each with the obsd command
// that writes it, run from the repository root. The chart README gives the
// same commands.
var generatedChartFiles = []struct {
	file string
	args []string
}{
	{"self-alerts.yaml", []string{"rules", "self", "--format", "prometheus-operator"}},
	{"slo-rules.yaml", []string{"slo", "rules", "--slo", "slo.example.yaml", "--format", "prometheus-operator"}},
	{"dashboards.yaml", []string{"dashboards", "generate", "--slo", "slo.example.yaml", "--format", "configmap"}},
}

// TestHelmChartGeneratedFilesMatchTheCommands fails while a file in the
// chart's files/generated/ differs from what its obsd command writes now;
// `go test ./deploy -run TestHelmChartGeneratedFiles -update` rewrites them.
func TestHelmChartGeneratedFilesMatchTheCommands(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join(chartDir, "files", "generated"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(generatedChartFiles) {
		t.Errorf("files/generated holds %d files, the test knows %d", len(entries), len(generatedChartFiles))
	}
	for _, g := range generatedChartFiles {
		cmd := exec.Command(obsdBinary(t), g.args...)
		cmd.Dir = ".."
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("obsd %v: %v\n%s", g.args, err, stderr.String())
		}
		checkGolden(t, filepath.Join(chartDir, "files", "generated", g.file), out)
	}
}

// TestHelmChartMonitoringContracts: the chart's templates name what obsd's
// Go code owns (Helm cannot import it); a rename on either side fails here.
func TestHelmChartMonitoringContracts(t *testing.T) {
	for file, wants := range map[string][]string{
		"templates/_monitoring.tpl":     {`"` + k8smanifest.SLOFilesDigestAnnotation + `"`},
		"templates/prometheusrule.yaml": {`"` + selfrules.DefaultRunbookBaseURL + `/"`, k8smanifest.SLOFilesDigestAnnotation + ":"},
		"templates/dashboards.yaml":     {`"` + contract.AgentHealthDashboardUID + `.json"`},
		"values.yaml":                   {"runbookBaseURL: " + selfrules.DefaultRunbookBaseURL + "\n"},
	} {
		src := readFile(t, filepath.Join(chartDir, file))
		for _, want := range wants {
			if !strings.Contains(src, want) {
				t.Errorf("%s must contain %s", file, want)
			}
		}
	}
}
