package circuitbreaker

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensionmiddleware"
	"go.uber.org/zap"

	"github.com/obsd-dev/obsd/internal/breakerstate"
)

// breaker is the extension: one circuit shared by every client that names
// it in its middlewares. Give each backend its own circuit_breaker/<name>.
type breaker struct {
	id     string
	cb     circuitbreaker.CircuitBreaker[any]
	tel    *telemetry
	logger *zap.Logger
	state  atomic.Int32

	mu   sync.Mutex
	host component.Host // set by Start; status is reported through it
}

var (
	_ extension.Extension            = (*breaker)(nil)
	_ extensionmiddleware.HTTPClient = (*breaker)(nil)
	_ extensionmiddleware.GRPCClient = (*breaker)(nil)
)

func newBreaker(cfg *Config, set extension.Settings) (*breaker, error) {
	b := &breaker{id: set.ID.String(), logger: set.Logger}
	tel, err := newTelemetry(set.TelemetrySettings, b.id, b.State)
	if err != nil {
		return nil, err
	}
	b.tel = tel
	builder := circuitbreaker.NewBuilder[any]().
		WithDelay(cfg.Delay).
		WithSuccessThreshold(cfg.SuccessThreshold).
		OnStateChanged(func(e circuitbreaker.StateChangedEvent) { b.transition(breakerstate.FromFailsafe(e.NewState)) })
	if cfg.FailureWindow > 0 {
		builder = builder.WithFailureThresholdRatio(cfg.FailureThreshold, cfg.FailureWindow)
	} else {
		builder = builder.WithFailureThreshold(cfg.FailureThreshold)
	}
	b.cb = builder.Build()
	return b, nil
}

// Start remembers the host, to report the circuit's status through it, and
// joins the group of circuits whose states make readiness.
func (b *breaker) Start(_ context.Context, host component.Host) error {
	b.mu.Lock()
	b.host = host
	b.mu.Unlock()
	circuits.join(b)
	return nil
}

// Shutdown leaves the readiness group and unregisters the state gauge.
func (b *breaker) Shutdown(context.Context) error {
	circuits.leave(b)
	return b.tel.shutdown()
}

// State is the circuit's state as of its last transition. An open circuit
// whose delay has passed reads open until the next call moves it to
// half-open.
func (b *breaker) State() breakerstate.State { return breakerstate.State(b.state.Load()) }

// acquire reports whether a call may go to the backend now; every acquired
// call must be followed by exactly one record. A refused call is counted.
func (b *breaker) acquire(ctx context.Context) bool {
	if b.cb.TryAcquirePermit() {
		return true
	}
	b.tel.rejected(ctx)
	return false
}

// record reports the outcome of an acquired call.
func (b *breaker) record(failed bool) {
	if failed {
		b.cb.RecordFailure()
		return
	}
	b.cb.RecordSuccess()
}

// retryDelay is how long a refused caller should wait: the rest of the open
// delay, at least a second.
func (b *breaker) retryDelay() time.Duration {
	return max(b.cb.RemainingDelay(), time.Second)
}

func (b *breaker) transition(to breakerstate.State) {
	b.state.Store(int32(to))
	b.tel.transition(to)
	switch to {
	case breakerstate.Open:
		b.logger.Warn("Circuit opened: the backend keeps failing; calls fail fast and data stays queued until a probe succeeds.", zap.String("breaker", b.id))
	case breakerstate.HalfOpen:
		b.logger.Info("Circuit half-open: probing the backend.", zap.String("breaker", b.id))
	case breakerstate.Closed:
		b.logger.Info("Circuit closed: the backend answers again.", zap.String("breaker", b.id))
	}
	circuits.changed()
}

func (b *breaker) currentHost() component.Host {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.host
}
