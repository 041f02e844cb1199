package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/obsd-dev/obsd/e2e/harness"
)

// TestSLOLint runs the real `obsd slo lint` the way a CI job does: the
// shipped example SLO file is clean as the README lints it (from the
// repository root, no flags), a file with a mistake fails with file:line,
// an unreadable input exits 2.
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
		// README: go run ./cmd/obsd slo lint slo.example.yaml
		{"the example SLO file passes as the README lints it", []string{"slo.example.yaml"}, 0, ""},
		{"a selector that can never match fails with its line", []string{broken}, 1, broken + ":8: error: slo \"api\": bad selector"},
		{"a missing file exits 2", []string{filepath.Join(dir, "nope.yaml")}, 2, "nope.yaml"},
		// Sloth's own getting-started file: no runbook is a warning, not a failure.
		{"Sloth's getting-started file passes", []string{"slo/formats/sloth/testdata/published/examples__getting-started.yml"}, 0,
			"warning: slo \"myservice-requests-availability\": page alerts have no runbook URL"},
		{"--strict fails it", []string{"--strict", "slo/formats/sloth/testdata/published/examples__getting-started.yml"}, 1,
			"error: slo \"myservice-requests-availability\": page alerts have no runbook URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, code := runIn(t, root, append([]string{"slo", "lint"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d:\n%s", code, tc.code, out)
			}
			if tc.want != "" && !strings.Contains(out, tc.want) {
				t.Fatalf("output lacks %q:\n%s", tc.want, out)
			}
		})
	}
}

// TestSLOConvert runs the real `obsd slo convert` on a Sloth CRD and a
// Pyrra file, then loads its output with `obsd slo rules`: a team moves
// its SLO files over in two commands.
func TestSLOConvert(t *testing.T) {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "slos.yaml")
	msg, code := runIn(t, root, "slo", "convert", "-o", out, "slo/formats/sloth/testdata/crd.yaml",
		"slo/formats/pyrra/testdata/published/examples__kubernetes__slos__prometheus-http-errors.yaml")
	if code != 0 {
		t.Fatalf("convert exit %d:\n%s", code, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), "version: obsd/v1\n") {
		t.Fatalf("not an obsd/v1 file:\n%s", data)
	}
	rules, code := runIn(t, root, "slo", "rules", "--slo", out)
	if code != 0 {
		t.Fatalf("rules exit %d:\n%s", code, rules)
	}
	for _, want := range []string{"name: obsd-slo-checkout-requests-availability", "name: obsd-slo-search-latency", "name: obsd-slo-prometheus-http-errors"} {
		if !strings.Contains(rules, want) {
			t.Fatalf("rules lack %q:\n%s", want, rules)
		}
	}
	msg, code = runIn(t, root, "slo", "convert", "slo/formats/sloth/testdata/raw.yaml")
	if code == 0 || !strings.Contains(msg, `slo "payments-queue-health": 'sli.raw.error_ratio_query' can only be exported`) {
		t.Fatalf("convert of an export-only SLO: exit %d:\n%s", code, msg)
	}
}

// runIn runs the obsd binary with args in dir and returns its combined
// output and exit code.
func runIn(t *testing.T, dir string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, harness.Binary(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exitErr):
		return string(out), exitErr.ExitCode()
	}
	t.Fatalf("run obsd %v: %v", args, err)
	return "", -1
}
