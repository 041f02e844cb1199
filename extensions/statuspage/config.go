package statuspage

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
)

// Config is the configuration of the statuspage extension.
type Config struct {
	// ServerConfig is where the page listens ('endpoint', default
	// 127.0.0.1:55680: loopback only), with TLS and timeouts.
	confighttp.ServerConfig `mapstructure:",squash"`
	// Refresh is how often the pages reload themselves and the
	// self-metrics are scraped for rates (default 5s).
	Refresh time.Duration `mapstructure:"refresh"`
	// MetricsURL is obsd's own Prometheus endpoint, scraped for the
	// pipeline page. Empty means the first Prometheus pull reader of
	// 'service.telemetry.metrics', else http://127.0.0.1:8888/metrics.
	MetricsURL string `mapstructure:"metrics_url"`
	// GrafanaURL is the base URL of the Grafana that holds obsd's
	// generated dashboards; each SLO links to its dashboard under it.
	// Empty means no dashboard links.
	GrafanaURL string `mapstructure:"grafana_url"`
}

var _ component.Config = (*Config)(nil)

// Validate checks the configuration; every problem is returned.
func (c *Config) Validate() error {
	var errs []error
	if c.NetAddr.Endpoint == "" {
		errs = append(errs, errors.New("'endpoint' must not be empty"))
	}
	if c.Refresh <= 0 {
		errs = append(errs, errors.New("'refresh' must be greater than zero"))
	}
	if c.MetricsURL != "" {
		if err := checkURL(c.MetricsURL); err != nil {
			errs = append(errs, fmt.Errorf("'metrics_url': %w", err))
		}
	}
	if c.GrafanaURL != "" {
		if err := checkURL(c.GrafanaURL); err != nil {
			errs = append(errs, fmt.Errorf("'grafana_url': %w", err))
		}
	}
	return errors.Join(errs...)
}

// checkURL accepts absolute http and https URLs with a host.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q must be an absolute http or https URL", s)
	}
	return nil
}
