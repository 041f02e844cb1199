package ratelimit

import (
	"github.com/obsd-dev/obsd/internal/configtest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"

	"github.com/obsd-dev/obsd/extensions/ratelimit/internal/limiter"
)

func TestDefaultConfigIsValidAndStable(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig()
	require.NoError(t, confmap.New().Unmarshal(&cfg))
	assert.Equal(t, NewFactory().CreateDefaultConfig(), cfg)
	c := cfg.(*Config)
	require.NoError(t, c.Validate())
	assert.Equal(t, "peer", c.Key)
	assert.Equal(t, 10000, c.MaxClients)
	assert.Equal(t, 100, c.MaxLabelClients)
	assert.Nil(t, c.limiterConfig().Global, "no global bucket unless configured")
}

func TestPeerTierKeysAreCanonicalIPs(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Tiers = map[string]TierConfig{"lan": {LimitConfig: LimitConfig{Rate: 1, Burst: 1}, Keys: []string{"::0001", "010.0.0.1", "10.0.0.2", "host-a"}}}
	require.NoError(t, cfg.Validate())
	assert.Equal(t, []string{"::1", "010.0.0.1", "10.0.0.2", "host-a"}, cfg.limiterConfig().Tiers[0].Keys,
		"IPs as peer keys are written; what does not parse as an IP is kept")
	cfg.Key = "header:X-Tenant"
	assert.Equal(t, []string{"::0001", "010.0.0.1", "10.0.0.2", "host-a"}, cfg.limiterConfig().Tiers[0].Keys,
		"header keys are compared as sent")
}

func TestLoadConfig(t *testing.T) {
	configtest.Run(t, NewFactory(), []configtest.Case[*Config]{
		{
			Name: "every field set in YAML reaches the config and the limiter",
			File: "config_full.yaml",
			Check: func(t *testing.T, c *Config) {
				assert.Equal(t, "header:X-Scope-OrgID", c.Key)
				assert.Equal(t, LimitConfig{Rate: 50, Burst: 100}, c.Default)
				assert.Equal(t, LimitConfig{Rate: 1000, Burst: 2000}, c.Global)
				assert.Equal(t, TierConfig{LimitConfig: LimitConfig{Rate: 500, Burst: 1000}, Keys: []string{"acme", "globex"}}, c.Tiers["gold"])
				assert.Equal(t, TierConfig{LimitConfig: LimitConfig{Rate: 0.5, Burst: 1}, Keys: []string{"trial"}}, c.Tiers["free"])
				assert.Equal(t, 5000, c.MaxClients)
				assert.Equal(t, 20, c.MaxLabelClients)
				lc := c.limiterConfig()
				assert.Equal(t, &limiter.Limit{Rate: 1000, Burst: 2000}, lc.Global)
				require.Len(t, lc.Tiers, 2)
				assert.Equal(t, "free", lc.Tiers[0].Name, "tiers are sorted by name")
				_, err := limiter.New(lc)
				assert.NoError(t, err)
			},
		},
		{
			Name: "all invalid fields are reported together, quoting their keys",
			File: "config_invalid.yaml",
			ValidateErr: []string{
				"'key': \"cookie:session\" is not one of",
				"'default::rate' must be greater than zero",
				"'default::burst' must be at least 1",
				"'global::rate' must be greater than zero",
				"'tiers::default': the tier name \"default\" is reserved",
				"'tiers::gold::keys': \"a\" is already in tier \"default\"",
				"'tiers::empty::keys' must list at least one key",
				"'max_clients' must be at least 1",
				"'max_label_clients' must not be negative",
			},
		},
		{
			Name:      "an unknown field is a decode error",
			File:      "config_unknown_field.yaml",
			DecodeErr: "rate_per_second",
		},
		{
			Name:      "a rate that is not a number is a decode error",
			File:      "config_bad_type.yaml",
			DecodeErr: "rate",
		},
	})
}
