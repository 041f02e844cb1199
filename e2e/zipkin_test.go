package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// TestZipkinV2JSON posts a Zipkin v2 JSON span, as Zipkin reporters do, and
// checks service name, ids, parent and tags at the sink.
func TestZipkinV2JSON(t *testing.T) {
	s := sink.NewOTLP(t)
	p := newPorts(t)
	zipkinPort := harness.FreePort(t)
	receivers := fmt.Sprintf(`
  zipkin:
    endpoint: 127.0.0.1:%d`, zipkinPort)
	pipelines := `
    traces:
      receivers: [zipkin]
      processors: [memory_limiter]
      exporters: [otlp_grpc]`
	harness.Start(t, baseConfig(p, s, receivers, pipelines))

	const body = `[{"traceId":"5af7183fb1d4cf5f","parentId":"6b221d5bc9e6496c","id":"352bff9a74ca9ad2",
"kind":"SERVER","name":"get /api","timestamp":1700000000000000,"duration":207000,
"localEndpoint":{"serviceName":"legacy-zipkin"},"tags":{"http.path":"/api","http.status_code":"200"}}]`
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/api/v2/spans", zipkinPort), "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST /api/v2/spans = %s", resp.Status)
	}
	harness.Eventually(t, 20*time.Second, func() bool { return s.SpanCount() == 1 }, "sink has %d spans, want 1", s.SpanCount())
	span, ok := spansByName(s)["get /api"]
	if !ok {
		t.Fatalf("no span named %q at the sink", "get /api")
	}
	if got := span.TraceID().String(); got != "00000000000000005af7183fb1d4cf5f" {
		t.Errorf("trace id %s, want the 64-bit id left-padded", got)
	}
	if got := span.ParentSpanID().String(); got != "6b221d5bc9e6496c" {
		t.Errorf("parent span id %s", got)
	}
	if v, _ := span.Attributes().Get("http.path"); v.AsString() != "/api" {
		t.Errorf("tag http.path lost: %v", span.Attributes().AsRaw())
	}
	for _, td := range s.Traces() {
		if got := attrString(td.ResourceSpans().At(0).Resource().Attributes(), "service.name"); got != "legacy-zipkin" {
			t.Errorf("service.name = %q", got)
		}
	}
}
