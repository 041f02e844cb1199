package slo

import (
	"context"
	"time"
)

// AlertTransition is one alert state change handed to the Notifier.
// Labels holds the SLO's labels, the group-by values, the alerting labels
// and the severity's labels; Annotations the spec's annotations (the
// severity's win) plus "runbook_url" when set.
type AlertTransition struct {
	SLO, Service                           string
	Labels                                 map[string]string // the SLO's own labels (e.g. team)
	Annotations                            map[string]string // from the spec (runbook_url template source etc.)
	Severity                               string            // "page" | "ticket"
	State                                  string            // "pending" | "firing" | "resolved"
	LongWindow, ShortWindow                time.Duration
	BurnRateLong, BurnRateShort, Threshold float64
	Objective, BudgetRemaining             float64
	TimeToExhaustion                       time.Duration // <0 when the budget is not being exhausted
	Events, BadEvents                      float64       // over the long window
	ActiveSince, At                        time.Time
}

// Notifier receives the transitions of one evaluation, in one call. It
// owns the slice. It is called without the engine lock held.
type Notifier interface {
	Notify(ctx context.Context, ts []AlertTransition)
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, ts []AlertTransition)

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, ts []AlertTransition) { f(ctx, ts) }

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

var stateNames = [...]string{"inactive", "pending", "firing", "resolved"}

// String returns "inactive", "pending", "firing" or "resolved".
func (s AlertState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// Severities, as indices of Status.Alerts.
const (
	Page   = 0
	Ticket = 1
)

var severityNames = [2]string{"page", "ticket"}

type alertState struct {
	state        AlertState
	pendingSince int64
	activeSince  int64
}

// AlertStatus is one severity's state in a Status.
type AlertStatus struct {
	Severity string
	State    AlertState
	// Since is when the state began (pending or firing).
	Since time.Time
	// Pair is the window pair reported (the first that holds, else the
	// first configured); Holds says whether any pair holds now.
	Pair           int
	Holds, Enabled bool
}
