package k8smeta

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
)

func TestFactory(t *testing.T) {
	f := NewFactory()
	assert.Equal(t, "k8smeta", f.Type().String())
	require.NoError(t, componenttest.CheckConfigStruct(f.CreateDefaultConfig()))
	assert.Equal(t, Stability, f.TracesStability())
	assert.Equal(t, Stability, f.MetricsStability())
	assert.Equal(t, Stability, f.LogsStability())
}
