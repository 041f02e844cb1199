package statuspage

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/extensions/circuitbreaker"
	"github.com/obsd-dev/obsd/extensions/statuspage/internal/pipeline"
)

// The pipeline page decodes obsd_circuit_breaker_state by number; the
// numbers are the circuitbreaker extension's State values, so a change on
// either side must show here.
func TestThePipelinePageNamesEachCircuitBreakerStateAsTheExtensionExportsIt(t *testing.T) {
	for _, s := range []circuitbreaker.State{circuitbreaker.StateClosed, circuitbreaker.StateOpen, circuitbreaker.StateHalfOpen} {
		t.Run(s.String(), func(t *testing.T) {
			text := fmt.Sprintf("# TYPE obsd_circuit_breaker_state gauge\nobsd_circuit_breaker_state{breaker=\"circuit_breaker/x\"} %d\n", s)
			sample, err := pipeline.Parse(strings.NewReader(text), time.Now())
			require.NoError(t, err)
			v := pipeline.Build(nil, nil, sample)
			require.Len(t, v.Breakers, 1)
			assert.Equal(t, strings.ReplaceAll(s.String(), "_", "-"), v.Breakers[0].State)
		})
	}
}
