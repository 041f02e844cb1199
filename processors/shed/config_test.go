package shed

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"

	"github.com/obsd-dev/obsd/internal/configtest"
)

func TestDefaultConfigIsValidAndStable(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig()
	require.NoError(t, confmap.New().Unmarshal(&cfg))
	assert.Equal(t, NewFactory().CreateDefaultConfig(), cfg)
	require.NoError(t, cfg.(*Config).Validate())
}

func TestLoadConfig(t *testing.T) {
	configtest.Run(t, NewFactory(), []configtest.Case[*Config]{
		{
			Name: "every field set in YAML reaches the config",
			File: "config_full.yaml",
			Check: func(t *testing.T, c *Config) {
				assert.Equal(t, &Config{
					MemoryLimitMiB: 1024,
					CheckInterval:  250 * time.Millisecond,
					CoolDown:       2 * time.Second,
					Levels:         LevelsConfig{DebugLogs: 0.5, InfoLogs: 0.6, UnsampledSpans: 0.8},
					Protect:        []MatcherConfig{{Key: "slo.counted"}, {Key: "service.name", Values: []string{"checkout"}}},
				}, c)
			},
		},
		{
			Name: "all invalid fields are reported together, quoting their keys",
			File: "config_invalid.yaml",
			ValidateErr: []string{
				"'memory_limit_mib' must be greater than zero",
				"'check_interval' must be greater than zero",
				"'cool_down' must not be negative",
				"'levels::debug_logs' must be greater than zero",
				"'levels' must not descend",
				"'protect::0::key' must not be empty",
			},
		},
		{
			Name:      "an unknown field is a decode error",
			File:      "config_unknown_field.yaml",
			DecodeErr: "floor",
		},
		{
			Name:      "a level that is not a number is a decode error",
			File:      "config_bad_type.yaml",
			DecodeErr: "info_logs",
		},
	})
}
