package main

import (
	"context"
	_ "embed"
	"fmt"

	"go.opentelemetry.io/collector/confmap"
)

// embeddedScheme is the confmap scheme of configs compiled into the binary.
const embeddedScheme = "embedded"

// defaultConfigURI names the config obsd runs on when no --config is given.
const defaultConfigURI = embeddedScheme + ":default"

//go:embed default.yaml
var defaultConfigYAML []byte

// embeddedConfigs maps the names after "embedded:" to their YAML.
var embeddedConfigs = map[string][]byte{
	"default": defaultConfigYAML,
}

type embeddedProvider struct{}

func newEmbeddedProviderFactory() confmap.ProviderFactory {
	return confmap.NewProviderFactory(func(confmap.ProviderSettings) confmap.Provider {
		return embeddedProvider{}
	})
}

func (embeddedProvider) Retrieve(_ context.Context, uri string, _ confmap.WatcherFunc) (*confmap.Retrieved, error) {
	name := uri[len(embeddedScheme)+1:]
	yaml, ok := embeddedConfigs[name]
	if !ok {
		return nil, fmt.Errorf("no embedded config named %q (known: default)", name)
	}
	return confmap.NewRetrievedFromYAML(yaml)
}

func (embeddedProvider) Scheme() string { return embeddedScheme }

func (embeddedProvider) Shutdown(context.Context) error { return nil }
