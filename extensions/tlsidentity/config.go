package tlsidentity

import (
	"errors"
	"fmt"

	"go.opentelemetry.io/collector/component"

	"github.com/obsd-dev/obsd/extensions/tlsidentity/internal/identity"
)

// Config is the tls_identity extension configuration.
type Config struct {
	// Identity is the certificate field that names the client: subject_cn
	// (default), san_dns, san_uri or san_email (the first SAN of the kind).
	Identity string `mapstructure:"identity"`

	// Required refuses requests without a verified client certificate
	// holding that identity (HTTP 401, gRPC UNAUTHENTICATED). Without it
	// such requests pass with no identity. With the server's
	// `tls::client_ca_file` set, the handshake already refuses clients
	// without a certificate; Required also refuses certificates that lack
	// the chosen field.
	Required bool `mapstructure:"required"`

	// Attributes are the client.Info auth attribute names the identity is
	// stored under. Default: [subject, tenant], which `ratelimit` (key
	// `auth` or `auth:tenant`) and the `tenant` processor read.
	Attributes []string `mapstructure:"attributes"`
}

var _ component.Config = (*Config)(nil)

// Validate reports every configuration problem at once.
func (cfg *Config) Validate() error {
	var errs []error
	if _, err := identity.ParseSource(cfg.Identity); err != nil {
		errs = append(errs, fmt.Errorf("'identity': %w", err))
	}
	if len(cfg.Attributes) == 0 {
		errs = append(errs, errors.New("'attributes' must name at least one attribute"))
	}
	for _, a := range cfg.Attributes {
		if a == "" {
			errs = append(errs, errors.New("'attributes' must not contain an empty name"))
		}
	}
	return errors.Join(errs...)
}
