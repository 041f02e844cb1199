package alerting

import (
	"github.com/obsd-dev/obsd/slo/contract"
)

// Notifier is what the SLO engine's glue needs from alerting: *Manager
// implements it, and tests of the glue can fake it.
type Notifier interface {
	// Notify applies alert transitions, as the SLO engine emits them; it
	// must not block on delivery.
	Notify(ts ...contract.Transition)
}

var _ Notifier = (*Manager)(nil)
