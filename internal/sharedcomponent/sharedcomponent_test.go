package sharedcomponent

import (
	"context"
	"errors"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
)

// fake counts its lifecycle calls.
type fake struct {
	name      string
	startErr  error
	mu        sync.Mutex
	starts    int
	shutdowns int
}

var _ component.Component = (*fake)(nil)

func (f *fake) Start(context.Context, component.Host) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.starts++
	return f.startErr
}

func (f *fake) Shutdown(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shutdowns++
	return nil
}

func (f *fake) counts() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.starts, f.shutdowns
}

var (
	ctx  = context.Background()
	host = componenttest.NewNopHost()
	idA  = component.MustNewIDWithName("k8smeta", "a")
	idB  = component.MustNewIDWithName("k8smeta", "b")
)

func load(t *testing.T, m *Map[component.ID, *fake], id component.ID, created *int) *Ref[component.ID, *fake] {
	t.Helper()
	r, err := m.LoadOrStore(id, func() (*fake, error) {
		*created++
		return &fake{name: id.String()}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestInstancesOfOneIDShareOneValue(t *testing.T) {
	m := NewMap[component.ID, *fake]()
	created := 0
	traces, logs, other := load(t, m, idA, &created), load(t, m, idA, &created), load(t, m, idB, &created)
	if traces.Value() != logs.Value() {
		t.Fatal("the traces and logs instances of one id hold different values")
	}
	if traces.Value() == other.Value() {
		t.Fatal("two ids share a value")
	}
	if created != 2 || m.Len() != 2 {
		t.Fatalf("%d values created, %d held; want 2 and 2", created, m.Len())
	}
}

func TestTheValueStartsOnceAndStopsWithTheLastReference(t *testing.T) {
	m := NewMap[component.ID, *fake]()
	created := 0
	refs := []*Ref[component.ID, *fake]{load(t, m, idA, &created), load(t, m, idA, &created), load(t, m, idA, &created)}
	v := refs[0].Value()
	for _, r := range refs {
		if err := r.Start(ctx, host); err != nil {
			t.Fatal(err)
		}
	}
	if starts, _ := v.counts(); starts != 1 {
		t.Fatalf("started %d times, want once", starts)
	}
	for i, r := range refs {
		if err := r.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		if err := r.Shutdown(ctx); err != nil { // a repeated Shutdown is not another release
			t.Fatal(err)
		}
		_, shutdowns := v.counts()
		if last := i == len(refs)-1; last != (shutdowns == 1) || shutdowns > 1 {
			t.Fatalf("after %d of %d shutdowns the value was shut down %d times", i+1, len(refs), shutdowns)
		}
	}
	if m.Len() != 0 {
		t.Fatal("a value without references is still held")
	}
	fresh := load(t, m, idA, &created)
	if fresh.Value() == v || created != 2 {
		t.Fatal("an instance created after the last shutdown reused the stopped value")
	}
}

func TestAValueNeverStartedIsStillShutDown(t *testing.T) {
	m := NewMap[component.ID, *fake]()
	created := 0
	a, b := load(t, m, idA, &created), load(t, m, idA, &created)
	for _, r := range []*Ref[component.ID, *fake]{a, b} {
		if err := r.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if starts, shutdowns := a.Value().counts(); starts != 0 || shutdowns != 1 {
		t.Fatalf("starts %d shutdowns %d, want 0 and 1 (the collector shuts down what failed to start)", starts, shutdowns)
	}
	if err := a.Start(ctx, host); !errors.Is(err, errStartAfterShutdown) {
		t.Fatalf("Start after Shutdown: %v", err)
	}
}

func TestEveryReferenceGetsTheStartError(t *testing.T) {
	m := NewMap[component.ID, *fake]()
	boom := errors.New("cannot listen")
	mk := func() (*fake, error) { return &fake{startErr: boom}, nil }
	a, _ := m.LoadOrStore(idA, mk)
	b, _ := m.LoadOrStore(idA, mk)
	if err := a.Start(ctx, host); !errors.Is(err, boom) {
		t.Fatalf("first start: %v", err)
	}
	if err := b.Start(ctx, host); !errors.Is(err, boom) {
		t.Fatalf("second start: %v, want the first start's error", err)
	}
	if starts, _ := a.Value().counts(); starts != 1 {
		t.Fatalf("started %d times", starts)
	}
}

func TestACreateErrorStoresNothing(t *testing.T) {
	m := NewMap[component.ID, *fake]()
	bad := errors.New("bad endpoint")
	if _, err := m.LoadOrStore(idA, func() (*fake, error) { return nil, bad }); !errors.Is(err, bad) {
		t.Fatalf("create error: %v", err)
	}
	if m.Len() != 0 {
		t.Fatal("a failed create left a value")
	}
	created := 0
	if r := load(t, m, idA, &created); r.Value() == nil || created != 1 {
		t.Fatal("the next instance did not create the value")
	}
}

func TestConcurrentInstances(t *testing.T) {
	m := NewMap[component.ID, *fake]()
	var mu sync.Mutex
	var values []*fake
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				r, err := m.LoadOrStore(idA, func() (*fake, error) {
					f := &fake{}
					mu.Lock()
					values = append(values, f)
					mu.Unlock()
					return f, nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				_ = r.Start(ctx, host)
				_ = r.Shutdown(ctx)
			}
		}()
	}
	wg.Wait()
	if m.Len() != 0 {
		t.Fatal("values left after every reference shut down")
	}
	for _, v := range values {
		if starts, shutdowns := v.counts(); starts > 1 || shutdowns != 1 {
			t.Fatalf("a value was started %d and shut down %d times, want at most once and once", starts, shutdowns)
		}
	}
}

func TestAcquireTakesAReferenceOnlyToAValueThatExists(t *testing.T) {
	m := NewMap[component.ID, *fake]()
	if _, ok := m.Acquire(idA); ok {
		t.Fatal("Acquire of an absent key created a value")
	}
	created := 0
	owner := load(t, m, idA, &created)
	user, ok := m.Acquire(idA)
	if !ok || user.Value() != owner.Value() {
		t.Fatal("Acquire did not share the live value")
	}
	if err := owner.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, shutdowns := owner.Value().counts(); shutdowns != 0 {
		t.Fatal("the value stopped while an acquired reference held it")
	}
	if err := user.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, shutdowns := owner.Value().counts(); shutdowns != 1 {
		t.Fatal("the acquired reference's release did not stop the value")
	}
	if _, ok := m.Acquire(idA); ok || created != 1 {
		t.Fatal("a released value was acquired again")
	}
}
