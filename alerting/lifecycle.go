package alerting

import (
	"sort"
	"sync"
	"time"

	"github.com/prometheus/common/model"

	"github.com/obsd-dev/obsd/slo/contract"
)

// AlertState is one entry of the active-alert set, as exported in State.
type AlertState struct {
	Alert    Alert  `json:"alert"`
	State    string `json:"state"`
	Severity string `json:"severity"`
	// LastSent is when the alert was last handed to delivery (zero: never).
	LastSent time.Time `json:"lastSent,omitzero"`
	// ResolvedAt is when the alert resolved (zero while active).
	ResolvedAt time.Time `json:"resolvedAt,omitzero"`
}

// State is the exportable active-alert set; it belongs in the SLO snapshot so
// that a restart neither forgets firing alerts nor re-sends them all at once.
type State struct {
	Alerts []AlertState `json:"alerts"`
}

// lifecycle is the active-alert set keyed by fingerprint, following
// Prometheus: pending alerts are kept but not sent; firing alerts are sent,
// then re-sent every resend interval with endsAt = now + lead; resolved
// alerts are sent at once with endsAt = resolve time and re-sent every
// resend interval for the retention period.
type lifecycle struct {
	resend, lead, retention time.Duration

	mu     sync.Mutex
	alerts map[model.Fingerprint]*AlertState
}

func newLifecycle(resend, lead, retention time.Duration) *lifecycle {
	return &lifecycle{resend: resend, lead: lead, retention: retention, alerts: map[model.Fingerprint]*AlertState{}}
}

// apply records a transition whose alert is a, evaluated at at, and returns
// the alert to send now, if any.
func (l *lifecycle) apply(a Alert, state, severity string, at time.Time) (Alert, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fp := a.Fingerprint()
	cur := l.alerts[fp]
	wasFiring := cur != nil && cur.State == contract.StateFiring
	switch state {
	case contract.StateFiring:
		if wasFiring {
			a.StartsAt = cur.Alert.StartsAt
			cur.Alert = a
			cur.Severity = severity
			if at.Sub(cur.LastSent) < l.resend {
				cur.Alert.EndsAt = at.Add(l.lead)
				return Alert{}, false // no duplicate: the next resend carries it
			}
		} else {
			cur = &AlertState{Alert: a, State: contract.StateFiring, Severity: severity}
			l.alerts[fp] = cur
		}
		cur.Alert.EndsAt = at.Add(l.lead)
		cur.LastSent = at
		return cur.Alert, true
	case contract.StatePending:
		if !wasFiring {
			l.alerts[fp] = &AlertState{Alert: a, State: contract.StatePending, Severity: severity}
			return Alert{}, false
		}
		// firing → pending: the condition stopped holding; resolve it.
		fallthrough
	default: // resolved
		if !wasFiring {
			delete(l.alerts, fp)
			return Alert{}, false
		}
		a.StartsAt = cur.Alert.StartsAt
		a.EndsAt = at
		cur.Alert = a
		cur.State = contract.StateResolved
		cur.ResolvedAt = at
		cur.LastSent = at
		return cur.Alert, true
	}
}

// due returns the alerts to re-send at now and forgets resolved alerts past
// their retention.
func (l *lifecycle) due(now time.Time) []Alert {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Alert
	for fp, s := range l.alerts {
		switch s.State {
		case contract.StateFiring:
			if now.Sub(s.LastSent) >= l.resend {
				s.Alert.EndsAt = now.Add(l.lead)
				s.LastSent = now
				out = append(out, s.Alert)
			}
		case contract.StateResolved:
			if now.Sub(s.ResolvedAt) > l.retention {
				delete(l.alerts, fp)
				continue
			}
			if now.Sub(s.LastSent) >= l.resend {
				s.LastSent = now
				out = append(out, s.Alert)
			}
		}
	}
	sortAlerts(out)
	return out
}

func (l *lifecycle) firingBySeverity() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]int{contract.SeverityPage: 0, contract.SeverityTicket: 0}
	for _, s := range l.alerts {
		if s.State == contract.StateFiring {
			out[s.Severity]++
		}
	}
	return out
}

func (l *lifecycle) export() State {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := State{Alerts: make([]AlertState, 0, len(l.alerts))}
	for _, s := range l.alerts {
		st.Alerts = append(st.Alerts, *s)
	}
	sort.Slice(st.Alerts, func(i, j int) bool {
		return st.Alerts[i].Alert.Fingerprint() < st.Alerts[j].Alert.Fingerprint()
	})
	return st
}

func (l *lifecycle) load(st State) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.alerts = make(map[model.Fingerprint]*AlertState, len(st.Alerts))
	for i := range st.Alerts {
		s := st.Alerts[i]
		if len(s.Alert.Labels) == 0 {
			continue
		}
		l.alerts[s.Alert.Fingerprint()] = &s
	}
}

func sortAlerts(as []Alert) {
	sort.Slice(as, func(i, j int) bool { return as[i].Fingerprint() < as[j].Fingerprint() })
}
