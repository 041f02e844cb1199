package alerting

import (
	"sync"
	"time"
)

// BreakerState is the state of an endpoint's circuit breaker; its value is
// what obsd_alerts_circuit_state reports.
type BreakerState int

// Breaker states.
const (
	BreakerClosed   BreakerState = 0
	BreakerHalfOpen BreakerState = 1
	BreakerOpen     BreakerState = 2
)

func (s BreakerState) String() string {
	switch s {
	case BreakerClosed:
		return "closed"
	case BreakerHalfOpen:
		return "half-open"
	default:
		return "open"
	}
}

// breaker is a count-based circuit breaker: closed → open after
// FailureThreshold consecutive failures → half-open once OpenDuration has
// passed (one probe at a time) → closed after SuccessThreshold successes, or
// back to open on a failed probe.
//
// It stands in for github.com/failsafe-go/failsafe-go/circuitbreaker, whose
// dependency github.com/bits-and-blooms/bitset has no go.sum entry in this
// module (see README.md); the state model is the same.
type breaker struct {
	cfg BreakerConfig
	now func() time.Time

	mu        sync.Mutex
	state     BreakerState
	failures  int
	successes int
	openedAt  time.Time
	probing   bool
	onChange  func(from, to BreakerState)
}

func newBreaker(cfg BreakerConfig, now func() time.Time, onChange func(from, to BreakerState)) *breaker {
	return &breaker{cfg: cfg, now: now, onChange: onChange}
}

// allow reports whether a request may be made now; every allowed request
// must be followed by exactly one record.
func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerClosed:
		return true
	case BreakerOpen:
		if b.now().Sub(b.openedAt) < b.cfg.OpenDuration {
			return false
		}
		b.transition(BreakerHalfOpen)
		b.successes = 0
		fallthrough
	default: // half-open: one probe at a time
		if b.probing {
			return false
		}
		b.probing = true
		return true
	}
}

// record reports the outcome of an allowed request.
func (b *breaker) record(success bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case BreakerClosed:
		if success {
			b.failures = 0
			return
		}
		b.failures++
		if b.failures >= b.cfg.FailureThreshold {
			b.open()
		}
	case BreakerHalfOpen:
		b.probing = false
		if !success {
			b.open()
			return
		}
		b.successes++
		if b.successes >= b.cfg.SuccessThreshold {
			b.failures = 0
			b.transition(BreakerClosed)
		}
	}
}

func (b *breaker) open() {
	b.openedAt = b.now()
	b.probing = false
	b.transition(BreakerOpen)
}

func (b *breaker) transition(to BreakerState) {
	from := b.state
	b.state = to
	if from != to && b.onChange != nil {
		b.onChange(from, to)
	}
}

// State returns the current state; an open breaker whose delay has passed
// still reads open until the next allow.
func (b *breaker) State() BreakerState {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.state
}
