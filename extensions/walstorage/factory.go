// Package walstorage is the wal_storage extension: a collector storage
// extension (the `storage:` of exporters' sending queues, filelog
// checkpoints, any component taking one) backed by obsd's own write-ahead
// log instead of a B+tree: segmented, append-only files of checksummed
// records, group commit across every client of the extension, and a start
// that always succeeds on damaged files (torn tail truncated, damaged
// records skipped, unreadable segments moved aside; each counted in
// obsd_wal_corruptions_total and logged once).
//
// When the log reaches max_size_mib, or the disk its reserve, a write that
// would add a key fails with an error that carries gRPC UNAVAILABLE and a
// RetryInfo: the OTLP receivers answer it with UNAVAILABLE (gRPC) or 503
// and Retry-After (HTTP), so clients retry and no acknowledged item is
// lost. Reading and acknowledging queued items keep working when full.
package walstorage

import (
	"context"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
)

// Type is the extension's type: `extensions: wal_storage:`.
var Type = component.MustNewType("wal_storage")

// Stability of the extension.
const Stability = component.StabilityLevelAlpha

// scopeName is the instrumentation scope of the extension's metrics.
const scopeName = "github.com/obsd-dev/obsd/extensions/walstorage"

// Defaults of the configuration.
const (
	defaultDirectory          = "/var/lib/obsd/wal"
	defaultPermissions        = "0750"
	defaultFsyncInterval      = time.Second
	defaultSegmentSizeMiB     = 8
	defaultMaxSizeMiB         = 1024
	defaultReservedDiskMiB    = 16
	defaultCompactionInterval = 10 * time.Second
	defaultMaxLiveRatio       = 0.5
	defaultMaxMiBPerPass      = 32
	defaultMaxPassDuration    = 500 * time.Millisecond
)

// NewFactory returns the factory of the wal_storage extension.
func NewFactory() extension.Factory {
	return extension.NewFactory(Type, createDefaultConfig, create, Stability)
}

func createDefaultConfig() component.Config {
	return &Config{
		Directory:            defaultDirectory,
		CreateDirectory:      true,
		DirectoryPermissions: defaultPermissions,
		Fsync:                FsyncInterval,
		FsyncInterval:        defaultFsyncInterval,
		SegmentSizeMiB:       defaultSegmentSizeMiB,
		MaxSizeMiB:           defaultMaxSizeMiB,
		ReservedDiskMiB:      defaultReservedDiskMiB,
		Compaction: CompactionConfig{
			Interval:      defaultCompactionInterval,
			MaxLiveRatio:  defaultMaxLiveRatio,
			MaxMiBPerPass: defaultMaxMiBPerPass,
			MaxDuration:   defaultMaxPassDuration,
		},
	}
}

func create(_ context.Context, set extension.Settings, cfg component.Config) (extension.Extension, error) {
	return newExtension(cfg.(*Config), set)
}
