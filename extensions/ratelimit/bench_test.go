package ratelimit

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/obsd-dev/obsd/internal/servergate"
)

// nopResponseWriter discards the response, so the benchmark measures the
// middleware and not the recorder.
type nopResponseWriter struct{ h http.Header }

func (w *nopResponseWriter) Header() http.Header         { return w.h }
func (w *nopResponseWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *nopResponseWriter) WriteHeader(int)             {}

func benchExtension(b *testing.B, key string) *rateLimit {
	cfg := createDefaultConfig().(*Config)
	cfg.Key = key
	cfg.Default = LimitConfig{Rate: 1e9, Burst: 1e9}
	set := extensiontest.NewNopSettings(Type)
	set.TelemetrySettings = componenttest.NewNopTelemetrySettings()
	ext, err := newExtension(cfg, set)
	if err != nil {
		b.Fatal(err)
	}
	return ext
}

// BenchmarkHTTPMiddleware is the cost the middleware adds to one allowed
// HTTP request, per key source.
func BenchmarkHTTPMiddleware(b *testing.B) {
	for _, key := range []string{"header:X-Scope-OrgID", "peer"} {
		b.Run(key, func(b *testing.B) {
			ext := benchExtension(b, key)
			wrap, _ := ext.GetHTTPHandler(context.Background())
			h, _ := wrap(context.Background(), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
			req := httptest.NewRequest(http.MethodPost, "/v1/traces", nil)
			req.Header.Set("X-Scope-OrgID", "tenant-1")
			req = req.WithContext(client.NewContext(req.Context(), client.Info{Addr: &net.IPAddr{IP: net.ParseIP("10.0.0.1")}}))
			w := &nopResponseWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
		})
	}
}

// BenchmarkGRPCInterceptor is the cost the unary interceptor adds to one
// allowed call keyed by metadata.
func BenchmarkGRPCInterceptor(b *testing.B) {
	ext := benchExtension(b, "header:X-Scope-OrgID")
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("x-scope-orgid", "tenant-1"))
	handler := func(context.Context, any) (any, error) { return nil, nil }
	info := &grpc.UnaryServerInfo{}
	unary := servergate.GRPC(ext.checkGRPC).Unary
	b.ReportAllocs()
	for b.Loop() {
		_, _ = unary(ctx, nil, info, handler)
	}
}
