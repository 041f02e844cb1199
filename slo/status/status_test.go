package status

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo/contract"
)

func TestDurationsAreSecondsInJSON(t *testing.T) {
	tests := []struct {
		name string
		d    Duration
		json string
	}{
		{"a duration is written in seconds", Duration(90 * time.Second), "90"},
		{"a fraction of a second is kept", Duration(1500 * time.Millisecond), "1.5"},
		{"never (negative) is -1", Duration(-5), "-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.Marshal(tc.d)
			require.NoError(t, err)
			assert.Equal(t, tc.json, string(got))
			var back Duration
			require.NoError(t, json.Unmarshal(got, &back))
			if tc.d < 0 {
				assert.Equal(t, Duration(-1), back)
			} else {
				assert.Equal(t, tc.d, back)
			}
		})
	}
	var d Duration
	assert.Error(t, json.Unmarshal([]byte(`"1h"`), &d), "a string is not seconds")
}

func TestStateRankPutsFiringFirst(t *testing.T) {
	assert.Greater(t, StateRank(contract.StateFiring), StateRank(contract.StatePending))
	assert.Greater(t, StateRank(contract.StatePending), StateRank(contract.StateResolved))
	assert.Greater(t, StateRank(contract.StateResolved), StateRank(contract.StateInactive))
	assert.Equal(t, 0, StateRank("bogus"))
}

func TestAnInstanceKeyNamesItsGroup(t *testing.T) {
	assert.Equal(t, "api", SLO{Name: "api"}.Key())
	assert.Equal(t, "api{region=eu}", SLO{Name: "api", Instance: "region=eu"}.Key())
}

// The alert API's JSON keeps its shape now that AlertEvent embeds the
// contract's transition: seconds for windows, the wire names, and no
// labels or annotations.
func TestAlertEventJSONIsTheAPIShape(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ev := AlertEvent{Transition: contract.Transition{At: at, SLO: "checkout", Service: "shop", Severity: contract.SeverityPage,
		State: contract.StateFiring, LongWindow: time.Hour, ShortWindow: 5 * time.Minute, BurnRateLong: 20, BurnRateShort: 25,
		Threshold: 14.4, Labels: map[string]string{"team": "pay"}, Annotations: map[string]string{"runbook_url": "x"}},
		Instance: "region=eu", Receivers: []string{"oncall"}, Source: "slo"}
	got, err := json.Marshal(ev)
	require.NoError(t, err)
	assert.JSONEq(t, `{"at":"2026-01-02T03:04:05Z","slo":"checkout","instance":"region=eu","service":"shop","severity":"page",
		"state":"firing","longWindowSeconds":3600,"shortWindowSeconds":300,"burnRateLong":20,"burnRateShort":25,
		"threshold":14.4,"receivers":["oncall"],"source":"slo"}`, string(got))

	var back AlertEvent
	require.NoError(t, json.Unmarshal(got, &back))
	want := ev
	want.Labels, want.Annotations = nil, nil
	assert.Equal(t, want, back, "what the wire form carries reads back unchanged")
}
