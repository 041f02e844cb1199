package tenant

import (
	"errors"
	"strings"

	"go.opentelemetry.io/collector/component"

	"github.com/obsd-dev/obsd/internal/tenantid"
)

// Config is the tenant processor configuration.
type Config struct {
	// FromAuth is the client.Info auth attribute holding the tenant (set by
	// an authenticator or the tls_identity extension). "" skips it.
	FromAuth string `mapstructure:"from_auth"`

	// FromMetadata is a request header (gRPC metadata key) holding the
	// tenant, read when FromAuth gives none; the receiver must set
	// `include_metadata: true`. A header is whatever the client says: prefer
	// FromAuth where tenants must not impersonate each other. "" skips it.
	FromMetadata string `mapstructure:"from_metadata"`

	// Attribute is the resource attribute the tenant is written to.
	Attribute string `mapstructure:"attribute"`

	// Default is the tenant of data without one. When empty, such data
	// leaves with the attribute removed, so a client cannot name a tenant by
	// setting the resource attribute itself.
	Default string `mapstructure:"default"`
}

var _ component.Config = (*Config)(nil)

// Validate reports every configuration problem at once.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.FromAuth == "" && cfg.FromMetadata == "" {
		errs = append(errs, errors.New("at least one of 'from_auth' and 'from_metadata' must be set"))
	}
	if strings.TrimSpace(cfg.Attribute) == "" {
		errs = append(errs, errors.New("'attribute' must not be empty"))
	}
	if cfg.Default != "" && !tenantid.Valid(cfg.Default) {
		errs = append(errs, errors.New("'default' must be "+tenantid.Rule))
	}
	return errors.Join(errs...)
}
