package walstorage

import (
	"context"
	"errors"

	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/obsd-dev/obsd/extensions/walstorage/internal/wal"
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
func (c *client) Batch(ctx context.Context, ops ...*storage.Operation) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var inline [inlineOps]wal.Op
	wops := inline[:0]
	for _, op := range ops {
		if op == nil {
			continue
		}
		wops = append(wops, wal.Op{Kind: opKind(op.Type), Key: op.Key, Value: op.Value})
	}
	err := c.c.Batch(wops)
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
