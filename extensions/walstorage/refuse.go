package walstorage

import (
	"errors"
	"time"

	"go.opentelemetry.io/collector/extension/xextension/storage"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/obsd-dev/obsd/extensions/walstorage/internal/wal"
	"github.com/obsd-dev/obsd/internal/retryhint"
)

// refusal is a write refused because the log or the disk is full. The
// exporterhelper persistent queue returns it from Offer unchanged; the
// OTLP receivers find its gRPC status and answer UNAVAILABLE with a
// RetryInfo (gRPC) or 503 with Retry-After (HTTP): the client retries, and
// nothing it was told was accepted is lost. It matches
// storage.ErrStorageFull and wal.ErrFull with errors.Is.
type refusal struct {
	full *wal.FullError
	st   *status.Status
}

func (r *refusal) Error() string              { return r.full.Error() }
func (r *refusal) GRPCStatus() *status.Status { return r.st }
func (r *refusal) Unwrap() []error            { return []error{storage.ErrStorageFull, r.full} }

// storageError is what a client returns for an error of the log: a
// refusal for a full log, the error itself otherwise.
func storageError(err error) error {
	if err == nil {
		return nil
	}
	var full *wal.FullError
	if !errors.As(err, &full) {
		return err
	}
	// The OTLP/HTTP receiver writes Retry-After as whole seconds, rounded
	// down: give it whole seconds.
	delay := time.Duration(retryhint.Seconds(full.RetryAfter)) * time.Second
	return &refusal{full: full, st: retryhint.Status(codes.Unavailable, full.Error(), delay)}
}
