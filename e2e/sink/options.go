package sink

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Options make a sink stricter than NewOTLP's plain one.
type Options struct {
	// TLS, when set, makes both servers TLS-only with this config (set
	// ClientCAs and ClientAuth for mTLS); HTTPURL is then https://.
	TLS *tls.Config
	// BearerToken, when set, refuses requests whose Authorization header
	// (gRPC metadata "authorization") is not "Bearer <token>": HTTP 401,
	// gRPC UNAUTHENTICATED. Refused requests are counted in Unauthorized.
	BearerToken string
}

// auth counts refused requests of a sink with Options.BearerToken.
type auth struct {
	want string
	mu   sync.Mutex
	n    int
}

func (a *auth) ok(header string) bool {
	if a == nil || a.want == "" {
		return true
	}
	if subtle.ConstantTimeCompare([]byte(header), []byte("Bearer "+a.want)) == 1 {
		return true
	}
	a.mu.Lock()
	a.n++
	a.mu.Unlock()
	return false
}

// Unauthorized is the number of requests refused for a missing or wrong
// bearer token (always 0 without Options.BearerToken).
func (s *OTLP) Unauthorized() int {
	a := s.auth
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n
}

// NewOTLPWith starts a sink on loopback with opts; it is stopped at test
// cleanup. NewOTLP(t) is NewOTLPWith(t, Options{}).
func NewOTLPWith(t testing.TB, opts Options) *OTLP {
	t.Helper()
	s := &OTLP{}
	if opts.BearerToken != "" {
		s.auth = &auth{want: opts.BearerToken}
	}
	a := s.auth
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("sink listen: %v", err)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("sink listen: %v", err)
	}
	s.GRPCAddr = gl.Addr().String()
	s.HTTPURL = "http://" + hl.Addr().String()

	grpcOpts := []grpc.ServerOption{
		grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
			var header string
			if vs := metadata.ValueFromIncomingContext(ctx, "authorization"); len(vs) > 0 {
				header = vs[0]
			}
			if !a.ok(header) {
				return nil, status.Error(codes.Unauthenticated, "sink: bad or missing bearer token")
			}
			return h(ctx, req)
		}),
	}
	if opts.TLS != nil {
		grpcOpts = append(grpcOpts, grpc.Creds(credentials.NewTLS(opts.TLS)))
		hl = tls.NewListener(hl, opts.TLS)
		s.HTTPURL = "https://" + hl.Addr().String()
	}
	s.grpcServer = grpc.NewServer(grpcOpts...)
	ptraceotlp.RegisterGRPCServer(s.grpcServer, &traceServer{s: s})
	plogotlp.RegisterGRPCServer(s.grpcServer, &logServer{s: s})
	pmetricotlp.RegisterGRPCServer(s.grpcServer, &metricServer{s: s})
	go func() { _ = s.grpcServer.Serve(gl) }()

	mux := s.httpMux()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.ok(r.Header.Get("Authorization")) {
			http.Error(w, "sink: bad or missing bearer token", http.StatusUnauthorized)
			return
		}
		mux.ServeHTTP(w, r)
	})
	s.httpServer = &http.Server{Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.httpServer.Serve(hl) }()

	t.Cleanup(s.Close)
	return s
}
