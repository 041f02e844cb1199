package tlsidentity

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/extension/extensiontest"

	"github.com/obsd-dev/obsd/internal/testcerts"
)

// BenchmarkHTTPMiddleware is the per-request cost of the middleware on a
// request whose TLS state holds a verified client certificate (the
// handshake itself is not counted).
func BenchmarkHTTPMiddleware(b *testing.B) {
	ca := testcerts.NewCA(b, "bench")
	leaf, err := x509.ParseCertificate(ca.Client(b, testcerts.Options{CommonName: "team-a"}).TLS.Certificate[0])
	require.NoError(b, err)
	ext, err := newExtension(createDefaultConfig().(*Config), extensiontest.NewNopSettings(Type))
	require.NoError(b, err)
	wrap, err := ext.GetHTTPHandler(context.Background())
	require.NoError(b, err)
	h, err := wrap(context.Background(), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	require.NoError(b, err)
	req := httptest.NewRequest(http.MethodPost, "/v1/traces", nil)
	req.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{leaf}}}
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, req)
	}
}
