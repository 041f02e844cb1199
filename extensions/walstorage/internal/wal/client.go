package wal

import (
	"errors"
	"fmt"
	"sync/atomic"
)

// OpKind is what an Op does.
type OpKind uint8

// The operations of a batch.
const (
	OpGet OpKind = iota
	OpSet
	OpDelete
)

// Op is one operation of a Batch. A Get's result is put in Value (nil when
// the key is absent); the caller owns it.
type Op struct {
	Kind  OpKind
	Key   string
	Value []byte
}

// ErrClientClosed is returned by a client's operations after its Close.
var ErrClientClosed = errors.New("wal client is closed")

// Client is one component's key space in the log. Clients of one WAL never
// see each other's keys but share its group commits.
type Client struct {
	w      *WAL
	c      *clientState
	closed atomic.Bool
}

// Client returns the client called name, creating it (durably) the first
// time. The name is stored in the log; the same name finds the same keys
// after a restart.
func (w *WAL) Client(name string) (*Client, error) {
	if name == "" {
		return nil, errors.New("wal: client name must not be empty")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil, ErrClosed
	}
	if id, ok := w.names[name]; ok {
		return &Client{w: w, c: w.clients[id]}, nil
	}
	c := &clientState{id: w.nextCID, name: name, keys: map[string]entry{}}
	w.nextCID++
	g := w.filling
	before := len(g.buf)
	g.buf, _ = appendRecord(g.buf, kindClient|flagFirst, c.id, name, nil)
	g.batches++
	w.pendingBytes += int64(len(g.buf) - before)
	if err := w.commit(g); err != nil {
		return nil, fmt.Errorf("wal: register client %q: %w", name, err)
	}
	w.clients[c.id] = c
	w.names[name] = c.id
	return &Client{w: w, c: c}, nil
}

// Close releases the handle; the client's keys stay in the log.
func (c *Client) Close() error {
	c.closed.Store(true)
	return nil
}

// Get returns the value of key, or nil when it is absent.
func (c *Client) Get(key string) ([]byte, error) {
	ops := [1]Op{{Kind: OpGet, Key: key}}
	err := c.Batch(ops[:])
	return ops[0].Value, err
}

// Batch applies ops in order, atomically: on disk, after any crash, either
// all of its writes are there or none. Gets see the batch's own earlier
// writes. It returns once the writes are in the log (written, and fsynced
// with FsyncAlways). A batch that adds a key to a full log fails with a
// *FullError and changes nothing.
func (c *Client) Batch(ops []Op) error {
	parts := [1]Part{{Client: c, Ops: ops}}
	return c.w.Batch(parts[:]...)
}

// Part is the operations of one client within a multi-client Batch.
type Part struct {
	Client *Client
	Ops    []Op
}

// ErrOtherLog is returned by a Batch whose parts belong to clients of
// different logs.
var ErrOtherLog = errors.New("wal: a batch mixes clients of different logs")

// Batch applies the operations of several clients of this log as one
// atomic batch (Client.Batch for one): after any crash either every write
// of every part is there or none. A component uses it to commit a record
// of its own together with another component's write of the same request
// (the slo connector's journal with an exporter queue's put).
func (w *WAL) Batch(parts ...Part) error {
	for _, p := range parts {
		if p.Client.closed.Load() {
			return ErrClientClosed
		}
		if p.Client.w != w {
			return ErrOtherLog
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	writes, size, growing := 0, 0, false
	for _, p := range parts {
		c := p.Client
		for i := range p.Ops {
			op := &p.Ops[i]
			switch op.Kind {
			case OpGet:
				v, err := c.get(p.Ops[:i], op.Key)
				if err != nil {
					return err
				}
				op.Value = v
			case OpSet:
				writes++
				size += recordSize(c.c.id, op.Key, len(op.Value))
				if !growing {
					_, exists := c.c.keys[op.Key]
					growing = !exists
				}
			case OpDelete:
				writes++
				size += recordSize(c.c.id, op.Key, 0)
			default:
				return fmt.Errorf("wal: unknown operation %d", op.Kind)
			}
		}
	}
	if writes == 0 {
		return nil
	}
	if growing {
		if err := w.admit(size); err != nil {
			return err
		}
	}
	g := w.filling
	flags := flagFirst
	for _, p := range parts {
		c := p.Client
		for i := range p.Ops {
			op := &p.Ops[i]
			if op.Kind == OpGet {
				continue
			}
			writes--
			if writes > 0 {
				flags |= flagMore
			}
			kind := kindSet
			var value []byte
			if op.Kind == OpDelete {
				kind = kindDelete
			} else {
				value = op.Value
			}
			off := len(g.buf)
			var valueOff int
			g.buf, valueOff = appendRecord(g.buf, kind|flags, c.c.id, op.Key, value)
			g.recs = append(g.recs, pendingRec{kind: kind, client: c.c, key: op.Key, off: off,
				valueOff: valueOff, vlen: len(value), rsize: len(g.buf) - off})
			flags = 0
		}
	}
	g.batches++
	w.pendingBytes += int64(size)
	return w.commit(g)
}

// get reads key as seen after the writes in prior (the ops of the same
// batch before the Get). The caller holds w.mu.
func (c *Client) get(prior []Op, key string) ([]byte, error) {
	for i := len(prior) - 1; i >= 0; i-- {
		if prior[i].Key != key {
			continue
		}
		switch prior[i].Kind {
		case OpSet:
			return append([]byte(nil), prior[i].Value...), nil
		case OpDelete:
			return nil, nil
		}
	}
	e, ok := c.c.keys[key]
	if !ok {
		return nil, nil
	}
	return c.w.read(e)
}

// read returns a copy of a live value. The caller holds w.mu, so the
// segment cannot be removed meanwhile.
func (w *WAL) read(e entry) ([]byte, error) {
	if cached, ok := w.tail.get(e.seg, e.off, int(e.vlen)); ok {
		return append([]byte(nil), cached...), nil
	}
	v := make([]byte, e.vlen)
	if _, err := e.seg.f.ReadAt(v, e.off); err != nil {
		return nil, fmt.Errorf("wal storage: read %s at %d: %w", e.seg.path, e.off, err)
	}
	return v, nil
}

// Walk calls fn for every key of the client with its value (valid during
// the call only), in no particular order. fn returning ErrSkipAll ends the
// walk without an error; any other error ends it with that error. Keys
// written or deleted during the walk may or may not be visited.
func (c *Client) Walk(fn func(key string, value []byte) error) error {
	if c.closed.Load() {
		return ErrClientClosed
	}
	w := c.w
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	keys := make([]string, 0, len(c.c.keys))
	for k := range c.c.keys {
		keys = append(keys, k)
	}
	w.mu.Unlock()
	for _, key := range keys {
		w.mu.Lock()
		e, ok := c.c.keys[key]
		var v []byte
		var err error
		if ok {
			v, err = w.read(e)
		}
		w.mu.Unlock()
		if err != nil {
			return err
		}
		if !ok {
			continue // deleted meanwhile
		}
		if err := fn(key, v); err != nil {
			if errors.Is(err, ErrSkipAll) {
				return nil
			}
			return err
		}
	}
	return nil
}

// ErrSkipAll ends a Walk early without an error.
var ErrSkipAll = errors.New("skip everything and stop the walk")

// Log returns the log the client writes to.
func (c *Client) Log() *WAL { return c.w }
