package oversize

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/confighttp"
	"go.opentelemetry.io/collector/config/configmiddleware"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDefaultConfig(t *testing.T) {
	cfg := NewFactory().CreateDefaultConfig()
	require.NoError(t, confmap.New().Unmarshal(&cfg))
	assert.Equal(t, &Config{}, cfg)
}

// handler400 is a receiver like OTLP/HTTP: any body read error is a 400.
var handler400 = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if _, err := io.ReadAll(r.Body); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if r.Header.Get("X-Bad") != "" {
		http.Error(w, "malformed", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusOK)
})

func gz(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(make([]byte, n))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestThroughConfighttp(t *testing.T) {
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(Type), createDefaultConfig())
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, ext.Shutdown(context.Background())) }()

	sc := confighttp.NewDefaultServerConfig()
	sc.MaxRequestBodySize = 1024
	sc.Middlewares = []configmiddleware.Config{{ID: component.NewID(Type)}}
	srv, err := sc.ToServer(context.Background(), map[component.ID]component.Component{component.NewID(Type): ext},
		componenttest.NewNopTelemetrySettings(), handler400)
	require.NoError(t, err)
	ts := httptest.NewServer(srv.Handler)
	defer ts.Close()

	tests := []struct {
		name     string
		body     []byte
		encoding string
		bad      bool
		want     int
	}{
		{"a gzip body that decompresses past the limit gets 413", gz(t, 1<<20), "gzip", false, 413},
		{"a plain body past the limit gets 413", make([]byte, 4096), "", false, 413},
		{"a body within the limit passes", gz(t, 512), "gzip", false, 200},
		{"a malformed body within the limit keeps its 400", []byte("x"), "", true, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, ts.URL, bytes.NewReader(tt.body))
			require.NoError(t, err)
			if tt.encoding != "" {
				req.Header.Set("Content-Encoding", tt.encoding)
			}
			if tt.bad {
				req.Header.Set("X-Bad", "1")
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			msg, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, tt.want, resp.StatusCode, string(msg))
			if tt.want == 413 {
				assert.True(t, strings.Contains(string(msg), "too large"), "the handler's message is kept: %q", msg)
			}
		})
	}
	http.DefaultClient.CloseIdleConnections()
}
