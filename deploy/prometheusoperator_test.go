package deploy

import (
	"os/exec"
	"testing"
)

// TestPrometheusOperatorModule runs the tests of the nested module
// deploy/prometheusoperator (the chart's ServiceMonitor, PodMonitor,
// PrometheusRule and dashboard ConfigMaps, decoded into the Prometheus
// Operator's own types), so that `go test ./...` at the repository root
// runs them too. The module is separate because the operator's API types
// need newer k8s.io modules than obsd's build.
func TestPrometheusOperatorModule(t *testing.T) {
	for _, args := range [][]string{{"vet", "./..."}, {"test", "-count=1", "./..."}} {
		cmd := exec.Command("go", args...)
		cmd.Dir = "prometheusoperator"
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %v in deploy/prometheusoperator: %v\n%s", args, err, out)
		}
	}
}
