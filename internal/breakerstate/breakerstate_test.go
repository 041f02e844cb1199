package breakerstate

import (
	"testing"

	"github.com/failsafe-go/failsafe-go/circuitbreaker"
)

func TestEncoding(t *testing.T) {
	cases := []struct {
		name     string
		failsafe circuitbreaker.State
		want     State
		value    int32
		text     string
	}{
		{"a closed circuit is 0", circuitbreaker.ClosedState, Closed, 0, "closed"},
		{"a half-open circuit is 1", circuitbreaker.HalfOpenState, HalfOpen, 1, "half_open"},
		{"an open circuit is 2, the worst value", circuitbreaker.OpenState, Open, 2, "open"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := FromFailsafe(tc.failsafe)
			if got != tc.want || int32(got) != tc.value || got.String() != tc.text {
				t.Errorf("FromFailsafe(%v) = %d %q, want %d %q", tc.failsafe, got, got, tc.value, tc.text)
			}
		})
	}
	if State(7).String() != "open" {
		t.Errorf("an unknown state must read open, not healthy")
	}
	for i := 1; i < len(All); i++ {
		if All[i] <= All[i-1] {
			t.Errorf("All must be in value order: %v", All)
		}
	}
}
