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
