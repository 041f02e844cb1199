package spec

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultWindowPairsDropWindowsLongerThanPeriod(t *testing.T) {
	page, ticket := DefaultWindowPairs(2 * 24 * time.Hour)
	assert.Len(t, page, 2)
	require.Len(t, ticket, 1, "the 3d ticket pair does not fit a 2d period")
	assert.InDelta(t, 0.1*2, ticket[0].Factor, 1e-9)
}
