package loki

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
)

// Config is the loki exporter configuration. HTTP client settings
// (endpoint, timeout, TLS, headers, auth, ...) are confighttp.ClientConfig,
// squashed into the top level; `timeout` bounds each push attempt.
type Config struct {
	ClientConfig confighttp.ClientConfig `mapstructure:",squash"`

	// QueueConfig is the exporterhelper sending queue; set
	// `storage: file_storage` for a persistent, at-least-once queue.
	QueueConfig configoptional.Optional[exporterhelper.QueueBatchConfig] `mapstructure:"sending_queue"`

	// RetryConfig is the backoff for retryable failures (429, 5xx, network).
	RetryConfig configretry.BackOffConfig `mapstructure:"retry_on_failure"`

	// TenantID, when set, is sent as X-Scope-OrgID on every push and
	// overrides the tenant attributes.
	TenantID string `mapstructure:"tenant_id"`

	// TenantAttributes are the resource attributes naming a resource's
	// tenant, first present wins: by default `obsd.tenant` (the tenant
	// processor, e.g. from a client certificate) then `loki.tenant` (the
	// lokipush receiver, from the pusher's X-Scope-OrgID). Batches are split
	// so that each push carries one tenant's streams.
	TenantAttributes []string `mapstructure:"tenant_attributes"`

	// DefaultTenant is the X-Scope-OrgID of resources without a tenant
	// attribute; empty sends them without the header.
	DefaultTenant string `mapstructure:"default_tenant"`

	// TenantMap translates tenant names (from the tenant attributes or
	// default_tenant) into the X-Scope-OrgID sent, for backends whose
	// tenants are not names: VictoriaLogs takes "accountID[:projectID]"
	// numbers (team-a: "12:0") and refuses anything else with a 400. Names
	// not in the map are sent as they are.
	TenantMap map[string]string `mapstructure:"tenant_map"`

	// MaxRequestSize bounds each push, in bytes of uncompressed protobuf:
	// a batch over it is sent as several pushes, so a backend's request
	// size limit (VictoriaLogs' -loki.maxRequestSize, a proxy's body limit)
	// refuses only a record too large on its own, never its neighbours.
	// 0 sends every batch as one push.
	MaxRequestSize int `mapstructure:"max_request_size"`

	// Labels are the attribute keys that become stream labels (looked up on
	// the log record, then on its resource; dots become underscores). The
	// key `level` falls back to the record severity. Everything else goes to
	// structured metadata.
	Labels []string `mapstructure:"labels"`
}

var _ component.Config = (*Config)(nil)

// maxLabels bounds the configured label set: stream labels are an index in
// Loki and must stay few and low-cardinality.
const maxLabels = 15

// Validate reports every configuration problem at once.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.ClientConfig.Endpoint == "" {
		errs = append(errs, errors.New("'endpoint' must be set to Loki's push URL, e.g. http://localhost:3100/loki/api/v1/push"))
	} else if u, err := url.Parse(cfg.ClientConfig.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("'endpoint' %q must be an http or https URL", cfg.ClientConfig.Endpoint))
	}
	if len(cfg.Labels) > maxLabels {
		errs = append(errs, fmt.Errorf("'labels' has %d entries, at most %d are allowed (labels are Loki's index)", len(cfg.Labels), maxLabels))
	}
	seen := map[string]string{}
	for _, k := range cfg.Labels {
		if strings.TrimSpace(k) == "" {
			errs = append(errs, errors.New("'labels' must not contain an empty key"))
			continue
		}
		if k == TenantAttribute || slices.Contains(cfg.TenantAttributes, k) {
			errs = append(errs, fmt.Errorf("'labels' must not contain %q: it is the tenant, sent as X-Scope-OrgID", k))
		}
		name := labelName(k)
		if prev, ok := seen[name]; ok {
			errs = append(errs, fmt.Errorf("'labels' keys %q and %q both become the label %q", prev, k, name))
		}
		seen[name] = k
	}
	if strings.ContainsAny(cfg.TenantID, "|\r\n") {
		errs = append(errs, errors.New("'tenant_id' must be a single tenant without '|' or line breaks"))
	}
	if strings.ContainsAny(cfg.DefaultTenant, "|\r\n") {
		errs = append(errs, errors.New("'default_tenant' must be a single tenant without '|' or line breaks"))
	}
	for name, id := range cfg.TenantMap {
		if strings.TrimSpace(name) == "" {
			errs = append(errs, errors.New("'tenant_map' must not contain an empty tenant name"))
		}
		if strings.TrimSpace(id) == "" || strings.ContainsAny(id, "|\r\n") {
			errs = append(errs, fmt.Errorf("'tenant_map' maps %q to %q: it must be a single non-empty tenant without '|' or line breaks", name, id))
		}
	}
	if cfg.MaxRequestSize < 0 {
		errs = append(errs, fmt.Errorf("'max_request_size' is %d: it must be positive (bytes), or 0 for no limit", cfg.MaxRequestSize))
	}
	for _, k := range cfg.TenantAttributes {
		if strings.TrimSpace(k) == "" {
			errs = append(errs, errors.New("'tenant_attributes' must not contain an empty key"))
		}
	}
	return errors.Join(errs...)
}

// pushURL is the endpoint, with Loki's push path added when it has no path.
func (cfg *Config) pushURL() string {
	u, err := url.Parse(cfg.ClientConfig.Endpoint)
	if err != nil || (u.Path != "" && u.Path != "/") {
		return cfg.ClientConfig.Endpoint
	}
	u.Path = PushPath
	return u.String()
}

// tenantSpec is where pushes take their tenant from.
func (cfg *Config) tenantSpec() tenantSpec {
	return tenantSpec{fixed: cfg.TenantID, attrs: cfg.TenantAttributes, def: cfg.DefaultTenant, mapping: cfg.TenantMap}
}
