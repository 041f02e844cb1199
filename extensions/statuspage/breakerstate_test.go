package statuspage

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/extensions/statuspage/internal/pipeline"
	"github.com/obsd-dev/obsd/internal/breakerstate"
)

// The pipeline page decodes obsd_circuit_breaker_state by number with the
// one encoding in internal/breakerstate, which the circuitbreaker extension
// exports.
func TestThePipelinePageNamesEachCircuitBreakerStateAsTheExtensionExportsIt(t *testing.T) {
	for _, s := range breakerstate.All {
		t.Run(s.String(), func(t *testing.T) {
			text := fmt.Sprintf("# TYPE obsd_circuit_breaker_state gauge\nobsd_circuit_breaker_state{breaker=\"circuit_breaker/x\"} %d\n", s)
			sample, err := pipeline.Parse(strings.NewReader(text), time.Now())
			require.NoError(t, err)
			v := pipeline.Build(nil, nil, sample)
			require.Len(t, v.Breakers, 1)
			assert.Equal(t, s.String(), v.Breakers[0].State)
		})
	}
}
