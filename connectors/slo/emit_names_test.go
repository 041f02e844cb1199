package slo

import (
	"testing"
	"time"

	"github.com/prometheus/otlptranslator"
	"github.com/stretchr/testify/assert"
	"go.opentelemetry.io/collector/pdata/pmetric"

	"github.com/obsd-dev/obsd/slo/contract"
)

// The metrics the connector emits keep their contract names through the
// Prometheus translation that remote write and the prometheus exporter
// apply by default (type and unit suffixes added): a gauge with unit "1"
// would become <name>_ratio, and dashboards and rules would find nothing.
func TestEmittedNamesSurviveThePrometheusTranslation(t *testing.T) {
	namer := otlptranslator.MetricNamer{WithMetricSuffixes: true}
	ms := newEmitter(time.Unix(1e9, 0), emitOptions{instance: "node-1", local: true, sums: true}).md.ResourceMetrics().At(0).ScopeMetrics().At(0).Metrics()
	var names []string
	for i := range ms.Len() {
		names = append(names, ms.At(i).Name())
	}
	assert.ElementsMatch(t, contract.EmittedMetrics[:], names, "the emitter emits exactly contract.EmittedMetrics")
	for i := range ms.Len() {
		m := ms.At(i)
		typ := otlptranslator.MetricType(otlptranslator.MetricTypeGauge)
		if m.Type() == pmetric.MetricTypeSum {
			typ = otlptranslator.MetricTypeMonotonicCounter
		}
		got, err := namer.Build(otlptranslator.Metric{Name: m.Name(), Unit: m.Unit(), Type: typ})
		if err != nil {
			t.Fatalf("%s: %v", m.Name(), err)
		}
		if got != m.Name() {
			t.Errorf("%s (unit %q) is written as %s with suffixes on", m.Name(), m.Unit(), got)
		}
	}
}
