package walstorage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/obsd-dev/obsd/extensions/walstorage/internal/wal"
)

// walExtension is one wal_storage instance: one log directory shared by
// the clients of every component that names it.
type walExtension struct {
	cfg    *Config
	id     component.ID
	logger *zap.Logger
	tel    *telemetry

	mu  sync.Mutex
	log *wal.WAL
}

var _ storage.Extension = (*walExtension)(nil)

func newExtension(cfg *Config, set extension.Settings) (*walExtension, error) {
	e := &walExtension{cfg: cfg, id: set.ID, logger: set.Logger}
	tel, err := newTelemetry(set.TelemetrySettings, set.ID.String(), e.stats)
	if err != nil {
		return nil, err
	}
	e.tel = tel
	return e, nil
}

// Start opens (and, after a crash, recovers) the log. It fails only when
// the directory cannot be used; damaged contents are repaired and counted.
func (e *walExtension) Start(context.Context, component.Host) error {
	if e.cfg.CreateDirectory {
		perm, _ := e.cfg.permissions()
		if err := os.MkdirAll(e.cfg.Directory, os.FileMode(perm)); err != nil {
			return fmt.Errorf("wal_storage %s: create 'directory' %q: %w", e.id, e.cfg.Directory, err)
		}
	}
	opts := e.cfg.walOptions()
	opts.Observer = e.tel
	start := time.Now()
	log, err := wal.Open(opts)
	if err != nil {
		return fmt.Errorf("wal_storage %s: %w", e.id, err)
	}
	e.mu.Lock()
	e.log = log
	e.mu.Unlock()
	st := log.Stats()
	e.logger.Info("WAL storage opened",
		zap.String("directory", e.cfg.Directory), zap.String("fsync", e.cfg.Fsync),
		zap.Int("segments", st.Segments), zap.Int64("live_records", st.LiveRecords),
		zap.Int64("live_bytes", st.LiveBytes), zap.Duration("recovery", time.Since(start)))
	return nil
}

// Shutdown commits, fsyncs and closes the log.
func (e *walExtension) Shutdown(context.Context) error {
	e.mu.Lock()
	log := e.log
	e.log = nil
	e.mu.Unlock()
	var errs []error
	if log != nil {
		errs = append(errs, log.Close())
	}
	errs = append(errs, e.tel.shutdown())
	return errors.Join(errs...)
}

// GetClient returns the key space of one component (and storage name) in
// the log; the same component finds its keys again after a restart.
func (e *walExtension) GetClient(_ context.Context, kind component.Kind, id component.ID, storageName string) (storage.Client, error) {
	e.mu.Lock()
	log := e.log
	e.mu.Unlock()
	if log == nil {
		return nil, fmt.Errorf("wal_storage %s is not started", e.id)
	}
	c, err := log.Client(clientName(kind, id, storageName))
	if err != nil {
		return nil, fmt.Errorf("wal_storage %s: %w", e.id, err)
	}
	return &client{c: c}, nil
}

// clientName is the name a component's key space is stored under, e.g.
// "exporter/otlp_grpc/traces" for the traces queue of exporter otlp_grpc.
func clientName(kind component.Kind, id component.ID, storageName string) string {
	name := strings.ToLower(kind.String()) + "/" + id.String()
	if storageName != "" {
		name += "/" + storageName
	}
	return name
}

func (e *walExtension) stats() (wal.Stats, bool) {
	e.mu.Lock()
	log := e.log
	e.mu.Unlock()
	if log == nil {
		return wal.Stats{}, false
	}
	return log.Stats(), true
}
