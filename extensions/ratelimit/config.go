package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"net"
	"sort"

	"go.opentelemetry.io/collector/component"

	"github.com/obsd-dev/obsd/extensions/ratelimit/internal/limiter"
)

// Config is the ratelimit extension configuration.
type Config struct {
	// Key says how a request is attributed to a client: `peer` (remote IP),
	// `header:<name>` (an HTTP header, or the gRPC metadata key of the same
	// name), `auth` (the `subject` attribute of the authenticated client) or
	// `auth:<attribute>`. When the header or attribute is missing, the
	// request is keyed by its peer IP.
	Key string `mapstructure:"key"`

	// Default is the limit of each client not listed in any tier.
	Default LimitConfig `mapstructure:"default"`

	// Global is one bucket shared by all clients; a zero rate disables it.
	Global LimitConfig `mapstructure:"global"`

	// Tiers are named limits; each listed key (client) gets its own bucket
	// of the tier's size. A key may be in one tier only.
	Tiers map[string]TierConfig `mapstructure:"tiers"`

	// MaxClients bounds the table of client buckets; the least recently
	// seen client is evicted when it is full.
	MaxClients int `mapstructure:"max_clients"`

	// MaxLabelClients bounds the distinct `client` label values of the
	// extension's metrics: tier keys first, then the first clients seen;
	// every other client is counted under client="other".
	MaxLabelClients int `mapstructure:"max_label_clients"`
}

// LimitConfig is a token bucket: `rate` requests per second sustained,
// `burst` requests at once.
type LimitConfig struct {
	// Rate is in requests per second; fractions are allowed (0.5 = one
	// request every two seconds).
	Rate float64 `mapstructure:"rate"`
	// Burst is the bucket size.
	Burst int `mapstructure:"burst"`
}

// TierConfig is a named limit and the client keys it applies to.
type TierConfig struct {
	LimitConfig `mapstructure:",squash"`
	// Keys are the client keys (tenants, subjects or IPs, as `key` yields
	// them) that get this tier's limit.
	Keys []string `mapstructure:"keys"`
}

var _ component.Config = (*Config)(nil)

// Validate reports every configuration problem at once.
func (cfg *Config) Validate() error {
	var errs []error
	if _, err := limiter.ParseKeySpec(cfg.Key); err != nil {
		errs = append(errs, fmt.Errorf("'key': %w", err))
	}
	errs = append(errs, cfg.Default.validate("default", false)...)
	errs = append(errs, cfg.Global.validate("global", true)...)
	owner := map[string]string{}
	for _, name := range cfg.tierNames() {
		tier := cfg.Tiers[name]
		where := fmt.Sprintf("tiers::%s", name)
		if name == limiter.DefaultTier || name == limiter.Other {
			errs = append(errs, fmt.Errorf("'%s': the tier name %q is reserved", where, name))
		}
		errs = append(errs, tier.validate(where, false)...)
		if len(tier.Keys) == 0 {
			errs = append(errs, fmt.Errorf("'%s::keys' must list at least one key", where))
		}
		for _, k := range tier.Keys {
			if prev, dup := owner[k]; dup {
				errs = append(errs, fmt.Errorf("'%s::keys': %q is already in tier %q; a key may be in one tier only", where, k, prev))
			}
			if k == "" || len(k) > limiter.MaxKeyLen {
				errs = append(errs, fmt.Errorf("'%s::keys': %q must be 1 to %d bytes", where, k, limiter.MaxKeyLen))
			}
			owner[k] = name
		}
	}
	if cfg.MaxClients < 1 {
		errs = append(errs, errors.New("'max_clients' must be at least 1"))
	}
	if cfg.MaxLabelClients < 0 {
		errs = append(errs, errors.New("'max_label_clients' must not be negative"))
	}
	return errors.Join(errs...)
}

func (l LimitConfig) validate(where string, zeroDisables bool) []error {
	if zeroDisables && l.Rate == 0 && l.Burst == 0 {
		return nil
	}
	var errs []error
	if !(l.Rate > 0) || math.IsInf(l.Rate, 0) {
		errs = append(errs, fmt.Errorf("'%s::rate' must be greater than zero", where))
	}
	if l.Burst < 1 {
		errs = append(errs, fmt.Errorf("'%s::burst' must be at least 1", where))
	}
	return errs
}

// tierNames is the sorted tier names, so errors and labels are stable.
func (cfg *Config) tierNames() []string {
	names := make([]string, 0, len(cfg.Tiers))
	for name := range cfg.Tiers {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// limiterConfig converts a validated Config to the limiter's. With `key:
// peer`, tier keys that are IP addresses are written in canonical form
// (`::0001` becomes `::1`), as peer keys are.
func (cfg *Config) limiterConfig() limiter.Config {
	spec, _ := limiter.ParseKeySpec(cfg.Key)
	lc := limiter.Config{
		Default:   limiter.Limit{Rate: cfg.Default.Rate, Burst: cfg.Default.Burst},
		MaxKeys:   cfg.MaxClients,
		MaxLabels: cfg.MaxLabelClients,
	}
	if cfg.Global.Rate != 0 || cfg.Global.Burst != 0 {
		lc.Global = &limiter.Limit{Rate: cfg.Global.Rate, Burst: cfg.Global.Burst}
	}
	for _, name := range cfg.tierNames() {
		t := cfg.Tiers[name]
		keys := t.Keys
		if spec.Source == limiter.SourcePeer {
			keys = canonicalIPs(keys)
		}
		lc.Tiers = append(lc.Tiers, limiter.Tier{Name: name, Limit: limiter.Limit{Rate: t.Rate, Burst: t.Burst}, Keys: keys})
	}
	return lc
}

// canonicalIPs returns keys with every IP address in canonical form; other
// keys are kept as they are.
func canonicalIPs(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		if ip := net.ParseIP(k); ip != nil {
			k = ip.String()
		}
		out[i] = k
	}
	return out
}
