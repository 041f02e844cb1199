package slo

import (
	"context"
	"time"

	"github.com/obsd-dev/obsd/slo/contract"
)

// Notifier receives the transitions of one evaluation, in one call. It
// owns the slice. It is called without the engine lock held.
type Notifier interface {
	Notify(ctx context.Context, ts []contract.Transition)
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, ts []contract.Transition)

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, ts []contract.Transition) { f(ctx, ts) }

// AlertState is the state of one severity of one instance.
type AlertState uint8

// Alert states: inactive → pending (only with a 'for' duration) → firing
// → resolved (one evaluation) → inactive.
const (
	Inactive AlertState = iota
	Pending
	Firing
	Resolved
)

var stateNames = [...]string{contract.StateInactive, contract.StatePending, contract.StateFiring, contract.StateResolved}

// String returns the state's name in the contract (contract.StateFiring…).
func (s AlertState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// Severities, as indices of Status.Alerts and of contract.Severities.
const (
	Page   = 0
	Ticket = 1
)

type alertState struct {
	state        AlertState
	pendingSince int64
	activeSince  int64
	// pairSince is, per window pair of the severity, when the pair began
	// to hold (0 while it does not): each pair waits its own 'for'.
	pairSince []int64
}

// AlertStatus is one severity's state in a Status.
type AlertStatus struct {
	Severity string
	State    AlertState
	// Since is when the state began (pending or firing).
	Since time.Time
	// Pair is the window pair reported (the first that has held for its
	// 'for', else the first that holds, else the first configured); Holds
	// says whether any pair holds now.
	Pair           int
	Holds, Enabled bool
}
