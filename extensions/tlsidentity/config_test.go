package tlsidentity

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"

	"github.com/obsd-dev/obsd/internal/configtest"
)

func TestDefaultConfigIsValid(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig()
	require.NoError(t, confmap.New().Unmarshal(&cfg))
	c := cfg.(*Config)
	require.NoError(t, c.Validate())
	assert.Equal(t, "subject_cn", c.Identity)
	assert.Equal(t, []string{"subject", "tenant"}, c.Attributes)
	assert.False(t, c.Required)
}

func TestLoadConfig(t *testing.T) {
	configtest.Run(t, NewFactory(), []configtest.Case[*Config]{
		{
			Name: "every field set in YAML reaches the config",
			File: "config_full.yaml",
			Check: func(t *testing.T, c *Config) {
				assert.Equal(t, &Config{Identity: "san_uri", Required: true, Attributes: []string{"tenant"}}, c)
			},
		},
		{
			Name:        "all invalid fields are reported together, quoting their keys",
			File:        "config_invalid.yaml",
			ValidateErr: []string{"'identity': \"issuer\" is not one of", "'attributes' must name at least one attribute"},
		},
		{Name: "an unknown field is a decode error", File: "config_unknown_field.yaml", DecodeErr: "header"},
	})
}
