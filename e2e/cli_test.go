package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/obsd-dev/obsd/e2e/harness"
)

// TestExampleConfigValidates runs `obsd validate` on config.example.yaml.
func TestExampleConfigValidates(t *testing.T) {
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("OBSD_STORAGE_DIR", t.TempDir())
	t.Setenv("OBSD_SLO_FILES", filepath.Join(root, "slo.example.yaml"))
	out, code := harness.Run(t, time.Minute, "validate", "--config", filepath.Join(root, "config.example.yaml"))
	if code != 0 {
		t.Fatalf("obsd validate config.example.yaml exited %d:\n%s", code, out)
	}
}

// TestEmbeddedDefaultConfigValidates checks that `obsd validate` with no
// --config validates the embedded default.
func TestEmbeddedDefaultConfigValidates(t *testing.T) {
	out, code := harness.Run(t, time.Minute, "validate")
	if code != 0 {
		t.Fatalf("obsd validate (embedded default) exited %d:\n%s", code, out)
	}
}

// TestInvalidConfigNamesTheBadKey: both `obsd validate` and running obsd on
// a config with a misspelt or invalid key exit non-zero naming the key.
func TestInvalidConfigNamesTheBadKey(t *testing.T) {
	cases := []struct {
		name, yaml, wantInOutput string
	}{
		{
			name: "a misspelt key",
			yaml: `
receivers:
  otlp:
    protocols:
      grpc:
        endpont: 127.0.0.1:4317
exporters:
  debug:
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [debug]}
`,
			wantInOutput: "endpont",
		},
		{
			name: "an invalid value",
			yaml: `
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
processors:
  memory_limiter:
    check_interval: 0s
exporters:
  debug:
service:
  pipelines:
    traces: {receivers: [otlp], processors: [memory_limiter], exporters: [debug]}
`,
			wantInOutput: "check_interval",
		},
		{
			name: "a pipeline naming an undefined exporter",
			yaml: `
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
exporters:
  debug:
service:
  pipelines:
    traces: {receivers: [otlp], exporters: [otlp_grpc/nowhere]}
`,
			wantInOutput: "otlp_grpc/nowhere",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, args := range [][]string{{"validate", "--config", path}, {"--config", path}} {
				out, code := harness.Run(t, time.Minute, args...)
				if code == 0 {
					t.Errorf("obsd %v exited 0 on a bad config:\n%s", args, out)
				}
				if !strings.Contains(out, tc.wantInOutput) {
					t.Errorf("obsd %v output does not name %q:\n%s", args, tc.wantInOutput, out)
				}
			}
		})
	}
}

// TestSubcommands checks the collector's subcommands answer.
func TestSubcommands(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"--version"}, []string{"obsd version"}},
		{[]string{"components"}, []string{"name: otlp\n", "name: jaeger\n", "name: prometheus\n", "name: zipkin\n", "name: lokipush\n",
			"name: memory_limiter\n", "name: batch\n", "name: resource\n", "name: correlation\n",
			"name: otlp_grpc\n", "name: otlp_http\n", "name: debug\n", "name: prometheus_remote_write\n", "name: loki\n",
			"name: span_metrics\n", "name: forward\n", "name: slo\n",
			"name: health_check\n", "name: file_storage\n", "name: zpages\n", "name: pprof\n", "name: bearertokenauth\n", "name: ratelimit\n",
			"name: tenant\n", "name: tls_identity\n", "name: oversize\n", "name: wal_storage\n",
			"name: circuit_breaker\n", "name: shed\n", "name: statuspage\n", "name: k8smeta\n"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, code := harness.Run(t, time.Minute, tc.args...)
			if code != 0 {
				t.Fatalf("obsd %v exited %d:\n%s", tc.args, code, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("obsd %v output lacks %q", tc.args, w)
				}
			}
		})
	}
}
