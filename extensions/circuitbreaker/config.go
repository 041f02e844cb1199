package circuitbreaker

import (
	"errors"
	"time"

	"go.opentelemetry.io/collector/component"
)

// Config is the circuit_breaker extension configuration.
type Config struct {
	// FailureThreshold is how many failed calls open the circuit: that many
	// in a row, or, when FailureWindow is set, that many among the last
	// FailureWindow calls.
	FailureThreshold uint `mapstructure:"failure_threshold"`

	// FailureWindow, when not zero, makes FailureThreshold a ratio: the
	// circuit opens when FailureThreshold of the last FailureWindow calls
	// failed. Zero means consecutive failures.
	FailureWindow uint `mapstructure:"failure_window"`

	// Delay is how long the circuit stays open before it lets probes
	// through (half-open).
	Delay time.Duration `mapstructure:"delay"`

	// SuccessThreshold is how many probes must succeed, in a row, for a
	// half-open circuit to close; a failed probe opens it again. It is also
	// how many probes may be in flight at once.
	SuccessThreshold uint `mapstructure:"success_threshold"`
}

var _ component.Config = (*Config)(nil)

// Validate reports every configuration problem at once.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.FailureThreshold < 1 {
		errs = append(errs, errors.New("'failure_threshold' must be at least 1"))
	}
	if cfg.FailureWindow != 0 && cfg.FailureWindow < cfg.FailureThreshold {
		errs = append(errs, errors.New("'failure_window' must be 0 (consecutive failures) or at least 'failure_threshold'"))
	}
	if cfg.Delay <= 0 {
		errs = append(errs, errors.New("'delay' must be greater than zero"))
	}
	if cfg.SuccessThreshold < 1 {
		errs = append(errs, errors.New("'success_threshold' must be at least 1"))
	}
	return errors.Join(errs...)
}
