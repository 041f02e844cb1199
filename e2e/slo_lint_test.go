package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/obsd-dev/obsd/e2e/harness"
)

// TestSLOLint runs the real `obsd slo lint` the way a CI job does: the
// shipped example SLO file is clean, a file with a mistake fails with
// file:line, an unreadable input exits 2.
func TestSLOLint(t *testing.T) {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.yaml")
	if err := os.WriteFile(broken, []byte(`version: obsd/v1
slos:
  - name: api
    service: api
    objective: 99.9
    sli:
      metric:
        bad: 'http_requests_total{job="api",code="200",code=~"5.."}'
        total: 'http_requests_total{job="api"}'
    alerting: {runbook_url: https://runbooks.example/api}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"the example SLO file passes", []string{filepath.Join(root, "slo.example.yaml"), "--allow-missing-runbook"}, 0, ""},
		{"a selector that can never match fails with its line", []string{broken}, 1, broken + ":8: error: slo \"api\": bad selector"},
		{"a missing file exits 2", []string{filepath.Join(dir, "nope.yaml")}, 2, "nope.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code := harness.Run(t, time.Minute, append([]string{"slo", "lint"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.code, out)
			}
			if tc.want != "" && !strings.Contains(out, tc.want) {
				t.Fatalf("output lacks %q:\n%s", tc.want, out)
			}
		})
	}
}
