package tlsidentity

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"slices"

	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensionmiddleware"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/obsd-dev/obsd/extensions/tlsidentity/internal/identity"
	"github.com/obsd-dev/obsd/internal/servergate"
)

// errNoIdentity is what a client without a usable certificate is told when
// the identity is required. It names no certificate detail.
const errNoIdentity = "a verified client certificate with an identity is required"

type tlsIdentity struct {
	component.StartFunc
	component.ShutdownFunc
	source   identity.Source
	required bool
	attrs    []string
}

var (
	_ extension.Extension            = (*tlsIdentity)(nil)
	_ extensionmiddleware.HTTPServer = (*tlsIdentity)(nil)
	_ extensionmiddleware.GRPCServer = (*tlsIdentity)(nil)
)

func newExtension(cfg *Config, set extension.Settings) (*tlsIdentity, error) {
	src, err := identity.ParseSource(cfg.Identity)
	if err != nil {
		return nil, fmt.Errorf("tls_identity: 'identity': %w", err)
	}
	set.Logger.Info("client certificate identity", zap.String("identity", string(src)),
		zap.Bool("required", cfg.Required), zap.Strings("attributes", cfg.Attributes))
	return &tlsIdentity{source: src, required: cfg.Required, attrs: slices.Clone(cfg.Attributes)}, nil
}

// GetHTTPHandler wraps an HTTP server's handler: the identity of the
// request's verified client certificate goes into client.Info.Auth.
func (e *tlsIdentity) GetHTTPHandler(context.Context) (extensionmiddleware.WrapHTTPHandlerFunc, error) {
	return servergate.HTTP(e.identifyHTTP).Wrap, nil
}

func (e *tlsIdentity) identifyHTTP(w http.ResponseWriter, req *http.Request) (*http.Request, bool) {
	ctx, ok := e.withIdentity(req.Context(), req.TLS)
	if !ok {
		http.Error(w, errNoIdentity, http.StatusUnauthorized)
		return nil, false
	}
	return req.WithContext(ctx), true
}

// GetGRPCServerOptions returns interceptors that do the same for gRPC.
func (e *tlsIdentity) GetGRPCServerOptions(context.Context) ([]grpc.ServerOption, error) {
	return servergate.GRPC(e.identifyGRPC).ServerOptions(), nil
}

func (e *tlsIdentity) identifyGRPC(ctx context.Context) (context.Context, error) {
	ctx, ok := e.withIdentity(ctx, grpcTLSState(ctx))
	if !ok {
		return nil, status.Error(codes.Unauthenticated, errNoIdentity)
	}
	return ctx, nil
}

// withIdentity returns ctx with the identity in client.Info.Auth; false
// when the identity is required and missing.
func (e *tlsIdentity) withIdentity(ctx context.Context, state *tls.ConnectionState) (context.Context, bool) {
	id := identity.From(verifiedLeaf(state), e.source)
	if id == "" {
		return ctx, !e.required
	}
	info := client.FromContext(ctx)
	info.Auth = authData{id: id, names: e.attrs}
	return client.NewContext(ctx, info), true
}

// verifiedLeaf is the client certificate the server verified against its
// client CA, or nil: an unverified certificate never names anyone.
func verifiedLeaf(state *tls.ConnectionState) *x509.Certificate {
	if state == nil || len(state.VerifiedChains) == 0 || len(state.VerifiedChains[0]) == 0 {
		return nil
	}
	return state.VerifiedChains[0][0]
}

func grpcTLSState(ctx context.Context) *tls.ConnectionState {
	p, ok := peer.FromContext(ctx)
	if !ok || p.AuthInfo == nil {
		return nil
	}
	if info, ok := p.AuthInfo.(credentials.TLSInfo); ok {
		return &info.State
	}
	return nil
}

// authData is the client.AuthData of an identified client: every
// configured attribute name holds the identity.
type authData struct {
	id    string
	names []string
}

var _ client.AuthData = authData{}

func (a authData) GetAttribute(name string) any {
	if slices.Contains(a.names, name) {
		return a.id
	}
	return nil
}

func (a authData) GetAttributeNames() []string { return a.names }
