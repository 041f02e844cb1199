package circuitbreaker

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componentstatus"

	"github.com/obsd-dev/obsd/internal/breakerstate"
)

func TestReadinessStatusIsErrorOnlyWhileEveryCircuitIsOpen(t *testing.T) {
	backend := &flakyHTTP{failStatus: http.StatusServiceUnavailable}
	backend.failing.Store(true)
	srv := httptest.NewServer(backend)
	defer srv.Close()
	cfg := testConfig()
	cfg.Delay = time.Hour
	hostA, hostB := newStatusHost(), newStatusHost()
	a, _ := newTestBreaker(t, "a", cfg, hostA)
	b, _ := newTestBreaker(t, "b", cfg, hostB)
	ca, cb := httpClient(t, a), httpClient(t, b)

	for range 3 {
		post(t, ca, srv.URL)
	}
	require.Equal(t, breakerstate.Open, a.State())
	assert.NotEqual(t, componentstatus.StatusRecoverableError, hostA.last(), "one open circuit of two: still ready")
	assert.NotEqual(t, componentstatus.StatusRecoverableError, hostB.last())

	for range 3 {
		post(t, cb, srv.URL)
	}
	require.Equal(t, breakerstate.Open, b.State())
	assert.Equal(t, componentstatus.StatusRecoverableError, hostA.last(), "every circuit open: not ready")
	assert.Equal(t, componentstatus.StatusRecoverableError, hostB.last())

	b.cb.Close() // b's backend answers again
	assert.Equal(t, componentstatus.StatusOK, hostA.last(), "one circuit closed: ready again")
	assert.Equal(t, componentstatus.StatusOK, hostB.last())
}
