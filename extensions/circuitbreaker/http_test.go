package circuitbreaker

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configmiddleware"

	"github.com/obsd-dev/obsd/internal/breakerstate"
)

// flakyHTTP is a loopback backend answering `failStatus` while failing is
// set, 200 otherwise, and counting the requests that reach it.
type flakyHTTP struct {
	failing    atomic.Bool
	failStatus int
	calls      atomic.Int64
}

func (f *flakyHTTP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	_, _ = io.Copy(io.Discard, r.Body)
	if f.failing.Load() {
		w.WriteHeader(f.failStatus)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// httpClient is a confighttp client naming the breaker in its middlewares,
// built the way exporters build theirs.
func httpClient(t *testing.T, b *breaker) *http.Client {
	t.Helper()
	cfg := confighttp.NewDefaultClientConfig()
	cfg.Middlewares = []configmiddleware.Config{{ID: mustID(b.id)}}
	c, err := cfg.ToClient(context.Background(), extensionsOf(b), componenttest.NewNopTelemetrySettings())
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func post(t *testing.T, c *http.Client, url string) *http.Response {
	t.Helper()
	resp, err := c.Post(url, "application/x-protobuf", strings.NewReader("payload"))
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	require.NoError(t, resp.Body.Close())
	return resp
}

func TestHTTPBreakerOpensFailsFastAndClosesOnRecovery(t *testing.T) {
	for _, tc := range []struct {
		name       string
		failStatus int
	}{
		{"a backend answering 503 opens the circuit", http.StatusServiceUnavailable},
		{"a backend answering 500 opens the circuit", http.StatusInternalServerError},
		{"a backend answering 429 opens the circuit", http.StatusTooManyRequests},
	} {
		t.Run(tc.name, func(t *testing.T) {
			backend := &flakyHTTP{failStatus: tc.failStatus}
			backend.failing.Store(true)
			srv := httptest.NewServer(backend)
			defer srv.Close()
			cfg := testConfig()
			cfg.Delay = time.Hour // stays open for the whole fail-fast phase
			b, reader := newTestBreaker(t, "http", cfg, newStatusHost())
			c := httpClient(t, b)

			for range 3 {
				assert.Equal(t, tc.failStatus, post(t, c, srv.URL).StatusCode)
			}
			require.Equal(t, breakerstate.Open, b.State())
			before := backend.calls.Load()
			for range 20 {
				resp := post(t, c, srv.URL)
				assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
				retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
				require.NoError(t, err, "a refusal says when to retry, in seconds")
				assert.InDelta(t, 3595, retry, 5, "Retry-After is the rest of the hour-long open delay")
			}
			assert.Equal(t, before, backend.calls.Load(), "no call reaches the backend while the circuit is open")
			assert.Equal(t, map[string]int64{"breaker=circuit_breaker/http,": 20}, metricValues(t, reader, metricRejected, labelBreaker))
			assert.Equal(t, map[string]int64{"breaker=circuit_breaker/http,": int64(breakerstate.Open)}, metricValues(t, reader, metricState, labelBreaker))

			// The backend recovers. The hour-long delay is cut short as if
			// it had passed (the timer itself is TestHTTPBreakerProbesHalfOpenAndCloses's):
			// success_threshold (2) good probes close the circuit, and calls
			// reach the backend again.
			backend.failing.Store(false)
			b.cb.HalfOpen()
			require.Equal(t, breakerstate.HalfOpen, b.State())
			for i := range 2 {
				resp := post(t, c, srv.URL)
				assert.Equal(t, http.StatusOK, resp.StatusCode, "probe %d", i)
				assert.Empty(t, resp.Header.Get("Retry-After"), "a probe's answer is the backend's")
			}
			require.Equal(t, breakerstate.Closed, b.State(), "two good probes close the circuit")
			for range 5 {
				assert.Equal(t, http.StatusOK, post(t, c, srv.URL).StatusCode)
			}
			assert.Equal(t, before+7, backend.calls.Load(), "every call after the recovery reaches the backend")
			assert.Equal(t, map[string]int64{"breaker=circuit_breaker/http,": int64(breakerstate.Closed)}, metricValues(t, reader, metricState, labelBreaker))
			assert.Equal(t, map[string]int64{"breaker=circuit_breaker/http,": 20}, metricValues(t, reader, metricRejected, labelBreaker), "nothing more rejected")
			got := metricValues(t, reader, metricTransitions, labelBreaker, labelTo)
			assert.Equal(t, int64(1), got["breaker=circuit_breaker/http,to=open,"])
			assert.Equal(t, int64(1), got["breaker=circuit_breaker/http,to=half_open,"])
			assert.Equal(t, int64(1), got["breaker=circuit_breaker/http,to=closed,"])
		})
	}
}

func TestHTTPBreakerProbesHalfOpenAndCloses(t *testing.T) {
	backend := &flakyHTTP{failStatus: http.StatusBadGateway}
	backend.failing.Store(true)
	srv := httptest.NewServer(backend)
	defer srv.Close()
	b, reader := newTestBreaker(t, "http", testConfig(), newStatusHost())
	c := httpClient(t, b)
	for range 3 {
		post(t, c, srv.URL)
	}
	require.Equal(t, breakerstate.Open, b.State())

	// A failed probe opens the circuit again.
	waitHalfOpenCall(t, c, srv.URL)
	require.Equal(t, breakerstate.Open, b.State(), "a failed probe reopens the circuit")

	backend.failing.Store(false)
	waitHalfOpenCall(t, c, srv.URL) // first good probe: half-open
	assert.Equal(t, breakerstate.HalfOpen, b.State())
	assert.Equal(t, http.StatusOK, post(t, c, srv.URL).StatusCode)
	assert.Equal(t, breakerstate.Closed, b.State(), "success_threshold good probes close the circuit")
	assert.Equal(t, http.StatusOK, post(t, c, srv.URL).StatusCode)

	got := metricValues(t, reader, metricTransitions, labelBreaker, labelTo)
	assert.Equal(t, int64(2), got["breaker=circuit_breaker/http,to=open,"])
	assert.Equal(t, int64(2), got["breaker=circuit_breaker/http,to=half_open,"])
	assert.Equal(t, int64(1), got["breaker=circuit_breaker/http,to=closed,"])
}

// waitHalfOpenCall posts until a request reaches the backend through an
// open circuit (the delay passed and the call went out as a probe).
func waitHalfOpenCall(t *testing.T, c *http.Client, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp := post(t, c, url)
		if resp.Header.Get("Retry-After") == "" {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the circuit never let a probe through")
}

func TestHTTPOutcomesThatDoNotCountAgainstTheBackend(t *testing.T) {
	backend := &flakyHTTP{failStatus: http.StatusBadRequest}
	backend.failing.Store(true)
	srv := httptest.NewServer(backend)
	defer srv.Close()
	b, _ := newTestBreaker(t, "http", testConfig(), newStatusHost())
	c := httpClient(t, b)
	for range 10 {
		assert.Equal(t, http.StatusBadRequest, post(t, c, srv.URL).StatusCode)
	}
	assert.Equal(t, breakerstate.Closed, b.State(), "4xx other than 429 is the request's fault, not the backend's")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 10 {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader("x"))
		require.NoError(t, err)
		_, err = c.Do(req)
		require.Error(t, err)
	}
	assert.Equal(t, breakerstate.Closed, b.State(), "calls the caller cancelled say nothing about the backend")
}

func TestHTTPTransportErrorsOpenTheCircuit(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	b, _ := newTestBreaker(t, "http", testConfig(), newStatusHost())
	c := httpClient(t, b)
	for range 3 {
		_, err := c.Post(url, "text/plain", strings.NewReader("x"))
		require.Error(t, err)
	}
	assert.Equal(t, breakerstate.Open, b.State())
	resp := post(t, c, url)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "an open circuit answers without dialling")
}
