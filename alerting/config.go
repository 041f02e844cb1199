package alerting

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"time"
)

// Defaults applied by DefaultConfig.
const (
	DefaultAlertName         = "SLOErrorBudgetBurn"
	DefaultResendInterval    = time.Minute
	DefaultResolvedRetention = 15 * time.Minute
)

// Config is the alerting section of obsd's configuration. It is plain data;
// Validate reports every problem at once, quoting the YAML keys.
type Config struct {
	// AlertName is the value of the alertname label.
	AlertName string `mapstructure:"alertname"`
	// Templates produce the annotations and the generatorURL.
	Templates TemplatesConfig `mapstructure:"templates"`
	// ResendInterval is how often a firing alert is sent again.
	ResendInterval time.Duration `mapstructure:"resend_interval"`
	// EndsAtLead is how far ahead of now endsAt is set on a firing alert, so
	// that Alertmanager resolves it by itself if obsd dies. Zero means four
	// resend intervals.
	EndsAtLead time.Duration `mapstructure:"ends_at_lead"`
	// ResolvedRetention is how long a resolved alert keeps being re-sent
	// (every resend interval) after it resolved, like Prometheus does.
	ResolvedRetention time.Duration `mapstructure:"resolved_retention"`
	// Route is the root of the route tree; its receiver is the default.
	Route RouteConfig `mapstructure:"route"`
	// Destinations are the named receivers routes send to.
	Destinations map[string]DestinationConfig `mapstructure:"destinations"`
	// Delivery tunes retries, timeouts, breakers and the outbox.
	Delivery DeliveryConfig `mapstructure:"delivery"`
}

// TemplatesConfig holds Go text/template sources executed against
// TemplateData. An empty template produces no annotation.
type TemplatesConfig struct {
	Summary      string `mapstructure:"summary"`
	Description  string `mapstructure:"description"`
	RunbookURL   string `mapstructure:"runbook_url"`
	DashboardURL string `mapstructure:"dashboard_url"`
	GeneratorURL string `mapstructure:"generator_url"`
}

// RouteConfig is one node of the route tree, in Alertmanager's style.
type RouteConfig struct {
	// Receiver names a destination; empty inherits the parent's.
	Receiver string `mapstructure:"receiver"`
	// Matchers use Alertmanager's syntax, e.g. `severity="page"` or
	// `{team=~"a|b", env!="dev"}`; all must match.
	Matchers []string `mapstructure:"matchers"`
	// Continue makes matching go on with the next sibling after a match.
	Continue bool `mapstructure:"continue"`
	// Routes are the child routes, tried depth first.
	Routes []RouteConfig `mapstructure:"routes"`
}

// DestinationConfig is a named receiver: exactly one of Alertmanager and
// Webhook, and an optional fallback.
type DestinationConfig struct {
	Alertmanager *AlertmanagerConfig `mapstructure:"alertmanager"`
	Webhook      *WebhookConfig      `mapstructure:"webhook"`
	Fallback     *FallbackConfig     `mapstructure:"fallback"`
}

// AlertmanagerConfig posts to Alertmanager's API v2 (POST /api/v2/alerts) on
// every URL; a batch counts as delivered once one of them accepted it, as in
// Prometheus (Alertmanager HA deduplicates).
type AlertmanagerConfig struct {
	// URLs are Alertmanager base URLs, e.g. http://127.0.0.1:9093.
	URLs       []string `mapstructure:"urls"`
	HTTPClient `mapstructure:",squash"`
}

// WebhookConfig posts Alertmanager's webhook payload (version 4) to URL.
type WebhookConfig struct {
	URL        string `mapstructure:"url"`
	HTTPClient `mapstructure:",squash"`
}

// HTTPClient holds the authentication and TLS options of a destination.
type HTTPClient struct {
	BasicAuth       *BasicAuth `mapstructure:"basic_auth"`
	BearerToken     string     `mapstructure:"bearer_token"`
	BearerTokenFile string     `mapstructure:"bearer_token_file"`
	TLS             TLSConfig  `mapstructure:"tls"`
}

// BasicAuth sets an Authorization: Basic header.
type BasicAuth struct {
	Username     string `mapstructure:"username"`
	Password     string `mapstructure:"password"`
	PasswordFile string `mapstructure:"password_file"`
}

// TLSConfig maps onto crypto/tls options.
type TLSConfig struct {
	CAFile             string `mapstructure:"ca_file"`
	CertFile           string `mapstructure:"cert_file"`
	KeyFile            string `mapstructure:"key_file"`
	ServerName         string `mapstructure:"server_name"`
	InsecureSkipVerify bool   `mapstructure:"insecure_skip_verify"`
	// MinVersion is "1.2" or "1.3"; empty means 1.2.
	MinVersion string `mapstructure:"min_version"`
}

// FallbackConfig sends alerts to another destination once every endpoint of
// this one has been failing for longer than After.
type FallbackConfig struct {
	Destination string        `mapstructure:"destination"`
	After       time.Duration `mapstructure:"after"`
}

// DeliveryConfig tunes the senders.
type DeliveryConfig struct {
	// Timeout bounds every HTTP request.
	Timeout time.Duration `mapstructure:"timeout"`
	// InitialBackoff and MaxBackoff bound the exponential backoff (with
	// jitter) between failed attempts.
	InitialBackoff time.Duration `mapstructure:"initial_backoff"`
	MaxBackoff     time.Duration `mapstructure:"max_backoff"`
	// MaxQueued bounds the alerts held in one destination's outbox; the
	// oldest batches are dropped (and counted) beyond it.
	MaxQueued int `mapstructure:"max_queued"`
	// Breaker configures the circuit breaker of every endpoint.
	Breaker BreakerConfig `mapstructure:"breaker"`
}

// BreakerConfig: closed → open after FailureThreshold consecutive failures →
// half-open after OpenDuration → closed after SuccessThreshold successes.
type BreakerConfig struct {
	FailureThreshold int           `mapstructure:"failure_threshold"`
	OpenDuration     time.Duration `mapstructure:"open_duration"`
	SuccessThreshold int           `mapstructure:"success_threshold"`
}

// DefaultConfig returns a config with every default filled in and no
// destination.
func DefaultConfig() Config {
	return Config{
		AlertName: DefaultAlertName,
		Templates: TemplatesConfig{
			Summary:     DefaultSummaryTemplate,
			Description: DefaultDescriptionTemplate,
		},
		ResendInterval:    DefaultResendInterval,
		ResolvedRetention: DefaultResolvedRetention,
		Delivery: DeliveryConfig{
			Timeout:        10 * time.Second,
			InitialBackoff: 500 * time.Millisecond,
			MaxBackoff:     30 * time.Second,
			MaxQueued:      10000,
			Breaker: BreakerConfig{
				FailureThreshold: 5,
				OpenDuration:     30 * time.Second,
				SuccessThreshold: 1,
			},
		},
	}
}

// endsAtLead is the effective EndsAtLead.
func (c *Config) endsAtLead() time.Duration {
	if c.EndsAtLead > 0 {
		return c.EndsAtLead
	}
	return 4 * c.ResendInterval
}

// Validate checks the whole config, including that every template parses and
// executes against a sample transition, and returns all problems joined.
func (c *Config) Validate() error {
	var errs []error
	if c.AlertName == "" {
		errs = append(errs, errors.New("'alertname' must not be empty"))
	}
	if c.ResendInterval <= 0 {
		errs = append(errs, errors.New("'resend_interval' must be greater than zero"))
	}
	if c.EndsAtLead < 0 {
		errs = append(errs, errors.New("'ends_at_lead' must not be negative"))
	} else if c.EndsAtLead > 0 && c.EndsAtLead <= c.ResendInterval {
		errs = append(errs, errors.New("'ends_at_lead' must be longer than 'resend_interval'"))
	}
	if c.ResolvedRetention < 0 {
		errs = append(errs, errors.New("'resolved_retention' must not be negative"))
	}
	if _, err := compileTemplates(c.Templates); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.Delivery.validate()...)
	errs = append(errs, c.validateDestinations()...)
	if _, err := newRoute(c.Route, nil, "route", c.Destinations); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (d *DeliveryConfig) validate() []error {
	var errs []error
	if d.Timeout <= 0 {
		errs = append(errs, errors.New("'delivery.timeout' must be greater than zero"))
	}
	if d.InitialBackoff <= 0 {
		errs = append(errs, errors.New("'delivery.initial_backoff' must be greater than zero"))
	}
	if d.MaxBackoff < d.InitialBackoff {
		errs = append(errs, errors.New("'delivery.max_backoff' must not be less than 'delivery.initial_backoff'"))
	}
	if d.MaxQueued <= 0 {
		errs = append(errs, errors.New("'delivery.max_queued' must be greater than zero"))
	}
	if d.Breaker.FailureThreshold <= 0 {
		errs = append(errs, errors.New("'delivery.breaker.failure_threshold' must be greater than zero"))
	}
	if d.Breaker.SuccessThreshold <= 0 {
		errs = append(errs, errors.New("'delivery.breaker.success_threshold' must be greater than zero"))
	}
	if d.Breaker.OpenDuration <= 0 {
		errs = append(errs, errors.New("'delivery.breaker.open_duration' must be greater than zero"))
	}
	return errs
}

func (c *Config) validateDestinations() []error {
	var errs []error
	if len(c.Destinations) == 0 {
		errs = append(errs, errors.New("'destinations' must name at least one destination"))
	}
	names := make([]string, 0, len(c.Destinations))
	for name := range c.Destinations {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		errs = append(errs, validateDestination(name, c.Destinations[name], c.Destinations)...)
	}
	for _, name := range names {
		if err := checkFallbackCycle(name, c.Destinations); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func validateDestination(name string, d DestinationConfig, all map[string]DestinationConfig) []error {
	key := "destinations::" + name
	var errs []error
	switch {
	case d.Alertmanager == nil && d.Webhook == nil:
		errs = append(errs, fmt.Errorf("'%s' must set one of 'alertmanager' or 'webhook'", key))
	case d.Alertmanager != nil && d.Webhook != nil:
		errs = append(errs, fmt.Errorf("'%s' must set only one of 'alertmanager' or 'webhook'", key))
	case d.Alertmanager != nil:
		if len(d.Alertmanager.URLs) == 0 {
			errs = append(errs, fmt.Errorf("'%s::alertmanager::urls' must list at least one URL", key))
		}
		for i, u := range d.Alertmanager.URLs {
			if err := validateURL(u); err != nil {
				errs = append(errs, fmt.Errorf("'%s::alertmanager::urls[%d]': %w", key, i, err))
			}
		}
		errs = append(errs, d.Alertmanager.HTTPClient.validate(key+"::alertmanager")...)
	default:
		if err := validateURL(d.Webhook.URL); err != nil {
			errs = append(errs, fmt.Errorf("'%s::webhook::url': %w", key, err))
		}
		errs = append(errs, d.Webhook.HTTPClient.validate(key+"::webhook")...)
	}
	if f := d.Fallback; f != nil {
		if _, ok := all[f.Destination]; !ok {
			errs = append(errs, fmt.Errorf("'%s::fallback::destination' names unknown destination %q", key, f.Destination))
		} else if f.Destination == name {
			errs = append(errs, fmt.Errorf("'%s::fallback::destination' must not be the destination itself", key))
		}
		if f.After <= 0 {
			errs = append(errs, fmt.Errorf("'%s::fallback::after' must be greater than zero", key))
		}
	}
	return errs
}

func checkFallbackCycle(start string, all map[string]DestinationConfig) error {
	seen := map[string]bool{start: true}
	for cur := start; ; {
		f := all[cur].Fallback
		if f == nil {
			return nil
		}
		next := f.Destination
		if _, ok := all[next]; !ok || next == cur {
			return nil // reported by validateDestination
		}
		if next == start {
			return fmt.Errorf("'destinations::%s::fallback' forms a cycle", start)
		}
		if seen[next] {
			return nil
		}
		seen[next] = true
		cur = next
	}
}

func validateURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("URL %q must use http or https", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("URL %q has no host", raw)
	}
	return nil
}

func (h *HTTPClient) validate(key string) []error {
	var errs []error
	if h.BearerToken != "" && h.BearerTokenFile != "" {
		errs = append(errs, fmt.Errorf("'%s' must set at most one of 'bearer_token' and 'bearer_token_file'", key))
	}
	if h.BasicAuth != nil && (h.BearerToken != "" || h.BearerTokenFile != "") {
		errs = append(errs, fmt.Errorf("'%s' must not set both 'basic_auth' and a bearer token", key))
	}
	if b := h.BasicAuth; b != nil {
		if b.Username == "" {
			errs = append(errs, fmt.Errorf("'%s::basic_auth::username' must not be empty", key))
		}
		if b.Password != "" && b.PasswordFile != "" {
			errs = append(errs, fmt.Errorf("'%s::basic_auth' must set at most one of 'password' and 'password_file'", key))
		}
	}
	if (h.TLS.CertFile == "") != (h.TLS.KeyFile == "") {
		errs = append(errs, fmt.Errorf("'%s::tls' must set both 'cert_file' and 'key_file' or neither", key))
	}
	switch h.TLS.MinVersion {
	case "", "1.2", "1.3":
	default:
		errs = append(errs, fmt.Errorf("'%s::tls::min_version' must be \"1.2\" or \"1.3\", not %q", key, h.TLS.MinVersion))
	}
	return errs
}
