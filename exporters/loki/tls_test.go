package loki

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configtls"

	"github.com/obsd-dev/obsd/internal/testcerts"
)

// newTLSFakeLoki is fakeLoki over mutual TLS: server certificate from ca,
// client certificates required from clientCA.
func newTLSFakeLoki(t *testing.T, ca, clientCA *testcerts.CA) *fakeLoki {
	f := &fakeLoki{attempts: map[string][]time.Time{}, accepted: map[string][]string{}}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{ca.Server(t, testcerts.Options{}).TLS},
		ClientCAs:    clientCA.Pool(), ClientAuth: tls.RequireAndVerifyClientCert,
	}
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	return f
}

func TestPushOverMutualTLS(t *testing.T) {
	lokiCA := testcerts.NewCA(t, "loki")
	agentCA := testcerts.NewCA(t, "agent")
	otherCA := testcerts.NewCA(t, "other")
	agent := agentCA.Client(t, testcerts.Options{CommonName: "obsd-node-1"})
	loki := newTLSFakeLoki(t, lokiCA, agentCA)

	tests := []struct {
		name    string
		tenant  string
		tls     configtls.ClientConfig
		deliver bool
	}{
		{"the right CA and a client certificate deliver", "ok", configtls.ClientConfig{Config: configtls.Config{CAFile: lokiCA.CertFile, CertFile: agent.CertFile, KeyFile: agent.KeyFile}}, true},
		{"a wrong CA fails on Loki's certificate", "wrong-ca", configtls.ClientConfig{Config: configtls.Config{CAFile: otherCA.CertFile, CertFile: agent.CertFile, KeyFile: agent.KeyFile}}, false},
		{"no client certificate is refused by Loki", "no-cert", configtls.ClientConfig{Config: configtls.Config{CAFile: lokiCA.CertFile}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := startExporter(t, loki.srv.URL, func(c *Config) {
				c.ClientConfig.TLS = tt.tls
				c.RetryConfig.Enabled = false
				c.QueueConfig = configoptional.None[exporterhelperQueue]()
				c.TenantID = tt.tenant
			})
			ld, want := logsFor(3, "")
			err := h.exp.ConsumeLogs(context.Background(), ld)
			if tt.deliver {
				require.NoError(t, err)
				assert.Equal(t, want[""], loki.lines(tt.tenant))
				return
			}
			require.Error(t, err)
			assert.Empty(t, loki.lines(tt.tenant))
		})
	}
}
