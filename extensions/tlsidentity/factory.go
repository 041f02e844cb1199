// Package tlsidentity is a collector extension that receivers name as a
// server middleware (`middlewares: [{id: tls_identity}, {id: ratelimit}]`):
// it reads the identity of a verified TLS client certificate (subject CN or
// a SAN) and stores it in the request's client.Info auth data, under
// `subject` and `tenant` by default, so that the `ratelimit` extension can
// key on it and the `tenant` processor can put it on the data. It works on
// both OTLP/HTTP (and any confighttp server, e.g. lokipush) and OTLP/gRPC.
package tlsidentity

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
)

// Type is the component type named in configs: `extensions: tls_identity:`.
var Type = component.MustNewType("tls_identity")

// Stability is the stability of the extension.
const Stability = component.StabilityLevelAlpha

// NewFactory returns the factory of the tls_identity extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(Type, createDefaultConfig, create, Stability)
}

func createDefaultConfig() component.Config {
	return &Config{Identity: "subject_cn", Attributes: []string{"subject", "tenant"}}
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newExtension(cfg.(*Config), set)
}
