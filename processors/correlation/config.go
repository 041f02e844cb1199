package correlation

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/obsd-dev/obsd/processors/correlation/internal/ids"
)

// Id formats a key entry may name.
const (
	FormatHex         = "hex"
	FormatTraceparent = "traceparent"
	FormatB3          = "b3"
	FormatJaeger      = "jaeger"
	FormatDatadog     = "datadog"
)

// Actions a policy may take on records without a valid id.
const (
	ActionObserve = "observe"
	ActionTag     = "tag"
	ActionDrop    = "drop"
	ActionRoute   = "route"
)

// Sources a record's ids are looked up in.
const (
	SourceAttributes = "attributes"
	SourceBody       = "body"
)

// Config configures the correlation processor. The zero values of optional
// fields are replaced by the defaults of createDefaultConfig.
type Config struct {
	// Keys are the fields ids are looked for in, in priority order: the
	// first entry with a valid id wins.
	Keys []KeyConfig `mapstructure:"keys"`
	// Sources are where keys are looked for, in order: "attributes" and/or
	// "body" (a map body, or a string body holding a JSON object or logfmt).
	Sources []string `mapstructure:"sources"`
	// CorrelationKeys are secondary correlation keys (request ids). They
	// are never written into TraceId; the first one found is copied into
	// CorrelationAttribute. Matched case-insensitively.
	CorrelationKeys []string `mapstructure:"correlation_keys"`
	// CorrelationAttribute is the attribute correlation keys are normalised into.
	CorrelationAttribute string `mapstructure:"correlation_attribute"`
	// DefaultPolicy applies to resources no entry of Policies matches.
	DefaultPolicy PolicyConfig `mapstructure:"default_policy"`
	// Policies are tried in order; the first whose match holds applies.
	Policies []PolicyConfig `mapstructure:"policies"`
	// Route names the attribute the route action sets.
	Route RouteConfig `mapstructure:"route"`
	// Orphans configures counting logs whose trace id no recent span carries.
	Orphans OrphansConfig `mapstructure:"orphans"`
	// MaxServices caps distinct service label values; further services are
	// counted as service="other".
	MaxServices int `mapstructure:"max_services"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// KeyConfig is one place an id can be found.
type KeyConfig struct {
	// Format is hex, traceparent, b3, jaeger or datadog.
	Format string `mapstructure:"format"`
	// Trace is the field holding the trace id (or the whole header for
	// traceparent, b3 and jaeger). Dotted names also match nested objects.
	Trace string `mapstructure:"trace"`
	// Span is the field holding the span id (hex and datadog only; optional).
	Span string `mapstructure:"span"`
	// CaseInsensitive matches the field names in any letter case.
	CaseInsensitive bool `mapstructure:"case_insensitive"`
}

// PolicyConfig chooses what happens to records without a valid id.
type PolicyConfig struct {
	// Name labels the policy in metrics (dropped_total, routed_total).
	Name string `mapstructure:"name"`
	// Match maps resource attribute names (service.name,
	// k8s.namespace.name, ...) to accepted values; all listed attributes
	// must match one of their values.
	Match map[string][]string `mapstructure:"match"`
	// Action is observe, tag, drop or route.
	Action string `mapstructure:"action"`
	// ExemptMinSeverity exempts records at or above this severity (a name
	// such as "error" or a number 1-24) from the action; they are counted only.
	ExemptMinSeverity string `mapstructure:"exempt_min_severity"`
}

// RouteConfig is the attribute the route action sets on a record.
type RouteConfig struct {
	// Attribute is the record attribute to set.
	Attribute string `mapstructure:"attribute"`
	// Value is the value to set it to.
	Value string `mapstructure:"value"`
}

// OrphansConfig configures the bounded index of recently seen trace ids.
type OrphansConfig struct {
	// Enabled turns the index and the orphan counter on (off by default).
	Enabled bool `mapstructure:"enabled"`
	// Window is how long a trace id seen on a span stays in the index.
	Window time.Duration `mapstructure:"window"`
	// MaxEntries is the hard cap on indexed trace ids; the oldest go first.
	MaxEntries int `mapstructure:"max_entries"`
}

var _ component.Config = (*Config)(nil)

var validFormats = map[string]bool{FormatHex: true, FormatTraceparent: true, FormatB3: true, FormatJaeger: true, FormatDatadog: true}

var validActions = map[string]bool{ActionObserve: true, ActionTag: true, ActionDrop: true, ActionRoute: true}

// Validate checks the configuration and returns every problem at once.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Keys) == 0 {
		errs = append(errs, errors.New("'keys' must not be empty"))
	}
	if n := 2*len(c.Keys) + len(c.CorrelationKeys); n > ids.MaxKeys {
		errs = append(errs, fmt.Errorf("'keys' and 'correlation_keys' name %d fields, at most %d are allowed", n, ids.MaxKeys))
	}
	for i, k := range c.Keys {
		if !validFormats[k.Format] {
			errs = append(errs, fmt.Errorf("'keys[%d].format' %q must be one of hex, traceparent, b3, jaeger, datadog", i, k.Format))
		}
		if k.Trace == "" {
			errs = append(errs, fmt.Errorf("'keys[%d].trace' must not be empty", i))
		}
		if k.Span != "" && k.Format != FormatHex && k.Format != FormatDatadog {
			errs = append(errs, fmt.Errorf("'keys[%d].span' is only allowed with format hex or datadog", i))
		}
	}
	if len(c.Sources) == 0 {
		errs = append(errs, errors.New("'sources' must not be empty"))
	}
	for i, s := range c.Sources {
		if s != SourceAttributes && s != SourceBody {
			errs = append(errs, fmt.Errorf("'sources[%d]' %q must be attributes or body", i, s))
		}
	}
	if len(c.CorrelationKeys) > 0 && c.CorrelationAttribute == "" {
		errs = append(errs, errors.New("'correlation_attribute' must not be empty when 'correlation_keys' are set"))
	}
	errs = append(errs, c.DefaultPolicy.validate("default_policy", false)...)
	for i, p := range c.Policies {
		errs = append(errs, p.validate(fmt.Sprintf("policies[%d]", i), true)...)
	}
	if c.usesRoute() && (c.Route.Attribute == "" || c.Route.Value == "") {
		errs = append(errs, errors.New("'route.attribute' and 'route.value' must be set when a policy uses the route action"))
	}
	if c.Orphans.Enabled {
		if c.Orphans.Window <= 0 {
			errs = append(errs, errors.New("'orphans.window' must be greater than zero"))
		}
		if c.Orphans.MaxEntries <= 0 {
			errs = append(errs, errors.New("'orphans.max_entries' must be greater than zero"))
		}
	}
	if c.MaxServices <= 0 {
		errs = append(errs, errors.New("'max_services' must be greater than zero"))
	}
	return errors.Join(errs...)
}

func (c *Config) usesRoute() bool {
	if c.DefaultPolicy.Action == ActionRoute {
		return true
	}
	for _, p := range c.Policies {
		if p.Action == ActionRoute {
			return true
		}
	}
	return false
}

func (p *PolicyConfig) validate(path string, needMatch bool) []error {
	var errs []error
	if !validActions[p.Action] {
		errs = append(errs, fmt.Errorf("'%s.action' %q must be one of observe, tag, drop, route", path, p.Action))
	}
	if needMatch && len(p.Match) == 0 {
		errs = append(errs, fmt.Errorf("'%s.match' must not be empty", path))
	}
	if needMatch && p.Name == "" {
		errs = append(errs, fmt.Errorf("'%s.name' must not be empty", path))
	}
	if _, err := parseSeverity(p.ExemptMinSeverity); err != nil {
		errs = append(errs, fmt.Errorf("'%s.exempt_min_severity': %w", path, err))
	}
	return errs
}

var severityNames = map[string]int32{"trace": 1, "debug": 5, "info": 9, "warn": 13, "warning": 13, "error": 17, "fatal": 21}

// parseSeverity turns a severity name or number into an OTLP severity
// number; empty means no exemption (0).
func parseSeverity(s string) (int32, error) {
	if s == "" {
		return 0, nil
	}
	if n, ok := severityNames[strings.ToLower(s)]; ok {
		return n, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 24 {
		return 0, fmt.Errorf("%q must be trace, debug, info, warn, error, fatal or a number from 1 to 24", s)
	}
	return int32(n), nil
}
