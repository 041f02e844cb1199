package walstorage

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/component"

	"github.com/obsd-dev/obsd/extensions/walstorage/internal/wal"
)

// The values of `fsync`.
const (
	FsyncNever    = "never"
	FsyncInterval = "interval"
	FsyncAlways   = "always"
)

// maxSegmentSizeMiB bounds `segment_size_mib`.
const maxSegmentSizeMiB = 1024

// Config is the wal_storage extension configuration.
type Config struct {
	// Directory holds the log's files. Give each extension instance (and
	// each obsd process) its own: a second process is refused.
	Directory string `mapstructure:"directory"`

	// CreateDirectory creates Directory (and its parents) at start.
	CreateDirectory bool `mapstructure:"create_directory"`

	// DirectoryPermissions are the octal permissions Directory is created
	// with (default 0750).
	DirectoryPermissions string `mapstructure:"directory_permissions"`

	// Fsync says when writes are forced to disk: `never` (the kernel
	// flushes; survives a process crash), `interval` (every
	// fsync_interval; survives a process crash, a node crash loses at most
	// the last interval) or `always` (before each write is acknowledged,
	// shared by concurrent writers; survives a node crash).
	Fsync string `mapstructure:"fsync"`

	// FsyncInterval is the period of `fsync: interval`.
	FsyncInterval time.Duration `mapstructure:"fsync_interval"`

	// SegmentSizeMiB is the size of one log file; a file is deleted once
	// nothing in it is live.
	SegmentSizeMiB int `mapstructure:"segment_size_mib"`

	// MaxSizeMiB caps the log's files; when reached, writes that add keys
	// (a queue's new items) are refused retryably. 0: no cap but the disk.
	MaxSizeMiB int `mapstructure:"max_size_mib"`

	// ReservedDiskMiB is free disk space kept for the writes that drain
	// the log (reading and acknowledging queued items): below it, writes
	// that add keys are refused retryably. At least segment_size_mib.
	ReservedDiskMiB int `mapstructure:"reserved_disk_mib"`

	// Compaction copies the live records of mostly dead files forward.
	Compaction CompactionConfig `mapstructure:"compaction"`
}

// CompactionConfig bounds the background compaction in time and I/O.
type CompactionConfig struct {
	// Interval between passes; 0 disables compaction.
	Interval time.Duration `mapstructure:"interval"`
	// MaxLiveRatio: a file whose live bytes are at most this share of it
	// is compacted once it stops draining (or at once when the log is full).
	MaxLiveRatio float64 `mapstructure:"max_live_ratio"`
	// MaxMiBPerPass bounds what one pass reads from old files.
	MaxMiBPerPass int `mapstructure:"max_mib_per_pass"`
	// MaxDuration bounds the time of one pass.
	MaxDuration time.Duration `mapstructure:"max_duration"`
}

var _ component.Config = (*Config)(nil)

// Validate reports every configuration problem at once.
func (cfg *Config) Validate() error {
	var errs []error
	if cfg.Directory == "" {
		errs = append(errs, errors.New("'directory' must be set"))
	}
	if _, err := cfg.permissions(); err != nil {
		errs = append(errs, fmt.Errorf("'directory_permissions' must be octal permissions such as 0750: %q", cfg.DirectoryPermissions))
	}
	switch cfg.Fsync {
	case FsyncNever, FsyncAlways:
	case FsyncInterval:
		if cfg.FsyncInterval <= 0 {
			errs = append(errs, errors.New("'fsync_interval' must be greater than zero with 'fsync: interval'"))
		}
	default:
		errs = append(errs, fmt.Errorf("'fsync' must be one of never, interval, always, not %q", cfg.Fsync))
	}
	if cfg.SegmentSizeMiB < 1 || cfg.SegmentSizeMiB > maxSegmentSizeMiB {
		errs = append(errs, fmt.Errorf("'segment_size_mib' must be between 1 and %d", maxSegmentSizeMiB))
	}
	if cfg.MaxSizeMiB < 0 {
		errs = append(errs, errors.New("'max_size_mib' must not be negative (0: no cap)"))
	} else if cfg.MaxSizeMiB > 0 && cfg.MaxSizeMiB < 2*cfg.SegmentSizeMiB {
		errs = append(errs, errors.New("'max_size_mib' must be at least twice 'segment_size_mib' (or 0: no cap)"))
	}
	if cfg.ReservedDiskMiB < cfg.SegmentSizeMiB {
		errs = append(errs, errors.New("'reserved_disk_mib' must be at least 'segment_size_mib': draining a full log needs a new file"))
	}
	c := cfg.Compaction
	if c.Interval < 0 {
		errs = append(errs, errors.New("'compaction::interval' must not be negative (0 disables compaction)"))
	}
	if c.Interval > 0 {
		if !(c.MaxLiveRatio > 0 && c.MaxLiveRatio < 1) {
			errs = append(errs, errors.New("'compaction::max_live_ratio' must be greater than 0 and less than 1"))
		}
		if c.MaxMiBPerPass < 1 {
			errs = append(errs, errors.New("'compaction::max_mib_per_pass' must be at least 1"))
		}
		if c.MaxDuration <= 0 {
			errs = append(errs, errors.New("'compaction::max_duration' must be greater than zero"))
		}
	}
	return errors.Join(errs...)
}

func (cfg *Config) permissions() (uint32, error) {
	p, err := strconv.ParseUint(cfg.DirectoryPermissions, 8, 32)
	if err == nil && p > 0o7777 {
		err = errors.New("out of range")
	}
	return uint32(p), err
}

// walOptions converts a validated Config to the log's options.
func (cfg *Config) walOptions() wal.Options {
	const mib = 1 << 20
	mode := map[string]wal.FsyncMode{FsyncNever: wal.FsyncNever, FsyncInterval: wal.FsyncInterval, FsyncAlways: wal.FsyncAlways}[cfg.Fsync]
	return wal.Options{
		Dir:           cfg.Directory,
		SegmentSize:   int64(cfg.SegmentSizeMiB) * mib,
		MaxSize:       int64(cfg.MaxSizeMiB) * mib,
		ReserveFree:   int64(cfg.ReservedDiskMiB) * mib,
		Fsync:         mode,
		FsyncInterval: cfg.FsyncInterval,
		Compaction: wal.CompactionOptions{
			Interval:           cfg.Compaction.Interval,
			MaxLiveRatio:       cfg.Compaction.MaxLiveRatio,
			MaxBytesPerPass:    int64(cfg.Compaction.MaxMiBPerPass) * mib,
			MaxDurationPerPass: cfg.Compaction.MaxDuration,
		},
	}
}
