package circuitbreaker

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/obsd-dev/obsd/internal/breakerstate"
)

func TestFactoryLifecycle(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, "circuit_breaker", f.Type().String())
	ext, err := f.Create(context.Background(), extensiontest.NewNopSettings(f.Type()), f.CreateDefaultConfig())
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	assert.Equal(t, breakerstate.Closed, ext.(*breaker).State(), "a new circuit is closed")
	require.NoError(t, ext.Shutdown(context.Background()))
	circuits.mu.Lock()
	defer circuits.mu.Unlock()
	assert.Empty(t, circuits.members, "a shut down breaker leaves the readiness group")
}
