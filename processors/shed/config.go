package shed

import (
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/collector/component"
)

// Config is the shed processor configuration.
type Config struct {
	// MemoryLimitMiB is the soft limit pressure is measured against: the
	// heap objects' size over this is the pressure ratio the levels compare
	// to. Set it to the memory_limiter's limit_mib.
	MemoryLimitMiB uint64 `mapstructure:"memory_limit_mib"`

	// CheckInterval is how often memory is sampled; between samples every
	// batch uses the cached level.
	CheckInterval time.Duration `mapstructure:"check_interval"`

	// Levels are the pressure ratios at which each level starts.
	Levels LevelsConfig `mapstructure:"levels"`

	// CoolDown is how long the pressure must stay below a level's threshold
	// before shedding steps down from it; raising is immediate. It keeps the
	// level from following every GC cycle. Zero steps down at once.
	CoolDown time.Duration `mapstructure:"cool_down"`

	// Protect lists attribute matchers: a log record or span whose own or
	// resource attributes match any of them is never shed (for example what
	// an SLO counts).
	Protect []MatcherConfig `mapstructure:"protect"`
}

// LevelsConfig are the pressure ratios (heap / memory_limit_mib) at which
// each kind of data starts being shed; each must be greater than zero and
// they must not descend.
type LevelsConfig struct {
	// DebugLogs: TRACE and DEBUG logs are shed from this ratio on.
	DebugLogs float64 `mapstructure:"debug_logs"`
	// InfoLogs: INFO logs (and logs without a severity) from this ratio on.
	InfoLogs float64 `mapstructure:"info_logs"`
	// UnsampledSpans: spans whose sampled trace flag is clear from this
	// ratio on.
	UnsampledSpans float64 `mapstructure:"unsampled_spans"`
}

// MatcherConfig matches one attribute: present with one of Values, or
// present at all when Values is empty. Only string values are compared.
type MatcherConfig struct {
	// Key is the attribute key, looked up on the record or span and on its
	// resource.
	Key string `mapstructure:"key"`
	// Values are the accepted string values; empty means any value.
	Values []string `mapstructure:"values"`
}

var _ component.Config = (*Config)(nil)

// Validate reports every configuration problem at once.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.MemoryLimitMiB == 0 {
		errs = append(errs, errors.New("'memory_limit_mib' must be greater than zero"))
	}
	if cfg.CheckInterval <= 0 {
		errs = append(errs, errors.New("'check_interval' must be greater than zero"))
	}
	if cfg.CoolDown < 0 {
		errs = append(errs, errors.New("'cool_down' must not be negative"))
	}
	l := cfg.Levels
	for _, f := range []struct {
		key string
		v   float64
	}{{"debug_logs", l.DebugLogs}, {"info_logs", l.InfoLogs}, {"unsampled_spans", l.UnsampledSpans}} {
		if !(f.v > 0) {
			errs = append(errs, fmt.Errorf("'levels::%s' must be greater than zero", f.key))
		}
	}
	if l.InfoLogs < l.DebugLogs || l.UnsampledSpans < l.InfoLogs {
		errs = append(errs, errors.New("'levels' must not descend: debug_logs <= info_logs <= unsampled_spans"))
	}
	for i, m := range cfg.Protect {
		if m.Key == "" {
			errs = append(errs, fmt.Errorf("'protect::%d::key' must not be empty", i))
		}
	}
	return errors.Join(errs...)
}

func (cfg *Config) thresholds() Thresholds {
	return Thresholds{DebugLogs: cfg.Levels.DebugLogs, InfoLogs: cfg.Levels.InfoLogs, UnsampledSpans: cfg.Levels.UnsampledSpans}
}
