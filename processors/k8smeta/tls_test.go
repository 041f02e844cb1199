package k8smeta

import (
	"encoding/pem"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTLS(t *testing.T) {
	body, err := os.ReadFile(recordedPodList)
	require.NoError(t, err)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))
	notPEM := filepath.Join(t.TempDir(), "bad.crt")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))

	tests := []struct {
		name     string
		caFile   string
		insecure bool
		outcome  string
	}{
		{"a server certificate signed by ca_file is trusted", caFile, false, "ok"},
		{"insecure_skip_verify accepts a self-signed kubelet certificate", "", true, "ok"},
		{"a certificate the system roots do not know is refused", "", false, "error"},
		{"a ca_file without a certificate disables the source", notPEM, false, "error"},
		{"a missing ca_file disables the source", filepath.Join(t.TempDir(), "missing.crt"), false, "error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			cfg.NodeName = "node-a"
			cfg.Source.Endpoint = srv.URL
			cfg.Source.TokenFile = ""
			cfg.Source.CAFile = tt.caFile
			cfg.Source.InsecureSkipVerify = tt.insecure
			cfg.Source.PollInterval = 20 * time.Millisecond
			h := newHarness(t, cfg)
			require.Eventually(t, func() bool {
				return h.counter("obsd_k8smeta_refreshes_total", map[string]string{"outcome": tt.outcome}) > 0
			}, 10*time.Second, 10*time.Millisecond)
			assert.Equal(t, int64(0), h.counter("obsd_k8smeta_refreshes_total", map[string]string{"outcome": map[string]string{"ok": "error", "error": "ok"}[tt.outcome]}))
		})
	}
}

// TestInClusterEndpoint resolves the API server as a pod does, from
// KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT, over TLS.
func TestInClusterEndpoint(t *testing.T) {
	body, err := os.ReadFile(recordedPodList)
	require.NoError(t, err)
	var gotPath atomic.Value
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath.Store(r.URL.Path)
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))
	host, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	t.Setenv("KUBERNETES_SERVICE_HOST", host)
	t.Setenv("KUBERNETES_SERVICE_PORT", port)

	cfg := createDefaultConfig().(*Config)
	cfg.NodeName = "node-a"
	cfg.Source.TokenFile = ""
	cfg.Source.CAFile = caFile
	h := newHarness(t, cfg)
	h.waitForPods()
	assert.Equal(t, "/api/v1/pods", gotPath.Load())
	assert.Equal(t, checkout(nil), h.through(peer(tcp("10.244.1.17")), map[string]any{})["logs"])
}
