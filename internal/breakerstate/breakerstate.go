// Package breakerstate owns the one encoding of a circuit breaker's state
// that obsd exposes: the value of obsd_circuit_breaker_state (the exporters'
// circuit_breaker extension) and of obsd_alerts_circuit_state (alerting's
// per-endpoint breakers), the state strings in logs, label values and the
// status page, and the mapping from failsafe-go's states, which both
// breakers run on.
//
// The values are ordered by how bad the state is, so max() over a set of
// breakers gives the worst one and "== Open" (2) reads "open" in a rule.
package breakerstate

import "github.com/failsafe-go/failsafe-go/circuitbreaker"

// State is a circuit's state; its integer value is what the state gauges
// report.
type State int32

// The circuit states, in order of how bad they are.
const (
	// Closed: calls go through.
	Closed State = 0
	// HalfOpen: the open delay has passed and probes go through.
	HalfOpen State = 1
	// Open: calls fail fast without reaching the backend.
	Open State = 2
)

// All lists the states in value order.
var All = [...]State{Closed, HalfOpen, Open}

// String returns "closed", "half_open" or "open" (any other value reads
// "open": an unknown state must not look healthy).
func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case HalfOpen:
		return "half_open"
	default:
		return "open"
	}
}

// The two state gauges and their labels: one series per exporter circuit
// (the circuit_breaker extension's component id) and per alerting endpoint.
const (
	ExporterGauge      = "obsd_circuit_breaker_state"
	ExporterGaugeLabel = "breaker"
	AlertingGauge      = "obsd_alerts_circuit_state"
	AlertingGaugeLabel = "endpoint"
)

// GaugeHelp describes the encoding in a state gauge's description.
const GaugeHelp = "0 closed, 1 half_open, 2 open"

// FromFailsafe maps a failsafe-go circuit state to State.
func FromFailsafe(s circuitbreaker.State) State {
	switch s {
	case circuitbreaker.ClosedState:
		return Closed
	case circuitbreaker.HalfOpenState:
		return HalfOpen
	default:
		return Open
	}
}
