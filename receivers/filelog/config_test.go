package filelog

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap/confmaptest"
)

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		decodeErr string
		check     func(t *testing.T, cfg *Config)
	}{
		{
			name: "the shipped container setup decodes into the upstream config",
			file: "container.yaml",
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, "end", cfg.InputConfig.StartAt)
				assert.Equal(t, 512<<10, int(cfg.InputConfig.MaxLogSize))
				assert.Equal(t, "truncate", cfg.InputConfig.MaxLogSizeBehavior)
				assert.Equal(t, 128, cfg.InputConfig.MaxConcurrentFiles)
				require.NotNil(t, cfg.StorageID)
				assert.Equal(t, "file_storage/checkpoints", cfg.StorageID.String())
				assert.True(t, cfg.RetryOnFailure.Enabled)
				assert.Equal(t, time.Duration(0), cfg.RetryOnFailure.MaxElapsedTime)
				assert.Equal(t, 256<<10, oversizeThreshold(cfg), "the container parser's limit, under the reader's")
			},
		},
		{
			name: "without a container parser the reader's limit is the threshold",
			file: "plain.yaml",
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, 64<<10, oversizeThreshold(cfg))
			},
		},
		{
			name: "with equal limits the threshold leaves room for the CRI prefix the parser removes",
			file: "container_defaults.yaml",
			check: func(t *testing.T, cfg *Config) {
				assert.Equal(t, 1<<20-maxCRIPrefix, oversizeThreshold(cfg))
			},
		},
		{
			name:      "an unknown operator is a decoding error",
			file:      "bad_operator.yaml",
			decodeErr: "no_such_operator",
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
			tt.check(t, cfg.(*Config))
		})
	}
}

func TestDefaultConfigIsUpstreams(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig().(*Config)
	assert.Equal(t, "end", cfg.InputConfig.StartAt)
	assert.Equal(t, 1<<20, oversizeThreshold(cfg))
	assert.Equal(t, "file_log", NewFactory().Type().String())
}
