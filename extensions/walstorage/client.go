package walstorage

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/obsd-dev/obsd/extensions/walstorage/internal/wal"
	"github.com/obsd-dev/obsd/internal/piggyback"
)

// client adapts a log client to the collector's storage API.
type client struct {
	c *wal.Client
}

var (
	_ storage.Client = (*client)(nil)
	_ storage.Walker = (*client)(nil)
)

// inlineOps is how many operations a Batch converts without allocating:
// the persistent queue sends two.
const inlineOps = 4

func (c *client) Get(ctx context.Context, key string) ([]byte, error) {
	op := storage.GetOperation(key)
	err := c.Batch(ctx, op)
	return op.Value, err
}

func (c *client) Set(ctx context.Context, key string, value []byte) error {
	return c.Batch(ctx, &storage.Operation{Key: key, Value: value, Type: storage.Set})
}

func (c *client) Delete(ctx context.Context, key string) error {
	return c.Batch(ctx, &storage.Operation{Key: key, Type: storage.Delete})
}

// Batch applies ops in order and atomically (all or nothing, after a crash
// too); Get results are put in place. A batch adding a key to a full log
// fails with a retryable refusal (see refuse.go) and changes nothing.
//
// When ctx carries a piggyback.Write of a client of the same log (the slo
// connector's journal record of the request being queued) and the batch
// writes something, the write is taken and committed in this batch: both
// are on disk together or not at all.
func (c *client) Batch(ctx context.Context, ops ...*storage.Operation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var inline [inlineOps]wal.Op
	wops := inline[:0]
	writes := false
	for _, op := range ops {
		if op == nil {
			continue
		}
		wops = append(wops, wal.Op{Kind: opKind(op.Type), Key: op.Key, Value: op.Value})
		writes = writes || op.Type != storage.Get
	}
	var err error
	if pw := c.piggyback(ctx, writes); pw != nil {
		other := pw.Owner.(*client)
		extra := [1]wal.Op{{Kind: wal.OpSet, Key: pw.Key, Value: pw.Value}}
		err = c.c.Log().Batch(wal.Part{Client: c.c, Ops: wops}, wal.Part{Client: other.c, Ops: extra[:]})
		pw.Done(err)
	} else {
		err = c.c.Batch(wops)
	}
	i := 0
	for _, op := range ops {
		if op == nil {
			continue
		}
		if op.Type == storage.Get {
			op.Value = wops[i].Value
		}
		i++
	}
	return storageError(err)
}

// piggyback takes the write ctx carries when this batch writes and can
// commit it: it belongs to another client of the same log.
func (c *client) piggyback(ctx context.Context, writes bool) *piggyback.Write {
	if !writes {
		return nil
	}
	pw := piggyback.FromContext(ctx)
	if pw == nil {
		return nil
	}
	other, ok := pw.Owner.(*client)
	if !ok || other == c || other.c.Log() != c.c.Log() || !pw.Take() {
		return nil
	}
	return pw
}

func opKind(t storage.OpType) wal.OpKind {
	switch t {
	case storage.Set:
		return wal.OpSet
	case storage.Delete:
		return wal.OpDelete
	default:
		return wal.OpGet
	}
}

// Close releases the client; its keys stay in the log.
func (c *client) Close(context.Context) error {
	return c.c.Close()
}

// Walk visits every key of the client and then applies the operations fn
// returned, in one batch (none when fn fails). It is not one transaction
// with concurrent writes: a key written during the walk may be missed.
func (c *client) Walk(ctx context.Context, fn storage.WalkFunc) error {
	var collected []*storage.Operation
	err := c.c.Walk(func(key string, value []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		ops, err := fn(key, value)
		collected = append(collected, ops...)
		if errors.Is(err, storage.SkipAll) {
			return wal.ErrSkipAll
		}
		return err
	})
	if err != nil {
		return storageError(err)
	}
	if len(collected) == 0 {
		return nil
	}
	return c.Batch(ctx, collected...)
}
