package tenant

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
	require.NoError(t, cfg.(*Config).Validate())
	assert.Equal(t, &Config{FromAuth: "tenant", Attribute: "obsd.tenant"}, cfg)
}

func TestLoadConfig(t *testing.T) {
	configtest.Run(t, NewFactory(), []configtest.Case[*Config]{
		{
			Name: "every field set in YAML reaches the config",
			File: "config_full.yaml",
			Check: func(t *testing.T, c *Config) {
				assert.Equal(t, &Config{FromAuth: "subject", FromMetadata: "X-Scope-OrgID", Attribute: "loki.tenant", Default: "anonymous"}, c)
			},
		},
		{
			Name: "all invalid fields are reported together, quoting their keys",
			File: "config_invalid.yaml",
			ValidateErr: []string{
				"at least one of 'from_auth' and 'from_metadata' must be set",
				"'attribute' must not be empty",
				"'default' must be",
			},
		},
		{Name: "an unknown field is a decode error", File: "config_unknown_field.yaml", DecodeErr: "from_header"},
	})
}
