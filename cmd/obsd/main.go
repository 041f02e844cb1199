// Command obsd is an OpenTelemetry Collector distribution: an observability
// agent that receives metrics, logs and traces, enforces correlation ids,
// computes SLOs, routes alerts and forwards telemetry without losing it.
//
// With no flags it runs on an embedded default config that listens on
// loopback only; --config takes the usual collector config sources.
package main

import (
	"fmt"
	"os"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/featuregate"
	"go.opentelemetry.io/collector/otelcol"

	"github.com/obsd-dev/obsd/internal/configsource"
	"github.com/obsd-dev/obsd/internal/reloadguard"
)

// version is set at link time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// defaultFeatureGates are collector feature gates obsd turns on by default;
// --feature-gates=-ID still turns one off.
var defaultFeatureGates = []string{
	// With these, a reload that changes nothing (a refused config, see
	// internal/reloadguard) or only receivers restarts only what changed.
	"service.partialReload",
	"service.partialReloadReceivers",
	// health_check aggregates component status: with its
	// component_health.include_recoverable_errors, readiness fails while
	// every exporter circuit is open (extensions/circuitbreaker).
	"extension.healthcheck.useComponentStatus",
	// Stanza receivers (file_log, syslog, ...) hand each batch to the
	// pipeline before the reader moves on and checkpoints its offset, so
	// that what a checkpoint says was read is in the persistent queue: a
	// kill -9 then re-reads (duplicates) rather than skips (loses) lines.
	"stanza.synchronousLogEmitter",
}

func main() {
	for _, id := range defaultFeatureGates {
		if err := featuregate.GlobalRegistry().Set(id, true); err != nil {
			fmt.Fprintf(os.Stderr, "obsd: cannot enable feature gate %s: %v\n", id, err)
			os.Exit(1)
		}
	}
	if err := newRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// collectorSettings describes the obsd distribution to the collector
// framework, with the reload guard (internal/reloadguard) between config
// sources and the collector.
func collectorSettings() otelcol.CollectorSettings {
	set := baseSettings()
	guard := reloadguard.New(reloadguard.DryRunValidator(baseSettings))
	set.Factories = guard.WithReloadMetrics(set.Factories)
	set.ConfigProviderSettings.ResolverSettings.ConverterFactories = append(
		set.ConfigProviderSettings.ResolverSettings.ConverterFactories, guard.ConverterFactory())
	return set
}

// baseSettings is the distribution: build info, components, config sources.
func baseSettings() otelcol.CollectorSettings {
	return otelcol.CollectorSettings{
		BuildInfo: component.BuildInfo{
			Command:     "obsd",
			Description: "obsd observability agent",
			Version:     version,
		},
		Factories: components,
		ConfigProviderSettings: otelcol.ConfigProviderSettings{
			ResolverSettings: confmap.ResolverSettings{
				// Used only when no --config flag is given.
				URIs:              []string{defaultConfigURI},
				ProviderFactories: configsource.ProviderFactories(embeddedConfigs),
			},
		},
	}
}
