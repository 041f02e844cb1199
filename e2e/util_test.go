package e2e

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

func otelmetricAttr(k, v string) metric.AddOption {
	return metric.WithAttributes(attribute.String(k, v))
}
