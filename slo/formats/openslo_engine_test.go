package formats_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/obsd-dev/obsd/slo"
	"github.com/obsd-dev/obsd/slo/formats"
)

// Every SLO the OpenSLO import accepts is one the engine runs: calendar
// units, budgeting methods, slice windows and targets included.
func TestOpenSLOImportsRunInTheEngine(t *testing.T) {
	slos, err := formats.Load("testdata/openslo/valid/*.yaml")
	require.NoError(t, err)
	// cart.yaml has one SLO and checkout.yaml four: an import that quietly
	// drops SLOs must not pass as "the engine runs them all".
	require.Len(t, slos, 5)
	e, err := slo.NewEngine(slos, slo.Options{})
	require.NoError(t, err)
	require.Len(t, e.SLOs(), len(slos))
}
