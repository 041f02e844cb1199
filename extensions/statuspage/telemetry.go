package statuspage

import (
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/metric"

	"github.com/obsd-dev/obsd/internal/instruments"
)

// metricScrapeFailures counts failed scrapes of the self-metrics endpoint
// (no labels).
const metricScrapeFailures = "obsd_statuspage_scrape_failures_total"

// telemetry holds the extension's own instruments.
type telemetry struct {
	scrapeFailures metric.Int64Counter
}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	b := instruments.NewBuilder(set.MeterProvider, scopeName)
	t := &telemetry{}
	t.scrapeFailures = b.Int64Counter(metricScrapeFailures,
		metric.WithDescription("Failed scrapes of obsd's self-metrics by the status page."), metric.WithUnit("{scrape}"))
	if err := b.Err(); err != nil {
		return nil, err
	}
	return t, nil
}
