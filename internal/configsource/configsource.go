// Package configsource holds the config sources (confmap providers) obsd
// resolves --config with: the collector's env, http and yaml sources, its
// file source with obsd's size and alias-bomb limits, and configs compiled
// into the binary ("embedded:<name>").
package configsource

import (
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/provider/envprovider"
	"go.opentelemetry.io/collector/confmap/provider/httpprovider"
	"go.opentelemetry.io/collector/confmap/provider/yamlprovider"
)

// ProviderFactories are obsd's config sources: embedded (serving
// embedded, by name), env, file (with limits), http and yaml.
func ProviderFactories(embedded map[string][]byte) []confmap.ProviderFactory {
	return []confmap.ProviderFactory{
		NewEmbeddedProviderFactory(embedded),
		envprovider.NewFactory(),
		// The file provider with size and alias-bomb limits.
		NewFileProviderFactory(),
		httpprovider.NewFactory(),
		yamlprovider.NewFactory(),
	}
}
