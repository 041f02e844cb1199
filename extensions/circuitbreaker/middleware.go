package circuitbreaker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/extension/extensionmiddleware"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/obsd-dev/obsd/internal/retryhint"
)

// GetHTTPRoundTripper wraps an HTTP client's transport: while the circuit
// is open a request never leaves the process and gets a synthetic 503 with
// Retry-After (which exporters retry); otherwise its outcome is recorded.
func (b *breaker) GetHTTPRoundTripper(context.Context) (extensionmiddleware.WrapHTTPRoundTripperFunc, error) {
	return func(_ context.Context, next http.RoundTripper) (http.RoundTripper, error) {
		return roundTripper{b: b, next: next}, nil
	}, nil
}

type roundTripper struct {
	b    *breaker
	next http.RoundTripper
}

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if !rt.b.acquire(req.Context()) {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return rt.b.openResponse(req), nil
	}
	resp, err := rt.next.RoundTrip(req)
	rt.b.record(httpFailed(req.Context(), resp, err))
	return resp, err
}

// openResponse is what a refused HTTP request gets.
func (b *breaker) openResponse(req *http.Request) *http.Response {
	msg := fmt.Sprintf("circuit breaker %s is open: the backend keeps failing; retry later", b.id)
	h := make(http.Header, 2)
	h.Set("Retry-After", strconv.FormatInt(retryhint.Seconds(b.retryDelay()), 10))
	h.Set("Content-Type", "text/plain; charset=utf-8")
	return &http.Response{
		Status:        "503 Service Unavailable",
		StatusCode:    http.StatusServiceUnavailable,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        h,
		Body:          io.NopCloser(strings.NewReader(msg)),
		ContentLength: int64(len(msg)),
		Request:       req,
	}
}

// httpFailed says whether a call's outcome counts against the backend:
// transport errors (timeouts included), 5xx and 429. A call the caller
// cancelled says nothing about the backend.
func httpFailed(ctx context.Context, resp *http.Response, err error) bool {
	if err != nil {
		return !(errors.Is(err, context.Canceled) && errors.Is(ctx.Err(), context.Canceled))
	}
	return resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
}

// GetGRPCClientOptions returns a unary interceptor: while the circuit is
// open a call fails fast with Unavailable carrying a RetryInfo detail
// (retryable for OTLP exporters); otherwise its outcome is recorded.
// Streaming calls are not guarded (the collector's exporters are unary).
func (b *breaker) GetGRPCClientOptions(context.Context) ([]grpc.DialOption, error) {
	return []grpc.DialOption{grpc.WithChainUnaryInterceptor(b.unaryInterceptor)}, nil
}

func (b *breaker) unaryInterceptor(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if !b.acquire(ctx) {
		return b.openStatus().Err()
	}
	err := invoker(ctx, method, req, reply, cc, opts...)
	b.record(grpcFailed(err))
	return err
}

// openStatus is what a refused gRPC call gets.
func (b *breaker) openStatus() *status.Status {
	delay := b.retryDelay()
	return retryhint.Status(codes.Unavailable, fmt.Sprintf("circuit breaker %s is open: the backend keeps failing; retry after %s", b.id, delay), delay)
}

// grpcFailed says whether a call's outcome counts against the backend:
// Unavailable (transport errors included), DeadlineExceeded,
// ResourceExhausted, Internal and Unknown. Other codes mean the backend
// answered (InvalidArgument is the data's fault, not the backend's), and a
// call the caller cancelled says nothing about it.
func grpcFailed(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.ResourceExhausted, codes.Internal, codes.Unknown:
		return true
	}
	return false
}
