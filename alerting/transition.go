package alerting

import "time"

// Alert states carried by Transition.State.
const (
	StatePending  = "pending"
	StateFiring   = "firing"
	StateResolved = "resolved"
)

// Severities carried by Transition.Severity.
const (
	SeverityPage   = "page"
	SeverityTicket = "ticket"
)

// Transition is one SLO alert state change, as the SLO engine reports it. It
// mirrors slo.AlertTransition field by field so that glue code can copy one
// into the other; alerting never imports the SLO engine.
type Transition struct {
	SLO, Service string
	// Labels are the SLO's own labels (e.g. team); they become alert labels.
	Labels map[string]string
	// Annotations come from the SLO spec; they become alert annotations,
	// except where a configured template produces the same key.
	Annotations map[string]string
	// Severity is "page" or "ticket".
	Severity string
	// State is "pending", "firing" or "resolved".
	State                                  string
	LongWindow, ShortWindow                time.Duration
	BurnRateLong, BurnRateShort, Threshold float64
	Objective, BudgetRemaining             float64
	// TimeToExhaustion is negative when the budget is not being exhausted.
	TimeToExhaustion time.Duration
	// Events and BadEvents are counted over the long window.
	Events, BadEvents float64
	// ActiveSince is when the alert condition started; At is when this
	// transition was evaluated.
	ActiveSince, At time.Time
}

// Notifier is what the SLO engine's glue needs from alerting: *Manager
// implements it, and tests of the glue can fake it.
type Notifier interface {
	// Notify applies alert transitions; it must not block on delivery.
	Notify(ts ...Transition)
}

var _ Notifier = (*Manager)(nil)
