package tlsidentity

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/obsd-dev/obsd/internal/testcerts"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newTestExtension(t *testing.T, cfg *Config) *tlsIdentity {
	t.Helper()
	require.NoError(t, cfg.Validate())
	ext, err := NewFactory().Create(context.Background(), extensiontest.NewNopSettings(Type), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, ext.Shutdown(context.Background())) })
	return ext.(*tlsIdentity)
}

// tenantOf is the tenant attribute of the client.Info in ctx, or "".
func tenantOf(ctx context.Context) string {
	if a := client.FromContext(ctx).Auth; a != nil {
		if s, ok := a.GetAttribute("tenant").(string); ok {
			return s
		}
	}
	return ""
}

func TestHTTPIdentity(t *testing.T) {
	ca := testcerts.NewCA(t, "http")
	srvPair := ca.Server(t, testcerts.Options{})
	teamA := ca.Client(t, testcerts.Options{CommonName: "team-a"})
	spaced := ca.Client(t, testcerts.Options{CommonName: "team a"})

	tests := []struct {
		name       string
		required   bool
		client     *testcerts.Pair
		wantStatus int
		wantTenant string
	}{
		{"a verified client certificate's CN becomes the tenant and subject", false, teamA, 200, "team-a"},
		{"without a client certificate the request passes with no tenant", false, nil, 200, ""},
		{"without a client certificate a required identity gets 401", true, nil, 401, ""},
		{"a CN that is not a safe identity is no identity (401 when required)", true, spaced, 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			cfg.Required = tt.required
			ext := newTestExtension(t, cfg)
			wrap, err := ext.GetHTTPHandler(context.Background())
			require.NoError(t, err)
			var gotTenant, gotSubject string
			h, err := wrap(context.Background(), http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				gotTenant = tenantOf(r.Context())
				if a := client.FromContext(r.Context()).Auth; a != nil {
					gotSubject, _ = a.GetAttribute("subject").(string)
				}
			}))
			require.NoError(t, err)
			srv := httptest.NewUnstartedServer(h)
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{srvPair.TLS}, ClientCAs: ca.Pool(), ClientAuth: tls.VerifyClientCertIfGiven}
			srv.StartTLS()
			defer srv.Close()
			hc := &http.Client{Transport: &http.Transport{TLSClientConfig: testcerts.ClientTLS(ca, tt.client)}}
			defer hc.CloseIdleConnections()
			resp, err := hc.Get(srv.URL)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			assert.Equal(t, tt.wantTenant, gotTenant)
			assert.Equal(t, tt.wantTenant, gotSubject)
		})
	}
}

func TestPlainHTTPHasNoIdentity(t *testing.T) {
	ext := newTestExtension(t, createDefaultConfig().(*Config))
	ctx, ok := ext.withIdentity(context.Background(), nil)
	assert.True(t, ok)
	assert.Nil(t, client.FromContext(ctx).Auth, "a plain connection names no one")
	ctx, ok = ext.withIdentity(context.Background(), &tls.ConnectionState{})
	assert.True(t, ok)
	assert.Nil(t, client.FromContext(ctx).Auth, "an unverified connection names no one")
}

type traceServer struct {
	ptraceotlp.UnimplementedGRPCServer
	tenants chan string
}

func (s *traceServer) Export(ctx context.Context, _ ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	s.tenants <- tenantOf(ctx)
	return ptraceotlp.NewExportResponse(), nil
}

func TestGRPCIdentity(t *testing.T) {
	ca := testcerts.NewCA(t, "grpc")
	srvPair := ca.Server(t, testcerts.Options{})
	uriClient := ca.Client(t, testcerts.Options{CommonName: "ignored", URIs: []string{"spiffe://c/ns/team-b"}})
	cnOnly := ca.Client(t, testcerts.Options{CommonName: "cn-only"})

	cfg := createDefaultConfig().(*Config)
	cfg.Identity = "san_uri"
	cfg.Required = true
	ext := newTestExtension(t, cfg)
	opts, err := ext.GetGRPCServerOptions(context.Background())
	require.NoError(t, err)
	creds := credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{srvPair.TLS}, ClientCAs: ca.Pool(), ClientAuth: tls.VerifyClientCertIfGiven})
	srv := grpc.NewServer(append(opts, grpc.Creds(creds))...)
	ts := &traceServer{tenants: make(chan string, 1)}
	ptraceotlp.RegisterGRPCServer(srv, ts)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = srv.Serve(l) }()
	defer srv.Stop()

	export := func(cli *testcerts.Pair) error {
		conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(testcerts.ClientTLS(ca, cli))))
		require.NoError(t, err)
		defer conn.Close()
		_, err = ptraceotlp.NewGRPCClient(conn).Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(ptrace.NewTraces()))
		return err
	}
	t.Run("a URI SAN becomes the tenant on gRPC", func(t *testing.T) {
		require.NoError(t, export(uriClient))
		assert.Equal(t, "spiffe://c/ns/team-b", <-ts.tenants)
	})
	t.Run("a certificate without the configured SAN is UNAUTHENTICATED", func(t *testing.T) {
		assert.Equal(t, codes.Unauthenticated, status.Code(export(cnOnly)))
	})
	t.Run("no certificate is UNAUTHENTICATED when required", func(t *testing.T) {
		assert.Equal(t, codes.Unauthenticated, status.Code(export(nil)))
	})
}
