package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/obsd-dev/obsd/e2e/harness"
)

// TestNoFlagsRunsEmbeddedDefault is the newcomer's path: `obsd` with no
// flags answers health on 127.0.0.1:13133, accepts an OTLP/HTTP JSON span on
// 127.0.0.1:4318 and prints it with the debug exporter.
func TestNoFlagsRunsEmbeddedDefault(t *testing.T) {
	obsd := harness.StartDefault(t)

	const span = `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"newcomer"}}]},
"scopeSpans":[{"spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7",
"name":"first-span","kind":2,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000001000000000"}]}]}]}`
	resp, err := http.Post("http://127.0.0.1:4318/v1/traces", "application/json", strings.NewReader(span))
	if err != nil {
		t.Fatalf("POST span: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /v1/traces = %d %s, want 200", resp.StatusCode, body)
	}
	if !obsd.WaitOutput("first-span", 10*time.Second) {
		t.Errorf("the debug exporter did not print the span:\n%s", obsd.Output())
	}
	if got := harness.Sum(obsd.Metrics(t), "otelcol_receiver_accepted_spans", nil); got != 1 {
		t.Errorf("otelcol_receiver_accepted_spans = %v, want 1", got)
	}
}
