package statuspage

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/confmap"
)

// Config is the configuration of the statuspage extension.
type Config struct {
	// Server is where the page listens ('endpoint', default
	// 127.0.0.1:55680: loopback only), with TLS and timeouts. A named
	// field, not an embedded one: an embedded ServerConfig would lend
	// Config its Unmarshal method and the other keys would be ignored.
	Server confighttp.ServerConfig `mapstructure:",squash"`
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

var (
	_ component.Config    = (*Config)(nil)
	_ confmap.Unmarshaler = (*Config)(nil)
)

// Unmarshal decodes the config and rejects unknown keys: the collector
// ignores unused keys next to a squashed confighttp.ServerConfig, so a
// misspelt 'refresh' would otherwise pass silently.
func (c *Config) Unmarshal(conf *confmap.Conf) error {
	type plain Config
	if err := conf.Unmarshal((*plain)(c)); err != nil {
		return err
	}
	known := map[string]bool{}
	topKeys(reflect.TypeFor[Config](), known)
	var unknown []string
	for k := range conf.ToStringMap() {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return fmt.Errorf("unknown keys %s in the statuspage config", strings.Join(unknown, ", "))
	}
	return nil
}

// topKeys collects the mapstructure keys of t, descending into squashed
// fields.
func topKeys(t reflect.Type, into map[string]bool) {
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		if slices.Contains(strings.Split(opts, ","), "squash") && f.Type.Kind() == reflect.Struct {
			topKeys(f.Type, into)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if name != "-" {
			into[name] = true
		}
	}
}

// Validate checks the configuration; every problem is returned.
func (c *Config) Validate() error {
	var errs []error
	if c.Server.NetAddr.Endpoint == "" {
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
