// Package status is the data model of obsd's status page: what an SLO
// engine hands the statuspage extension (SLO instances, their history and
// the alert history) and how it registers. It has no collector imports, so
// the slo connector and the statuspage extension share it without depending
// on each other; states and transitions are the SLO contract's
// (slo/contract).
package status

import (
	"encoding/json"
	"math"
	"time"

	"github.com/obsd-dev/obsd/slo/contract"
)

// Registry is implemented by the statuspage extension. A component that
// finds it among host.GetExtensions() registers its sources on Start and
// calls the returned function on Shutdown.
type Registry interface {
	// RegisterSLOSource adds src under id (a component ID string). A
	// second registration under the same id replaces the first. The
	// returned function removes this registration only.
	RegisterSLOSource(id string, src SLOSource) (unregister func())
}

// SLOSource is what an SLO engine exposes to the status page. Snapshot is
// called on every page or API request and must be safe for concurrent
// use; the caller owns what it returns.
type SLOSource interface {
	Snapshot() Snapshot
}

// Snapshot is one source's state at one moment.
type Snapshot struct {
	SLOs []SLO `json:"slos"`
	// Alerts is the alert history, oldest first.
	Alerts []AlertEvent `json:"alerts"`
	// Destinations are the alerting destinations and their health.
	Destinations []Destination `json:"destinations,omitempty"`
}

// SLO is one SLO instance (an SLO for one group of its group-by values).
type SLO struct {
	Name    string `json:"name"`
	Service string `json:"service"`
	// Instance is the group as "k=v, k=v" ("" without group_by).
	Instance    string            `json:"instance,omitempty"`
	Group       map[string]string `json:"group,omitempty"`
	Description string            `json:"description,omitempty"`
	// Objective is the target good ratio, e.g. 0.999.
	Objective float64  `json:"objective"`
	Period    Duration `json:"periodSeconds"`
	// Windows are the burn rates per reported window, shortest first; the
	// last one is the period.
	Windows []Window `json:"windows"`
	// BudgetRemaining is 1 with no errors, 0 when spent, negative when
	// overspent.
	BudgetRemaining float64 `json:"budgetRemaining"`
	// TimeToExhaustion at the period's burn rate; negative (-1 in JSON)
	// when the budget is not being exhausted.
	TimeToExhaustion Duration `json:"timeToExhaustionSeconds"`
	Events           float64  `json:"events"`
	BadEvents        float64  `json:"badEvents"`
	// NoData is true when the shortest window saw no event.
	NoData bool `json:"noData"`
	// State is the worst alert state over the severities (firing >
	// pending > resolved > inactive; contract.State*).
	State  string        `json:"state"`
	Alerts []AlertStatus `json:"alerts"`
	// AlertsDecidedBy says where the SLO's alerts are decided
	// (contract.AlertsLocal, AlertsRuler or AlertsBoth; "" means local).
	// With AlertsRuler this obsd only counts and exports its window sums:
	// Alerts is empty and State inactive, whatever this node's share of
	// the traffic burns.
	AlertsDecidedBy string `json:"alertsDecidedBy,omitempty"`
	// Thresholds are the burn-rate alert conditions of the spec.
	Thresholds []Threshold `json:"thresholds"`
	RunbookURL string      `json:"runbookURL,omitempty"`
	// DashboardPath is the path of the SLO's generated Grafana dashboard,
	// to append to a Grafana base URL.
	DashboardPath string `json:"dashboardPath"`
	// DashboardURL is filled by the status page when a Grafana URL is set.
	DashboardURL string    `json:"dashboardURL,omitempty"`
	At           time.Time `json:"at"`
	// Source is the registering component's id.
	Source string `json:"source"`
	// History holds the sampled SLI and burn rates, oldest first; only the
	// detail API and page carry it.
	History []Point `json:"history,omitempty"`
}

// Key identifies an SLO instance across evaluations: name plus group.
func (s SLO) Key() string {
	if s.Instance == "" {
		return s.Name
	}
	return s.Name + "{" + s.Instance + "}"
}

// Window is one window's numbers; with no events NoData is true and the
// ratios are 0.
type Window struct {
	Name       string  `json:"name"`
	ErrorRatio float64 `json:"errorRatio"`
	BurnRate   float64 `json:"burnRate"`
	NoData     bool    `json:"noData"`
}

// AlertStatus is one severity's current state.
type AlertStatus struct {
	Severity string    `json:"severity"`
	State    string    `json:"state"`
	Enabled  bool      `json:"enabled"`
	Since    time.Time `json:"since,omitzero"`
}

// Threshold is one multi-window burn-rate condition: the alert of
// Severity holds when both windows burn at least BurnRate.
type Threshold struct {
	Severity string   `json:"severity"`
	Long     Duration `json:"longSeconds"`
	Short    Duration `json:"shortSeconds"`
	BurnRate float64  `json:"burnRate"`
}

// Point is one history sample. SLI is the good ratio over the shortest
// window (1 when NoData).
type Point struct {
	At     time.Time `json:"t"`
	SLI    float64   `json:"sli"`
	NoData bool      `json:"noData,omitempty"`
	// BurnShort and BurnLong are the burn rates over the 5m and 1h windows.
	BurnShort float64 `json:"burnShort"`
	BurnLong  float64 `json:"burnLong"`
	Budget    float64 `json:"budgetRemaining"`
}

// AlertEvent is one alert transition, as the SLO engine emitted it, and
// where it went. Its JSON form (the status page's alert API) is
// alertEventJSON: the transition's identity, windows and burn rates.
type AlertEvent struct {
	contract.Transition
	// Instance is the SLO instance's group as "k=v, k=v" ("" without
	// group_by).
	Instance string
	// Receivers are the destinations the alert was queued for (none for
	// pending alerts, which are not sent, or without alerting).
	Receivers []string
	// Source is the registering component's id.
	Source string
}

// alertEventJSON is the wire form of an AlertEvent.
type alertEventJSON struct {
	At       time.Time `json:"at"`
	SLO      string    `json:"slo"`
	Instance string    `json:"instance,omitempty"`
	Service  string    `json:"service"`
	Severity string    `json:"severity"`
	// State is "pending", "firing" or "resolved".
	State         string   `json:"state"`
	LongWindow    Duration `json:"longWindowSeconds"`
	ShortWindow   Duration `json:"shortWindowSeconds"`
	BurnRateLong  float64  `json:"burnRateLong"`
	BurnRateShort float64  `json:"burnRateShort"`
	Threshold     float64  `json:"threshold"`
	Receivers     []string `json:"receivers"`
	Source        string   `json:"source"`
}

// MarshalJSON writes the event's wire form.
func (e AlertEvent) MarshalJSON() ([]byte, error) {
	return json.Marshal(alertEventJSON{At: e.At, SLO: e.SLO, Instance: e.Instance, Service: e.Service,
		Severity: e.Severity, State: e.State, LongWindow: Duration(e.LongWindow), ShortWindow: Duration(e.ShortWindow),
		BurnRateLong: e.BurnRateLong, BurnRateShort: e.BurnRateShort, Threshold: e.Threshold,
		Receivers: e.Receivers, Source: e.Source})
}

// UnmarshalJSON reads the event's wire form; what the wire form does not
// carry (labels, annotations, budget) stays zero.
func (e *AlertEvent) UnmarshalJSON(b []byte) error {
	var w alertEventJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*e = AlertEvent{Transition: contract.Transition{At: w.At, SLO: w.SLO, Service: w.Service, Severity: w.Severity,
		State: w.State, LongWindow: w.LongWindow.Std(), ShortWindow: w.ShortWindow.Std(),
		BurnRateLong: w.BurnRateLong, BurnRateShort: w.BurnRateShort, Threshold: w.Threshold},
		Instance: w.Instance, Receivers: w.Receivers, Source: w.Source}
	return nil
}

// Destination is one alerting destination's health.
type Destination struct {
	Name string `json:"name"`
	// Queued alerts are waiting in the outbox.
	Queued int `json:"queued"`
	// Breakers maps endpoint to its circuit state's name
	// (internal/breakerstate: "closed", "half_open" or "open").
	Breakers map[string]string `json:"breakers"`
	// LastDelivered is when the destination last accepted a request (zero:
	// never since obsd started). Alerts go out oldest first: with Queued 0,
	// every alert queued before it was delivered, rejected or handed on.
	LastDelivered time.Time `json:"lastDelivered,omitzero"`
	// LastError is its latest failed request's error, at LastErrorAt.
	LastError   string    `json:"lastError,omitempty"`
	LastErrorAt time.Time `json:"lastErrorAt,omitzero"`
	Source      string    `json:"source"`
}

// Duration is a time.Duration that reads and writes JSON as seconds.
type Duration time.Duration

// MarshalJSON writes the duration in seconds; a negative duration is -1.
func (d Duration) MarshalJSON() ([]byte, error) {
	if d < 0 {
		return []byte("-1"), nil
	}
	return json.Marshal(time.Duration(d).Seconds())
}

// UnmarshalJSON reads seconds; a negative number is -1ns ("never").
func (d *Duration) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	if f < 0 {
		*d = -1
		return nil
	}
	*d = Duration(math.Round(f * float64(time.Second)))
	return nil
}

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// StateRank orders alert states for sorting: firing 3, pending 2,
// resolved 1, anything else 0.
func StateRank(s string) int {
	switch s {
	case contract.StateFiring:
		return 3
	case contract.StatePending:
		return 2
	case contract.StateResolved:
		return 1
	}
	return 0
}
