package ratelimit

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configmiddleware"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// startHTTP serves an always-200 handler through confighttp with the
// extension as its middleware, on loopback, and returns its base URL.
func startHTTP(t *testing.T, ext *rateLimit) string {
	t.Helper()
	cfg := confighttp.NewDefaultServerConfig()
	cfg.NetAddr.Endpoint = "127.0.0.1:0"
	cfg.Middlewares = []configmiddleware.Config{{ID: component.NewID(Type)}}
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	srv, err := cfg.ToServer(context.Background(), extensionsOf(ext), componenttest.NewNopTelemetrySettings(), ok)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		require.NoError(t, srv.Close())
		require.ErrorIs(t, <-done, http.ErrServerClosed)
	})
	return "http://" + ln.Addr().String()
}

func post(t *testing.T, url, tenant, contentType string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/v1/traces", bytes.NewReader(nil))
	require.NoError(t, err)
	if tenant != "" {
		req.Header.Set("X-Scope-OrgID", tenant)
	}
	req.Header.Set("Content-Type", contentType)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
	require.NoError(t, err)
	return resp
}

func TestHTTPRefusal(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		wantType    string
		decode      func([]byte) (*spb.Status, error)
	}{
		{
			name:        "an OTLP protobuf request is refused with a protobuf google.rpc.Status carrying RetryInfo",
			contentType: "application/x-protobuf", wantType: "application/x-protobuf",
			decode: func(b []byte) (*spb.Status, error) { var s spb.Status; return &s, proto.Unmarshal(b, &s) },
		},
		{
			name:        "an OTLP JSON request is refused with a JSON google.rpc.Status carrying RetryInfo",
			contentType: "application/json; charset=utf-8", wantType: "application/json",
			decode: func(b []byte) (*spb.Status, error) { var s spb.Status; return &s, protojson.Unmarshal(b, &s) },
		},
		{
			name:        "another content type is refused with one line of text",
			contentType: "text/plain", wantType: "text/plain; charset=utf-8",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ext, reader := newTestExtension(t, testConfig())
			url := startHTTP(t, ext)

			first := post(t, url, "tenant-a", tt.contentType)
			first.Body.Close()
			require.Equal(t, http.StatusOK, first.StatusCode)

			resp := post(t, url, "tenant-a", tt.contentType)
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
			// 0.5 requests/s: the bucket needs (almost) 2s for its next token.
			assert.Equal(t, "2", resp.Header.Get("Retry-After"))
			assert.Equal(t, tt.wantType, resp.Header.Get("Content-Type"))
			if tt.decode == nil {
				assert.Contains(t, string(body), "rate limit exceeded (client limit, tier default)")
			} else {
				st, err := tt.decode(body)
				require.NoError(t, err)
				assert.Equal(t, int32(codes.ResourceExhausted), st.GetCode())
				require.Len(t, st.GetDetails(), 1)
				var info errdetails.RetryInfo
				require.NoError(t, st.GetDetails()[0].UnmarshalTo(&info))
				assert.Equal(t, 2*time.Second, info.GetRetryDelay().AsDuration())
			}

			other := post(t, url, "tenant-b", tt.contentType)
			other.Body.Close()
			assert.Equal(t, http.StatusOK, other.StatusCode, "a client under its own limit is not starved by one over it")

			assert.Equal(t, map[string]int64{
				"tenant-a/default/allowed": 1, "tenant-a/default/refused": 1, "tenant-b/default/allowed": 1,
			}, requestCounts(t, reader))
		})
	}
}

func TestHTTPTierAndGlobal(t *testing.T) {
	cfg := testConfig()
	cfg.Global = LimitConfig{Rate: 0.25, Burst: 3}
	ext, reader := newTestExtension(t, cfg)
	url := startHTTP(t, ext)
	statuses := func(tenant string, n int) []int {
		var out []int
		for range n {
			resp := post(t, url, tenant, "application/x-protobuf")
			resp.Body.Close()
			out = append(out, resp.StatusCode)
		}
		return out
	}
	assert.Equal(t, []int{200, 200}, statuses("vip", 2), "the gold tier's client passes its burst")
	assert.Equal(t, []int{200, 429}, statuses("tenant-a", 2), "a default client is held to one request")
	resp := post(t, url, "vip", "application/x-protobuf")
	resp.Body.Close()
	assert.Equal(t, http.StatusTooManyRequests, resp.StatusCode, "the global bucket (3) is spent even for the gold tier")
	retry, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	require.NoError(t, err)
	assert.Equal(t, 4, retry, "the global bucket refills one token in 4s")
	assert.Equal(t, map[string]int64{
		"vip/gold/allowed": 2, "vip/gold/refused": 1,
		"tenant-a/default/allowed": 1, "tenant-a/default/refused": 1,
	}, requestCounts(t, reader))
	assert.Equal(t, int64(1), gaugeValue(t, reader, metricGlobalRefusals))
	assert.Equal(t, int64(2), gaugeValue(t, reader, metricTrackedClients))
}

func TestHTTPLabelsAreBounded(t *testing.T) {
	cfg := testConfig()
	cfg.MaxLabelClients = 2 // "vip" (a tier key) holds one slot
	cfg.MaxClients = 2
	ext, reader := newTestExtension(t, cfg)
	url := startHTTP(t, ext)
	for _, tenant := range []string{"a", "b", "c", "d"} {
		resp := post(t, url, tenant, "text/plain")
		resp.Body.Close()
	}
	assert.Equal(t, map[string]int64{"a/default/allowed": 1, "other/default/allowed": 3}, requestCounts(t, reader))
	assert.Equal(t, int64(2), gaugeValue(t, reader, metricTrackedClients))
	assert.Equal(t, int64(2), gaugeValue(t, reader, metricEvictedClients))
}
