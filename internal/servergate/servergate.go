// Package servergate turns one decision per request into the HTTP handler
// wrapper and the gRPC interceptors a server middleware extension hands
// the collector, so extensions that admit, refuse or annotate incoming
// calls (ratelimit, tls_identity) write only the decision.
package servergate

import (
	"context"
	"net/http"

	"google.golang.org/grpc"
)

// HTTP decides on an HTTP request. It returns false when it refused the
// request and wrote the answer itself; otherwise the wrapped handler
// serves the request it returns (the same one, or one with a new context).
type HTTP func(w http.ResponseWriter, req *http.Request) (*http.Request, bool)

// Wrap is an extensionmiddleware.WrapHTTPHandlerFunc: base is reached only
// through g.
func (g HTTP) Wrap(_ context.Context, base http.Handler) (http.Handler, error) {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		req, ok := g(w, req)
		if !ok {
			return
		}
		base.ServeHTTP(w, req)
	}), nil
}

// GRPC decides on a unary call or a stream when it opens. A non-nil error
// refuses it and is what the client gets (a status error carries its
// code); otherwise the handler runs with the context it returns, or with
// the call's own when it returns nil.
type GRPC func(ctx context.Context) (context.Context, error)

// ServerOptions are the unary and stream interceptors of g.
func (g GRPC) ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(g.Unary),
		grpc.ChainStreamInterceptor(g.Stream),
	}
}

// Unary is g as a grpc.UnaryServerInterceptor.
func (g GRPC) Unary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	next, err := g(ctx)
	if err != nil {
		return nil, err
	}
	if next != nil {
		ctx = next
	}
	return handler(ctx, req)
}

// Stream is g as a grpc.StreamServerInterceptor; the stream is checked
// once, when it opens. The stream is passed on as it is unless g returned
// a new context.
func (g GRPC) Stream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	next, err := g(ss.Context())
	if err != nil {
		return err
	}
	if next != nil {
		ss = &serverStream{ServerStream: ss, ctx: next}
	}
	return handler(srv, ss)
}

// serverStream is a stream with a new context.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *serverStream) Context() context.Context { return s.ctx }
