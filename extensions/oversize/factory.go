// Package oversize is a collector extension that HTTP receivers name as a
// server middleware (`middlewares: [{id: oversize}]`) so that a request
// body over the server's `max_request_body_size` (which confighttp checks
// after decompression) is answered 413 Request Entity Too Large instead of
// the 400 the OTLP/HTTP receiver gives for any body read error. A gzip
// bomb is then told exactly what went wrong, and clients and proxies can
// tell "too big" from "malformed".
package oversize

import (
	"context"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
)

// Type is the component type named in configs: `extensions: oversize:`.
var Type = component.MustNewType("oversize")

// Stability is the stability of the extension.
const Stability = component.StabilityLevelAlpha

// NewFactory returns the factory of the oversize extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(Type, createDefaultConfig, create, Stability)
}

func createDefaultConfig() component.Config { return &Config{} }

func create(context.Context, extension.Settings, component.Config) (extension.Extension, error) {
	return &oversize{}, nil
}
