package correlation

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenBatch is a mixed batch: every outcome, several formats, two services.
func goldenBatch() plog.Logs {
	ld := newLogs(map[string]any{"service.name": "checkout", "k8s.namespace.name": "prod"},
		record{trace: w3cTrace, span: w3cSpan, body: "already correlated"},
		record{body: `{"msg":"paid","trace_id":"` + w3cTrace + `","span_id":"` + w3cSpan + `","request_id":"req-7"}`},
		record{attrs: map[string]any{"traceparent": w3cHdr}, body: "from header"},
		record{body: `level=info dd.trace_id=1234567890123456789 dd.span_id=987654321 msg="datadog"`},
		record{body: `{"trace":{"trace":"a3ce929d0e0e4736","span":"` + w3cSpan + `"},"msg":"jaeger zap"}`},
		record{body: "GET /health 200", severity: plog.SeverityNumberInfo},
		record{attrs: map[string]any{"trace_id": "00000000000000000000000000000000"}, body: "zero"},
		record{body: "boom without ids", severity: plog.SeverityNumberError},
	)
	appendResource(ld, map[string]any{"service.name": "legacy", "k8s.namespace.name": "staging"},
		record{attrs: map[string]any{"uber-trace-id": "abc:de:0:1"}, body: "jaeger header"},
		record{body: "no ids at all", attrs: map[string]any{"X-Request-Id": "legacy-1"}},
	)
	return ld
}

func goldenPolicies() *Config {
	cfg := createDefaultConfig().(*Config)
	cfg.DefaultPolicy = PolicyConfig{Name: "default", Action: ActionTag}
	cfg.Policies = []PolicyConfig{
		{Name: "strict", Match: map[string][]string{"service.name": {"checkout"}}, Action: ActionDrop, ExemptMinSeverity: "error"},
		{Name: "quarantine", Match: map[string][]string{"k8s.namespace.name": {"staging"}}, Action: ActionRoute},
	}
	return cfg
}

func TestGoldenBatches(t *testing.T) {
	tests := map[string]struct {
		file string
		cfg  func() *Config
	}{
		"the tag policy lifts ids and tags every record":                {"tag", tagConfig},
		"drop and route policies apply per resource with an exemption":  {"policies", goldenPolicies},
		"the default observe policy lifts ids and changes nothing else": {"observe", func() *Config { return createDefaultConfig().(*Config) }},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			inPath := filepath.Join("testdata", "golden", tt.file+"_in.json")
			outPath := filepath.Join("testdata", "golden", tt.file+"_out.json")
			if *update {
				writeGolden(t, inPath, goldenBatch())
			}
			in, err := os.ReadFile(inPath)
			require.NoError(t, err)
			ld, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(in)
			require.NoError(t, err)
			h := newHarness(t, tt.cfg())
			out := h.consume(ld)
			if *update {
				writeGolden(t, outPath, out)
			}
			want, err := os.ReadFile(outPath)
			require.NoError(t, err)
			require.Equal(t, string(want), string(marshalGolden(t, out)))
		})
	}
}

func marshalGolden(t *testing.T, ld plog.Logs) []byte {
	t.Helper()
	raw, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, json.Indent(&buf, raw, "", "  "))
	buf.WriteByte('\n')
	return buf.Bytes()
}

func writeGolden(t *testing.T, path string, ld plog.Logs) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, marshalGolden(t, ld), 0o644))
}
