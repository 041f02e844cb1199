package e2e

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// TestReloadValidatesBeforeSwapping: SIGHUP with a broken config file leaves
// obsd serving on the old config and saying why; SIGHUP with a good one
// applies it.
func TestReloadValidatesBeforeSwapping(t *testing.T) {
	s := sink.NewOTLP(t)
	p := newPorts(t)
	cfg := baseConfig(p, s, "", otlpPipelines)
	obsd := harness.Start(t, cfg)

	postSpan := func(port int, name string) int {
		body := fmt.Sprintf(`{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","name":%q}]}]}]}`, name)
		resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/v1/traces", port), "application/json", strings.NewReader(body))
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	reload := func(yaml string) {
		t.Helper()
		if err := os.WriteFile(obsd.ConfigPath, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := obsd.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}

	// A broken config: a pipeline names an exporter that is not defined.
	reload(strings.Replace(cfg.YAML, "exporters: [otlp_grpc]", "exporters: [otlp_grpc, otlp_grpc/undefined]", 1))
	if !obsd.WaitOutput("Refusing the reloaded config", 15*time.Second) {
		t.Fatalf("obsd did not say it refused the broken config:\n%s", obsd.Output())
	}
	if !strings.Contains(obsd.Output(), "otlp_grpc/undefined") {
		t.Errorf("the refusal does not name the problem (otlp_grpc/undefined)")
	}
	if !obsd.Running() {
		t.Fatalf("obsd exited on a broken config reload:\n%s", obsd.Output())
	}
	if code := postSpan(p.OTLPHTTP, "after-bad-reload"); code != http.StatusOK {
		t.Fatalf("after a refused reload, POST /v1/traces = %d, want 200", code)
	}
	harness.Eventually(t, 10*time.Second, func() bool { _, ok := spansByName(s)["after-bad-reload"]; return ok },
		"a span sent after the refused reload did not reach the sink")

	// A good config that moves the OTLP/HTTP receiver to another port.
	newPort := harness.FreePort(t)
	reload(strings.Replace(cfg.YAML, fmt.Sprintf("127.0.0.1:%d", p.OTLPHTTP), fmt.Sprintf("127.0.0.1:%d", newPort), 1))
	if !obsd.WaitOutput("Reloaded config is valid", 15*time.Second) {
		t.Fatalf("obsd did not apply the good config:\n%s", obsd.Output())
	}
	harness.Eventually(t, 10*time.Second, func() bool { return postSpan(newPort, "after-good-reload") == http.StatusOK },
		"the receiver did not move to port %d", newPort)
	harness.Eventually(t, 10*time.Second, func() bool { _, ok := spansByName(s)["after-good-reload"]; return ok },
		"a span sent after the good reload did not reach the sink")
}
