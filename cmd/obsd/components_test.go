package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/connector"
	"go.opentelemetry.io/collector/exporter"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/receiver"

	sloconnector "github.com/obsd-dev/obsd/connectors/slo"
	lokiexporter "github.com/obsd-dev/obsd/exporters/loki"
	"github.com/obsd-dev/obsd/extensions/circuitbreaker"
	"github.com/obsd-dev/obsd/extensions/oversize"
	"github.com/obsd-dev/obsd/extensions/ratelimit"
	"github.com/obsd-dev/obsd/extensions/statuspage"
	"github.com/obsd-dev/obsd/extensions/tlsidentity"
	"github.com/obsd-dev/obsd/extensions/walstorage"
	"github.com/obsd-dev/obsd/processors/correlation"
	"github.com/obsd-dev/obsd/processors/k8smeta"
	"github.com/obsd-dev/obsd/processors/shed"
	"github.com/obsd-dev/obsd/processors/tenant"
	"github.com/obsd-dev/obsd/receivers/lokipush"
)

// TestComponentREADMEsStateTheFactorysStability checks the first line
// after the title of each of obsd's own component READMEs,
// "Stability: alpha (logs, traces)", against the stability constants the
// factory registers: the factory owns them, the README must agree.
func TestComponentREADMEsStateTheFactorysStability(t *testing.T) {
	own := []struct {
		dir     string
		factory component.Factory
	}{
		{"receivers/lokipush", lokipush.NewFactory()},
		{"processors/correlation", correlation.NewFactory()},
		{"processors/k8smeta", k8smeta.NewFactory()},
		{"processors/shed", shed.NewFactory()},
		{"processors/tenant", tenant.NewFactory()},
		{"exporters/loki", lokiexporter.NewFactory()},
		{"extensions/circuitbreaker", circuitbreaker.NewFactory()},
		{"extensions/oversize", oversize.NewFactory()},
		{"extensions/ratelimit", ratelimit.NewFactory()},
		{"extensions/statuspage", statuspage.NewFactory()},
		{"extensions/tlsidentity", tlsidentity.NewFactory()},
		{"extensions/walstorage", walstorage.NewFactory()},
		{"connectors/slo", sloconnector.NewFactory()},
	}
	for _, c := range own {
		t.Run(c.dir, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("..", "..", c.dir, "README.md"))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(data), "\n")
			if len(lines) < 3 || !strings.HasPrefix(lines[0], "# ") || lines[1] != "" {
				t.Fatalf("the README does not start with a title and a blank line")
			}
			want := stabilityLine(t, c.factory)
			if lines[2] != want {
				t.Fatalf("line 3 of the README is %q, want %q", lines[2], want)
			}
		})
	}
}

// stabilityLine is "Stability: <level> (<signals>)" for a factory, with
// its signals in the order traces, metrics, logs ("extension" for an
// extension, "traces → metrics" and so on for a connector).
func stabilityLine(t *testing.T, f component.Factory) string {
	t.Helper()
	var levels []component.StabilityLevel
	var signals []string
	add := func(signal string, l component.StabilityLevel) {
		if l != component.StabilityLevelUndefined {
			levels = append(levels, l)
			signals = append(signals, signal)
		}
	}
	switch f := f.(type) {
	case receiver.Factory:
		add("traces", f.TracesStability())
		add("metrics", f.MetricsStability())
		add("logs", f.LogsStability())
	case processor.Factory:
		add("traces", f.TracesStability())
		add("metrics", f.MetricsStability())
		add("logs", f.LogsStability())
	case exporter.Factory:
		add("traces", f.TracesStability())
		add("metrics", f.MetricsStability())
		add("logs", f.LogsStability())
	case extension.Factory:
		add("extension", f.Stability())
	case connector.Factory:
		for _, from := range []struct {
			name                  string
			traces, metrics, logs component.StabilityLevel
		}{
			{"traces", f.TracesToTracesStability(), f.TracesToMetricsStability(), f.TracesToLogsStability()},
			{"metrics", f.MetricsToTracesStability(), f.MetricsToMetricsStability(), f.MetricsToLogsStability()},
			{"logs", f.LogsToTracesStability(), f.LogsToMetricsStability(), f.LogsToLogsStability()},
		} {
			add(from.name+" → traces", from.traces)
			add(from.name+" → metrics", from.metrics)
			add(from.name+" → logs", from.logs)
		}
	default:
		t.Fatalf("no stability for a %T", f)
	}
	if len(levels) == 0 {
		t.Fatal("the factory registers no signal")
	}
	if slices.ContainsFunc(levels, func(l component.StabilityLevel) bool { return l != levels[0] }) {
		t.Fatalf("signals of different stability (%v): write one README line per level and teach this test", levels)
	}
	return "Stability: " + strings.ToLower(levels[0].String()) + " (" + strings.Join(signals, ", ") + ")"
}
