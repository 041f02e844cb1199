package circuitbreaker

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
				assert.Equal(t, &Config{FailureThreshold: 10, FailureWindow: 20, Delay: 45 * time.Second, SuccessThreshold: 3}, c)
			},
		},
		{
			Name: "unset fields keep their defaults",
			File: "config_partial.yaml",
			Check: func(t *testing.T, c *Config) {
				assert.Equal(t, &Config{FailureThreshold: 5, Delay: 5 * time.Second, SuccessThreshold: 2}, c)
			},
		},
		{
			Name: "all invalid fields are reported together, quoting their keys",
			File: "config_invalid.yaml",
			ValidateErr: []string{
				"'failure_threshold' must be at least 1",
				"'delay' must be greater than zero",
				"'success_threshold' must be at least 1",
			},
		},
		{
			Name:        "a window smaller than the threshold is refused",
			File:        "config_bad_window.yaml",
			ValidateErr: []string{"'failure_window' must be 0 (consecutive failures) or at least 'failure_threshold'"},
		},
		{
			Name:      "an unknown field is a decode error",
			File:      "config_unknown_field.yaml",
			DecodeErr: "open_duration",
		},
		{
			Name:      "a delay that is not a duration is a decode error",
			File:      "config_bad_type.yaml",
			DecodeErr: "delay",
		},
	})
}
