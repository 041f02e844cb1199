package alerting

import (
	"github.com/failsafe-go/failsafe-go/circuitbreaker"

	"github.com/obsd-dev/obsd/internal/breakerstate"
)

// breaker is an endpoint's circuit breaker, built on
// github.com/failsafe-go/failsafe-go/circuitbreaker: closed → open after
// FailureThreshold consecutive failures → half-open once OpenDuration has
// passed (probes let through) → closed after SuccessThreshold successes, or
// back to open on a failed probe. failsafe-go keeps time with the wall
// clock.
type breaker struct {
	cb circuitbreaker.CircuitBreaker[any]
}

func newBreaker(cfg BreakerConfig, onChange func(from, to breakerstate.State)) *breaker {
	b := circuitbreaker.NewBuilder[any]().
		WithFailureThreshold(uint(cfg.FailureThreshold)).
		WithDelay(cfg.OpenDuration).
		WithSuccessThreshold(uint(cfg.SuccessThreshold))
	if onChange != nil {
		b = b.OnStateChanged(func(e circuitbreaker.StateChangedEvent) {
			onChange(breakerstate.FromFailsafe(e.OldState), breakerstate.FromFailsafe(e.NewState))
		})
	}
	return &breaker{cb: b.Build()}
}

// allow reports whether a request may be made now; every allowed request
// must be followed by exactly one record.
func (b *breaker) allow() bool { return b.cb.TryAcquirePermit() }

// record reports the outcome of an allowed request.
func (b *breaker) record(success bool) {
	if success {
		b.cb.RecordSuccess()
		return
	}
	b.cb.RecordFailure()
}

// State returns the current state; an open breaker whose delay has passed
// still reads open until the next allow.
func (b *breaker) State() breakerstate.State { return breakerstate.FromFailsafe(b.cb.State()) }
