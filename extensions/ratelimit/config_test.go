package ratelimit

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

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
	tests := []struct {
		name        string
		file        string
		check       func(t *testing.T, c *Config)
		decodeErr   string
		validateErr []string
	}{
		{
			name: "every field set in YAML reaches the config and the limiter",
			file: "config_full.yaml",
			check: func(t *testing.T, c *Config) {
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
			name: "all invalid fields are reported together, quoting their keys",
			file: "config_invalid.yaml",
			validateErr: []string{
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
			name:      "an unknown field is a decode error",
			file:      "config_unknown_field.yaml",
			decodeErr: "rate_per_second",
		},
		{
			name:      "a rate that is not a number is a decode error",
			file:      "config_bad_type.yaml",
			decodeErr: "rate",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cm, err := confmaptest.LoadConf(filepath.Join("testdata", tt.file))
			require.NoError(t, err)
			cfg := NewFactory().CreateDefaultConfig()
			err = cm.Unmarshal(&cfg)
			if tt.decodeErr != "" {
				require.ErrorContains(t, err, tt.decodeErr)
				return
			}
			require.NoError(t, err)
			c := cfg.(*Config)
			err = c.Validate()
			if len(tt.validateErr) > 0 {
				require.Error(t, err)
				for _, want := range tt.validateErr {
					assert.ErrorContains(t, err, want)
				}
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}
