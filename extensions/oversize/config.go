package oversize

import "go.opentelemetry.io/collector/component"

// Config has no settings: the limit is each server's
// max_request_body_size (confighttp), which the middleware reads from the
// server it wraps.
type Config struct{}

var _ component.Config = (*Config)(nil)

// Validate accepts every Config: there is nothing to set, and an unknown
// key is already refused when the config is decoded.
func (*Config) Validate() error { return nil }
