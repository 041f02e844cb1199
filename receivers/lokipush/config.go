package lokipush

import (
	"errors"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/confighttp"
)

// Config is the lokipush receiver configuration. The HTTP server settings
// (endpoint, TLS, auth, timeouts, max_request_body_size, ...) are the
// collector's own confighttp.ServerConfig, squashed into the top level.
//
// max_request_body_size bounds both the raw body and the decompressed body
// (snappy, gzip): a request that would decompress past it is refused with 413.
type Config struct {
	ServerConfig confighttp.ServerConfig `mapstructure:",squash"`

	// RetryAfter is the delay announced in the Retry-After header of 429/503
	// answers given when the pipeline refuses data with a retryable error.
	RetryAfter time.Duration `mapstructure:"retry_after"`

	// MaxStreamErrors bounds how many rejected streams are described one by
	// one in a 400 answer; the rest are summarised as a count.
	MaxStreamErrors int `mapstructure:"max_stream_errors"`
}

var _ component.Config = (*Config)(nil)

// Validate reports every configuration problem at once.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.ServerConfig.NetAddr.Endpoint == "" {
		errs = append(errs, errors.New("'endpoint' must not be empty"))
	}
	if cfg.ServerConfig.MaxRequestBodySize < 0 {
		errs = append(errs, errors.New("'max_request_body_size' must not be negative"))
	}
	if cfg.RetryAfter < time.Second {
		errs = append(errs, errors.New("'retry_after' must be at least 1s (Retry-After is sent in whole seconds)"))
	}
	if cfg.MaxStreamErrors <= 0 {
		errs = append(errs, errors.New("'max_stream_errors' must be greater than zero"))
	}
	return errors.Join(errs...)
}

// bodyLimit is the effective limit on raw and decompressed body size.
func (cfg *Config) bodyLimit() int64 {
	if cfg.ServerConfig.MaxRequestBodySize <= 0 {
		return defaultMaxRequestBodySize
	}
	return cfg.ServerConfig.MaxRequestBodySize
}
