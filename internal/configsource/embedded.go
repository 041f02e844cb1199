package configsource

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/confmap"
)

// EmbeddedScheme is the scheme of configs compiled into the binary:
// "embedded:<name>".
const EmbeddedScheme = "embedded"

// NewEmbeddedProviderFactory serves the YAML of configs by name, as
// "embedded:<name>".
func NewEmbeddedProviderFactory(configs map[string][]byte) confmap.ProviderFactory {
	return confmap.NewProviderFactory(func(confmap.ProviderSettings) confmap.Provider {
		return embeddedProvider{configs: configs}
	})
}

type embeddedProvider struct {
	configs map[string][]byte
}

func (p embeddedProvider) Retrieve(_ context.Context, uri string, _ confmap.WatcherFunc) (*confmap.Retrieved, error) {
	name, ok := strings.CutPrefix(uri, EmbeddedScheme+":")
	if !ok {
		return nil, fmt.Errorf("%q uri is not supported by %q provider", uri, EmbeddedScheme)
	}
	yaml, ok := p.configs[name]
	if !ok {
		known := make([]string, 0, len(p.configs))
		for k := range p.configs {
			known = append(known, k)
		}
		slices.Sort(known)
		return nil, fmt.Errorf("no embedded config named %q (known: %s)", name, strings.Join(known, ", "))
	}
	return confmap.NewRetrievedFromYAML(yaml)
}

func (embeddedProvider) Scheme() string { return EmbeddedScheme }

func (embeddedProvider) Shutdown(context.Context) error { return nil }
