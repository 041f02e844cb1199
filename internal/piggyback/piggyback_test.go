package piggyback

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestWriteLifecycle(t *testing.T) {
	tests := []struct {
		name string
		// take runs the storage side; it returns whether it took the write.
		take func(w *Write) bool
		want State
	}{
		{"nobody takes it: the owner gets it back", func(*Write) bool { return false }, Closed},
		{"a batch that succeeded wrote it", func(w *Write) bool {
			if !w.Take() {
				return false
			}
			w.Done(nil)
			return true
		}, Written},
		{"a batch that failed did not", func(w *Write) bool {
			if !w.Take() {
				return false
			}
			w.Done(errors.New("disk full"))
			return true
		}, Failed},
		{"it is taken once", func(w *Write) bool {
			first := w.Take()
			w.Done(nil)
			return first && !w.Take()
		}, Written},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &Write{Owner: "journal", Key: "k", Value: []byte("v")}
			ctx := NewContext(context.Background(), w)
			got := FromContext(ctx)
			if got != w {
				t.Fatalf("FromContext = %p, want %p", got, w)
			}
			took := tt.take(got)
			if st := w.Close(); st != tt.want {
				t.Errorf("Close = %s, want %s (took %v)", st, tt.want, took)
			}
			if w.Take() {
				t.Error("a closed write was taken")
			}
		})
	}
	if FromContext(context.Background()) != nil {
		t.Error("a context without a write carries one")
	}
}

// TestCloseWaitsForTheBatchCarryingIt: Close does not return while a batch
// that took the write is still being committed.
func TestCloseWaitsForTheBatchCarryingIt(t *testing.T) {
	w := &Write{}
	if !w.Take() {
		t.Fatal("a new write could not be taken")
	}
	closed := make(chan State)
	go func() { closed <- w.Close() }()
	select {
	case st := <-closed:
		t.Fatalf("Close returned %s before the batch finished", st)
	case <-time.After(50 * time.Millisecond):
	}
	w.Done(nil)
	if st := <-closed; st != Written {
		t.Fatalf("Close = %s, want written", st)
	}
}
