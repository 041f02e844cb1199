package alerting

import (
	"github.com/obsd-dev/obsd/internal/breakerstate"
	"github.com/obsd-dev/obsd/slo/contract"
)

// Read-only views of a Manager for status pages: where an alert goes and how
// each destination is doing. They take no lifecycle lock for long and never
// change state.

// Receivers returns the destinations the alert built from t is routed to,
// in route order (the same routing Notify applies). A pending transition is
// never sent; callers should show it as not delivered.
func (m *Manager) Receivers(t contract.Transition) []string {
	a, _ := m.builder.build(&t)
	return m.route.Receivers(labelSet(a.Labels))
}

// DestinationStatus is one destination as a status page shows it.
type DestinationStatus struct {
	// Name is the destination's key under 'destinations'.
	Name string
	// Queued is the number of alerts held in its outbox, not yet delivered.
	Queued int
	// Breakers is the circuit breaker state of each endpoint, keyed by the
	// endpoint's metric label.
	Breakers map[string]breakerstate.State
}

// Destinations returns every destination's status, sorted by name.
func (m *Manager) Destinations() []DestinationStatus {
	out := make([]DestinationStatus, 0, len(m.dests))
	for _, d := range m.dests {
		out = append(out, DestinationStatus{Name: d.name, Queued: d.outbox.depth(), Breakers: m.CircuitState(d.name)})
	}
	return out
}
