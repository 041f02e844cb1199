package alerting

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/contract"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func lifeAlert(slo string) Alert {
	return Alert{Labels: map[string]string{"alertname": DefaultAlertName, "slo": slo, "severity": "page"}, StartsAt: t0}
}

type step struct {
	at    time.Duration // after t0
	state string        // a transition, or "" for a resend tick
	sent  []string      // "firing"/"resolved" per alert sent, in order
}

func TestLifecycle(t *testing.T) {
	const resend, lead, retention = time.Minute, 4 * time.Minute, 3 * time.Minute
	tests := []struct {
		name  string
		steps []step
	}{
		{"a pending alert is remembered but never sent", []step{
			{0, contract.StatePending, nil},
			{2 * time.Minute, "", nil},
		}},
		{"a firing alert is sent at once and then every resend interval", []step{
			{0, contract.StatePending, nil},
			{30 * time.Second, contract.StateFiring, []string{"firing"}},
			{60 * time.Second, "", nil},
			{90 * time.Second, "", []string{"firing"}},
			{100 * time.Second, contract.StateFiring, nil},
			{150 * time.Second, "", []string{"firing"}},
		}},
		{"a repeated firing transition inside the resend interval sends nothing", []step{
			{0, contract.StateFiring, []string{"firing"}},
			{10 * time.Second, contract.StateFiring, nil},
			{70 * time.Second, contract.StateFiring, []string{"firing"}},
		}},
		{"a resolved alert is sent at once and re-sent during the retention only", []step{
			{0, contract.StateFiring, []string{"firing"}},
			{30 * time.Second, contract.StateResolved, []string{"resolved"}},
			{90 * time.Second, "", []string{"resolved"}},
			{150 * time.Second, "", []string{"resolved"}},
			{5 * time.Minute, "", nil},
			{10 * time.Minute, "", nil},
		}},
		{"a pending alert that resolves is dropped silently", []step{
			{0, contract.StatePending, nil},
			{10 * time.Second, contract.StateResolved, nil},
			{5 * time.Minute, "", nil},
		}},
		{"firing then pending is treated as resolved", []step{
			{0, contract.StateFiring, []string{"firing"}},
			{10 * time.Second, contract.StatePending, []string{"resolved"}},
		}},
		{"an alert firing again after resolving is a new firing alert", []step{
			{0, contract.StateFiring, []string{"firing"}},
			{10 * time.Second, contract.StateResolved, []string{"resolved"}},
			{20 * time.Second, contract.StateFiring, []string{"firing"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLifecycle(resend, lead, retention)
			for i, s := range tt.steps {
				now := t0.Add(s.at)
				var sent []Alert
				if s.state == "" {
					sent = l.due(now)
				} else if a, ok := l.apply(lifeAlert("x"), s.state, contract.SeverityPage, now); ok {
					sent = []Alert{a}
				}
				var got []string
				for _, a := range sent {
					if a.Resolved(now) {
						got = append(got, contract.StateResolved)
						assert.False(t, a.EndsAt.After(now), "step %d: a resolved alert ends at its resolve time", i)
					} else {
						got = append(got, contract.StateFiring)
						assert.Equal(t, now.Add(lead), a.EndsAt, "step %d: endsAt is set ahead by the lead", i)
					}
				}
				assert.Equal(t, s.sent, got, "step %d at +%s", i, s.at)
			}
		})
	}
}

func TestLifecycleKeepsStartsAtAcrossUpdates(t *testing.T) {
	l := newLifecycle(time.Minute, 4*time.Minute, time.Minute)
	a := lifeAlert("x")
	_, ok := l.apply(a, contract.StateFiring, contract.SeverityPage, t0)
	require.True(t, ok)
	b := lifeAlert("x")
	b.StartsAt = t0.Add(time.Hour)
	b.Annotations = map[string]string{"description": "new numbers"}
	got, ok := l.apply(b, contract.StateFiring, contract.SeverityPage, t0.Add(2*time.Minute))
	require.True(t, ok)
	assert.Equal(t, t0, got.StartsAt)
	assert.Equal(t, "new numbers", got.Annotations["description"], "re-sends carry the latest numbers")
	assert.Equal(t, map[string]int{"page": 1, "ticket": 0}, l.firingBySeverity())
}

func TestLifecycleStateRoundTripAvoidsResendStorm(t *testing.T) {
	l := newLifecycle(time.Minute, 4*time.Minute, time.Minute)
	for _, slo := range []string{"a", "b", "c"} {
		_, ok := l.apply(lifeAlert(slo), contract.StateFiring, contract.SeverityPage, t0)
		require.True(t, ok)
	}
	data, err := json.Marshal(l.export())
	require.NoError(t, err)

	var st State
	require.NoError(t, json.Unmarshal(data, &st))
	restarted := newLifecycle(time.Minute, 4*time.Minute, time.Minute)
	restarted.load(st)
	assert.Empty(t, restarted.due(t0.Add(10*time.Second)), "a restart does not re-send what was just sent")
	_, ok := restarted.apply(lifeAlert("a"), contract.StateFiring, contract.SeverityPage, t0.Add(20*time.Second))
	assert.False(t, ok, "the restored alert is known to be firing already")
	assert.Len(t, restarted.due(t0.Add(time.Minute)), 3, "the resend interval still applies after a restart")
}
