package chaos

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/grpc/codes"

	"github.com/obsd-dev/obsd/e2e/chaos/load"
	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// TestReloadUnderLoad: with load running and data queued for a refusing
// backend, SIGHUP with a broken config is refused (logged, counted) and obsd
// keeps taking data on the old one; SIGHUP with a good config that stamps
// every span takes effect; when the backend heals, everything acknowledged
// before, during and after the reloads arrives.
func TestReloadUnderLoad(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := sink.NewOTLP(t)
	p := newPorts(t)
	cfg := config(p, s, options{})
	o := harness.StartInDir(t, t.TempDir(), cfg)
	dumpOnFailure(t, o)
	conn := dial(t, p.GRPC)
	traces := load.New(conn, load.Config{Signal: load.Traces, BatchSize: 100, Streams: 2, Rate: 20})
	logs := load.New(conn, load.Config{Signal: load.Logs, BatchSize: 100, Streams: 2, Rate: 20})
	stop := runLoad(ctx, traces, logs)
	defer stop()
	harness.Eventually(t, 30*time.Second, func() bool { return s.SpanCount() > 0 }, "nothing reached the sink")

	// Queue data: the backend refuses while the configs change.
	s.Fail(codes.Unavailable)
	harness.Eventually(t, 30*time.Second, func() bool { return queueSize(o) > 0 }, "nothing queued while the sink refuses")
	reloads := func(result string) float64 {
		return harness.Sum(scrape(o), "obsd_config_reloads_total", map[string]string{"result": result})
	}
	reload := func(yaml string) {
		t.Helper()
		if err := os.WriteFile(o.ConfigPath, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := o.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}

	// A broken config: the traces pipeline names an undefined exporter.
	broken := strings.Replace(cfg.YAML, "exporters: [otlp_grpc/traces]", "exporters: [otlp_grpc/traces, otlp_grpc/undefined]", 1)
	broken = strings.ReplaceAll(broken, "{{DIR}}", o.Dir)
	reload(broken)
	if !o.WaitOutput("Refusing the reloaded config", 15*time.Second) {
		t.Fatal("obsd did not say it refused the broken config")
	}
	if !strings.Contains(o.Output(), "otlp_grpc/undefined") {
		t.Error("the refusal does not name the problem (otlp_grpc/undefined)")
	}
	harness.Eventually(t, 10*time.Second, func() bool { return reloads("refused") == 1 }, "obsd_config_reloads_total{result=refused} did not reach 1")
	ackedAfterRefusal := traces.Stats().Acked
	harness.Eventually(t, 20*time.Second, func() bool { return traces.Stats().Acked > ackedAfterRefusal+1000 },
		"obsd stopped acknowledging data after refusing a config")

	// A good config: every span now carries chaos.config=v2.
	good := strings.Replace(cfg.YAML, "processors:\n  memory_limiter:", "processors:\n  resource/chaos:\n    attributes:\n      - {key: chaos.config, value: v2, action: upsert}\n  memory_limiter:", 1)
	good = strings.Replace(good, "      processors: [memory_limiter]\n      exporters: [otlp_grpc/traces]", "      processors: [memory_limiter, resource/chaos]\n      exporters: [otlp_grpc/traces]", 1)
	good = strings.ReplaceAll(good, "{{DIR}}", o.Dir)
	if good == strings.ReplaceAll(cfg.YAML, "{{DIR}}", o.Dir) {
		t.Fatal("the good config is the same as the old one: config() changed shape")
	}
	queuedAtReload := queueSize(o)
	reload(good)
	if !o.WaitOutput("Reloaded config is valid", 15*time.Second) {
		t.Fatal("obsd did not apply the good config")
	}
	harness.Eventually(t, 20*time.Second, func() bool { return reloads("applied") == 1 }, "obsd_config_reloads_total{result=applied} did not reach 1")
	ackedAfterApply := traces.Stats().Acked
	harness.Eventually(t, 30*time.Second, func() bool { return traces.Stats().Acked > ackedAfterApply+1000 },
		"obsd did not take data on the new config")

	s.Fail(codes.OK)
	harness.Eventually(t, 30*time.Second, func() bool { return stamped(s.Traces()) > 0 }, "no span with chaos.config=v2 reached the sink: the new config did not take effect")
	stop()
	rt, rl := waitDelivered(t, s, 60*time.Second, traces, logs)
	summary(t, "reload", "refused=%.0f applied=%.0f queued_requests_at_reload=%.0f traces{%s} logs{%s} stamped_v2=%d client_errors=%v",
		reloads("refused"), reloads("applied"), queuedAtReload, rt, rl, stamped(s.Traces()), traces.Stats().Errors)
	if rt.Lost != 0 || rl.Lost != 0 {
		t.Errorf("acknowledged items lost across the reloads: spans %d (first %v), logs %d (first %v)", rt.Lost, rt.FirstLost, rl.Lost, rl.FirstLost)
	}
	if !o.Running() {
		t.Error("obsd is not running after the reloads")
	}
}

// stamped counts the spans whose resource has chaos.config=v2.
func stamped(tds []ptrace.Traces) int {
	n := 0
	for _, td := range tds {
		for _, rs := range td.ResourceSpans().All() {
			if v, ok := rs.Resource().Attributes().Get("chaos.config"); ok && v.Str() == "v2" {
				for _, ss := range rs.ScopeSpans().All() {
					n += ss.Spans().Len()
				}
			}
		}
	}
	return n
}
