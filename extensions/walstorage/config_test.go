package walstorage

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap"

	"github.com/obsd-dev/obsd/extensions/walstorage/internal/wal"
	"github.com/obsd-dev/obsd/internal/configtest"
)

func TestDefaultConfigIsValidAndStable(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig()
	require.NoError(t, confmap.New().Unmarshal(&cfg))
	assert.Equal(t, NewFactory().CreateDefaultConfig(), cfg)
	c := cfg.(*Config)
	require.NoError(t, c.Validate())
	assert.Equal(t, "/var/lib/obsd/wal", c.Directory)
	assert.Equal(t, FsyncInterval, c.Fsync)
	opts := c.walOptions()
	assert.Equal(t, wal.FsyncInterval, opts.Fsync)
	assert.Equal(t, time.Second, opts.FsyncInterval)
	assert.Equal(t, int64(8<<20), opts.SegmentSize)
	assert.Equal(t, int64(1<<30), opts.MaxSize)
	assert.Equal(t, int64(16<<20), opts.ReserveFree)
}

func TestLoadConfig(t *testing.T) {
	configtest.Run(t, NewFactory(), []configtest.Case[*Config]{
		{
			Name: "every field set in YAML reaches the config and the log's options",
			File: "config_full.yaml",
			Check: func(t *testing.T, c *Config) {
				assert.Equal(t, &Config{
					Directory:            "/var/lib/obsd/queue",
					CreateDirectory:      false,
					DirectoryPermissions: "0700",
					Fsync:                FsyncAlways,
					FsyncInterval:        250 * time.Millisecond,
					SegmentSizeMiB:       16,
					MaxSizeMiB:           2048,
					ReservedDiskMiB:      64,
					Compaction:           CompactionConfig{Interval: 30 * time.Second, MaxLiveRatio: 0.3, MaxMiBPerPass: 8, MaxDuration: 100 * time.Millisecond},
				}, c)
				perm, err := c.permissions()
				require.NoError(t, err)
				assert.Equal(t, uint32(0o700), perm)
				opts := c.walOptions()
				assert.Equal(t, wal.FsyncAlways, opts.Fsync)
				assert.Equal(t, int64(2048<<20), opts.MaxSize)
				assert.Equal(t, int64(64<<20), opts.ReserveFree)
				assert.Equal(t, int64(8<<20), opts.Compaction.MaxBytesPerPass)
			},
		},
		{
			Name: "what a config leaves out keeps its default",
			File: "config_minimal.yaml",
			Check: func(t *testing.T, c *Config) {
				assert.Equal(t, "/tmp/obsd-wal", c.Directory)
				assert.Equal(t, wal.FsyncNever, c.walOptions().Fsync)
				assert.True(t, c.CreateDirectory)
				assert.Equal(t, defaultSegmentSizeMiB, c.SegmentSizeMiB)
				assert.Equal(t, defaultCompactionInterval, c.Compaction.Interval)
			},
		},
		{
			Name: "all invalid fields are reported together, quoting their keys",
			File: "config_invalid.yaml",
			ValidateErr: []string{
				"'directory' must be set",
				"'directory_permissions' must be octal permissions such as 0750: \"rwx\"",
				"'fsync' must be one of never, interval, always, not \"sometimes\"",
				"'segment_size_mib' must be between 1 and 1024",
				"'max_size_mib' must not be negative",
				"'reserved_disk_mib' must be at least 'segment_size_mib'",
				"'compaction::max_live_ratio' must be greater than 0 and less than 1",
				"'compaction::max_mib_per_pass' must be at least 1",
				"'compaction::max_duration' must be greater than zero",
			},
		},
		{
			Name: "sizes that cannot work together, a zero interval and a negative compaction interval",
			File: "config_invalid_sizes.yaml",
			ValidateErr: []string{
				"'fsync_interval' must be greater than zero with 'fsync: interval'",
				"'max_size_mib' must be at least twice 'segment_size_mib'",
				"'reserved_disk_mib' must be at least 'segment_size_mib'",
				"'compaction::interval' must not be negative",
			},
		},
		{
			Name:      "an unknown field is a decode error",
			File:      "config_unknown_field.yaml",
			DecodeErr: "sync",
		},
		{
			Name:      "a size that is not a number is a decode error",
			File:      "config_bad_type.yaml",
			DecodeErr: "segment_size_mib",
		},
	})
}
