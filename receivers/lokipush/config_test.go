package lokipush

import (
	"github.com/obsd-dev/obsd/internal/configtest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
)

func TestDefaultConfigIsValidAndStable(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig()
	require.NoError(t, confmap.New().Unmarshal(&cfg))
	assert.Equal(t, NewFactory().CreateDefaultConfig(), cfg)
	c := cfg.(*Config)
	require.NoError(t, c.Validate())
	assert.Equal(t, "localhost:3100", c.ServerConfig.NetAddr.Endpoint)
	assert.Equal(t, int64(10<<20), c.ServerConfig.MaxRequestBodySize)
}

func TestLoadConfig(t *testing.T) {
	configtest.Run(t, NewFactory(), []configtest.Case[*Config]{
		{
			Name: "every field set in YAML reaches the config",
			File: "config_full.yaml",
			Check: func(t *testing.T, c *Config) {
				assert.Equal(t, "127.0.0.1:13100", c.ServerConfig.NetAddr.Endpoint)
				assert.Equal(t, int64(1<<20), c.ServerConfig.MaxRequestBodySize)
				assert.Equal(t, 5*time.Second, c.RetryAfter)
				assert.Equal(t, 3, c.MaxStreamErrors)
			},
		},
		{
			Name: "all invalid fields are reported together, quoting their keys",
			File: "config_invalid.yaml",
			ValidateErr: []string{
				"'endpoint' must not be empty",
				"'max_request_body_size' must not be negative",
				"'retry_after' must be at least 1s",
				"'max_stream_errors' must be greater than zero",
			},
		},
	})
}
