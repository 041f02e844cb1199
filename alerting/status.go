package alerting

import (
	"time"

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

// AlertLabels returns the label set of the alert a Manager on this config
// would build from t (its identity in Alertmanager).
func (c *Config) AlertLabels(t contract.Transition) map[string]string {
	b := builder{alertName: c.AlertName}
	return b.alertLabels(&t)
}

// Receivers returns the destinations a Manager on this config routes the
// alert built from t to, in route order, without starting anything
// (e.g. to show where a drill's page will go). The config must be valid.
func (c *Config) Receivers(t contract.Transition) ([]string, error) {
	route, err := NewRoute(c.Route, c.Destinations)
	if err != nil {
		return nil, err
	}
	return route.Receivers(labelSet(c.AlertLabels(t))), nil
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
	// LastDelivered is when a request last succeeded (zero: never since
	// the start); batches are delivered oldest first, so with Queued 0 every
	// alert queued before it was delivered, rejected or handed on.
	LastDelivered time.Time
	// LastError is the latest failed request's error and LastErrorAt its
	// time ("" and zero: none since the start).
	LastError   string
	LastErrorAt time.Time
}

// Destinations returns every destination's status, sorted by name.
func (m *Manager) Destinations() []DestinationStatus {
	out := make([]DestinationStatus, 0, len(m.dests))
	for _, d := range m.dests {
		delivered, lastErr, errAt := d.last.get()
		out = append(out, DestinationStatus{Name: d.name, Queued: d.outbox.depth(), Breakers: m.CircuitState(d.name),
			LastDelivered: delivered, LastError: lastErr, LastErrorAt: errAt})
	}
	return out
}
