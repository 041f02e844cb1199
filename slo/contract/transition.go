package contract

import "time"

// Alert states, as Transition.State and the status page carry them. An
// alert goes inactive → pending (only with a 'for' duration) → firing →
// resolved (one evaluation) → inactive; only pending, firing and resolved
// are transitions.
const (
	StateInactive = "inactive"
	StatePending  = "pending"
	StateFiring   = "firing"
	StateResolved = "resolved"
)

// Severities of an SLO's alerts, as Transition.Severity and LabelSeverity
// carry them, in the order of Severities.
const (
	SeverityPage   = "page"
	SeverityTicket = "ticket"
)

// Severities are the alert severities of every SLO, most urgent first; the
// SLO engine indexes its alert states in this order.
var Severities = [...]string{SeverityPage, SeverityTicket}

// Transition is one SLO alert state change: the SLO engine emits it after
// an evaluation, alerting builds, routes and delivers the alert from it,
// and the status page lists it.
type Transition struct {
	SLO, Service string
	// Labels are the SLO's own labels (e.g. team), its group-by values,
	// its alerting labels and the severity's labels; they become alert
	// labels.
	Labels map[string]string
	// Annotations come from the SLO spec (the severity's win) plus
	// "runbook_url" when set; they become alert annotations, except where
	// a configured template produces the same key.
	Annotations map[string]string
	// Severity is SeverityPage or SeverityTicket.
	Severity string
	// State is StatePending, StateFiring or StateResolved.
	State                   string
	LongWindow, ShortWindow time.Duration
	// BurnRateLong and BurnRateShort are the burn rates over the two
	// windows; Threshold is the burn rate both must reach.
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
