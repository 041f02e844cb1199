package ratelimit

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensionmiddleware"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"

	"github.com/obsd-dev/obsd/extensions/ratelimit/internal/limiter"
	"github.com/obsd-dev/obsd/internal/servergate"
)

// unknownClient keys requests whose peer address is unknown.
const unknownClient = "unknown"

// rateLimit is the extension: one limiter shared by every server that names
// it in its middlewares, so a client's budget is the same on every port.
type rateLimit struct {
	component.StartFunc
	key     limiter.KeySpec
	hdrKey  string // the header name in canonical form, as http.Header keys are
	mdKey   string // the header name lower-cased, as gRPC metadata keys are
	limiter *limiter.Limiter
	tel     *telemetry
}

var (
	_ extension.Extension            = (*rateLimit)(nil)
	_ extensionmiddleware.HTTPServer = (*rateLimit)(nil)
	_ extensionmiddleware.GRPCServer = (*rateLimit)(nil)
)

func newExtension(cfg *Config, set extension.Settings) (*rateLimit, error) {
	key, err := limiter.ParseKeySpec(cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("ratelimit: 'key': %w", err)
	}
	lim, err := limiter.New(cfg.limiterConfig())
	if err != nil {
		return nil, fmt.Errorf("ratelimit: %w", err)
	}
	tel, err := newTelemetry(set.TelemetrySettings, lim)
	if err != nil {
		return nil, fmt.Errorf("ratelimit: telemetry: %w", err)
	}
	set.Logger.Info("rate limiting clients", zap.String("key", key.String()),
		zap.Float64("default_rate", cfg.Default.Rate), zap.Int("default_burst", cfg.Default.Burst),
		zap.Float64("global_rate", cfg.Global.Rate), zap.Int("tiers", len(cfg.Tiers)))
	return &rateLimit{key: key, hdrKey: http.CanonicalHeaderKey(key.Name), mdKey: strings.ToLower(key.Name), limiter: lim, tel: tel}, nil
}

// Shutdown unregisters the extension's asynchronous instruments.
func (r *rateLimit) Shutdown(context.Context) error {
	return r.tel.shutdown()
}

// GetHTTPHandler wraps an HTTP server's handler: a request over its client's
// (or the global) limit gets 429 with Retry-After and never reaches base.
func (r *rateLimit) GetHTTPHandler(context.Context) (extensionmiddleware.WrapHTTPHandlerFunc, error) {
	return servergate.HTTP(r.checkHTTP).Wrap, nil
}

func (r *rateLimit) checkHTTP(w http.ResponseWriter, req *http.Request) (*http.Request, bool) {
	d := r.limiter.Allow(r.httpKey(req))
	r.tel.record(req.Context(), d)
	if !d.Allowed {
		writeHTTPRefusal(w, req, d)
	}
	return req, d.Allowed
}

// GetGRPCServerOptions returns unary and stream interceptors: a call over
// its limit fails with RESOURCE_EXHAUSTED carrying a RetryInfo detail.
// Streams are checked once, when they open.
func (r *rateLimit) GetGRPCServerOptions(context.Context) ([]grpc.ServerOption, error) {
	return servergate.GRPC(r.checkGRPC).ServerOptions(), nil
}

func (r *rateLimit) checkGRPC(ctx context.Context) (context.Context, error) {
	d := r.limiter.Allow(r.grpcKey(ctx))
	r.tel.record(ctx, d)
	if d.Allowed {
		return nil, nil
	}
	return nil, grpcRefusal(d)
}

func (r *rateLimit) httpKey(req *http.Request) string {
	ctx := req.Context()
	switch r.key.Source {
	case limiter.SourceHeader:
		if vs := req.Header[r.hdrKey]; len(vs) > 0 && vs[0] != "" {
			return vs[0]
		}
	case limiter.SourceAuth:
		if v := authKey(ctx, r.key.Name); v != "" {
			return v
		}
	}
	if k := peerKey(client.FromContext(ctx).Addr); k != "" {
		return k
	}
	if host, _, err := net.SplitHostPort(req.RemoteAddr); err == nil && host != "" {
		return host
	}
	return unknownClient
}

func (r *rateLimit) grpcKey(ctx context.Context) string {
	switch r.key.Source {
	case limiter.SourceHeader:
		if vs := metadata.ValueFromIncomingContext(ctx, r.mdKey); len(vs) > 0 && vs[0] != "" {
			return vs[0]
		}
	case limiter.SourceAuth:
		if v := authKey(ctx, r.key.Name); v != "" {
			return v
		}
	}
	if k := peerKey(client.FromContext(ctx).Addr); k != "" {
		return k
	}
	if p, ok := peer.FromContext(ctx); ok {
		if k := peerKey(p.Addr); k != "" {
			return k
		}
	}
	return unknownClient
}

// authKey is the named string attribute of the authenticated client, or "".
func authKey(ctx context.Context, attr string) string {
	auth := client.FromContext(ctx).Auth
	if auth == nil {
		return ""
	}
	if s, ok := auth.GetAttribute(attr).(string); ok {
		return s
	}
	return ""
}

// peerKey is the IP of addr without its port, or "".
func peerKey(addr net.Addr) string {
	switch a := addr.(type) {
	case nil:
		return ""
	case *net.IPAddr:
		return a.IP.String()
	case *net.TCPAddr:
		return a.IP.String()
	case *net.UDPAddr:
		return a.IP.String()
	}
	s := addr.String()
	if host, _, err := net.SplitHostPort(s); err == nil {
		return host
	}
	return s
}
