// Package piggyback lets a component hand one storage write to the storage
// client that next commits a batch for the same request, so that both are
// committed atomically, in one batch and one write: the slo connector's
// journal record of a request's SLO events rides on the exporter queue's
// put of that request, and is durable exactly when the request is.
//
// The owner of the write puts it in the request's context (NewContext)
// before passing the request on; a storage client that finds it there
// (FromContext), and can commit it together with its own batch, takes it
// (Take), writes it with its batch and reports the outcome (Done). When the
// request comes back, the owner closes the write (Close): a write nobody
// took is the owner's to commit itself.
//
// A write is taken at most once. The package has no collector imports.
package piggyback

import (
	"context"
	"sync"
)

// State is where a Write stands.
type State uint8

// The states of a Write.
const (
	// Pending: nobody took it yet.
	Pending State = iota
	// Written: committed in a batch that succeeded.
	Written
	// Failed: the batch that carried it failed; nothing of it was written.
	Failed
	// Closed: its owner took it back unwritten (Close of a pending write).
	Closed
)

func (s State) String() string {
	switch s {
	case Pending:
		return "pending"
	case Written:
		return "written"
	case Failed:
		return "failed"
	}
	return "closed"
}

// Write is one key to set in the owner's storage, offered to whoever
// commits the request's next batch.
type Write struct {
	// Owner is the storage client the key belongs to. A storage client
	// takes the write only when it can commit a batch of Owner's (the same
	// log); the value is opaque to this package.
	Owner any
	// Key and Value are the key to set and its value.
	Key   string
	Value []byte

	mu    sync.Mutex
	state State
}

type ctxKey struct{}

// NewContext returns ctx carrying w.
func NewContext(ctx context.Context, w *Write) context.Context {
	return context.WithValue(ctx, ctxKey{}, w)
}

// FromContext returns the write ctx carries, or nil.
func FromContext(ctx context.Context) *Write {
	w, _ := ctx.Value(ctxKey{}).(*Write)
	return w
}

// Take reserves w for a batch the caller is about to commit and reports
// whether it got it. When it did, the caller must write Key and Value in
// that batch, atomically with its own operations, and then call Done with
// the batch's result; Close waits meanwhile.
func (w *Write) Take() bool {
	w.mu.Lock()
	if w.state != Pending {
		w.mu.Unlock()
		return false
	}
	return true // held until Done
}

// Done reports the outcome of the batch that carried a taken write.
func (w *Write) Done(err error) {
	if err == nil {
		w.state = Written
	} else {
		w.state = Failed
	}
	w.mu.Unlock()
}

// Close ends the offer and returns the write's final state: Written or
// Failed when a batch carried it (waiting for that batch to finish), else
// Closed, and nobody can take it any more.
func (w *Write) Close() State {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state == Pending {
		w.state = Closed
	}
	return w.state
}
