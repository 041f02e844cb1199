package lokipush

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"
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
	tests := []struct {
		name        string
		file        string
		check       func(t *testing.T, c *Config)
		decodeErr   string
		validateErr []string
	}{
		{
			name: "every field set in YAML reaches the config",
			file: "config_full.yaml",
			check: func(t *testing.T, c *Config) {
				assert.Equal(t, "127.0.0.1:13100", c.ServerConfig.NetAddr.Endpoint)
				assert.Equal(t, int64(1<<20), c.ServerConfig.MaxRequestBodySize)
				assert.Equal(t, 5*time.Second, c.RetryAfter)
				assert.Equal(t, 3, c.MaxStreamErrors)
			},
		},
		{
			name: "all invalid fields are reported together, quoting their keys",
			file: "config_invalid.yaml",
			validateErr: []string{
				"'endpoint' must not be empty",
				"'max_request_body_size' must not be negative",
				"'retry_after' must be at least 1s",
				"'max_stream_errors' must be greater than zero",
			},
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
