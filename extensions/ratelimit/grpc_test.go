package ratelimit

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/configmiddleware"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/obsd-dev/obsd/internal/servergate"
)

// traceSink is a trivial OTLP trace service that counts what it accepts.
type traceSink struct {
	ptraceotlp.UnimplementedGRPCServer
	accepted chan struct{}
}

func (s *traceSink) Export(context.Context, ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	s.accepted <- struct{}{}
	return ptraceotlp.NewExportResponse(), nil
}

// startGRPC serves the OTLP trace service through configgrpc with the
// extension as its middleware, on loopback, and returns a client for it.
func startGRPC(t *testing.T, ext *rateLimit) (ptraceotlp.GRPCClient, *traceSink) {
	t.Helper()
	cfg := configgrpc.ServerConfig{Middlewares: []configmiddleware.Config{{ID: component.NewID(Type)}}}
	srv, err := cfg.ToServer(context.Background(), extensionsOf(ext), componenttest.NewNopTelemetrySettings())
	require.NoError(t, err)
	sink := &traceSink{accepted: make(chan struct{}, 100)}
	ptraceotlp.RegisterGRPCServer(srv, sink)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, conn.Close())
		srv.Stop()
		require.NoError(t, <-done)
	})
	return ptraceotlp.NewGRPCClient(conn), sink
}

func export(ctx context.Context, c ptraceotlp.GRPCClient, tenant string) error {
	if tenant != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "X-Scope-OrgID", tenant)
	}
	req := ptraceotlp.NewExportRequestFromTraces(ptrace.NewTraces())
	_, err := c.Export(ctx, req)
	return err
}

func TestGRPCRefusal(t *testing.T) {
	ext, reader := newTestExtension(t, testConfig())
	c, sink := startGRPC(t, ext)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	require.NoError(t, export(ctx, c, "tenant-a"))
	err := export(ctx, c, "tenant-a")
	require.Error(t, err)
	st := status.Convert(err)
	assert.Equal(t, codes.ResourceExhausted, st.Code())
	assert.Contains(t, st.Message(), "rate limit exceeded (client limit, tier default)")
	var info *errdetails.RetryInfo
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			info = ri
		}
	}
	require.NotNil(t, info, "RESOURCE_EXHAUSTED carries RetryInfo, so OTLP clients retry")
	delay := info.GetRetryDelay().AsDuration()
	assert.Greater(t, delay, time.Second, "0.5 requests/s: the next token is almost 2s away")
	assert.LessOrEqual(t, delay, 2*time.Second)
	assert.Zero(t, delay%time.Millisecond, "the delay is rounded up to the millisecond")

	require.NoError(t, export(ctx, c, "tenant-b"), "a client under its own limit is not starved by one over it")
	for range 5 {
		require.NoError(t, export(ctx, c, "vip"), "the gold tier allows a burst")
	}
	assert.Len(t, sink.accepted, 7, "refused calls never reach the service")
	assert.Equal(t, map[string]int64{
		"tenant-a/default/allowed": 1, "tenant-a/default/refused": 1,
		"tenant-b/default/allowed": 1, "vip/gold/allowed": 5,
	}, requestCounts(t, reader))
}

func TestGRPCPeerKey(t *testing.T) {
	cfg := testConfig()
	cfg.Key = "peer"
	ext, reader := newTestExtension(t, cfg)
	c, _ := startGRPC(t, ext)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, export(ctx, c, "tenant-a"))
	err := export(ctx, c, "tenant-b")
	assert.Equal(t, codes.ResourceExhausted, status.Code(err), "keyed by peer, two tenants on one address share a bucket")
	assert.Equal(t, map[string]int64{"127.0.0.1/default/allowed": 1, "127.0.0.1/default/refused": 1}, requestCounts(t, reader))
}

// fakeStream is a grpc.ServerStream with a fixed context.
type fakeStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s fakeStream) Context() context.Context { return s.ctx }

func TestGRPCStreamsAreCheckedWhenTheyOpen(t *testing.T) {
	ext, _ := newTestExtension(t, testConfig())
	opts, err := ext.GetGRPCServerOptions(context.Background())
	require.NoError(t, err)
	assert.Len(t, opts, 2, "a unary and a stream interceptor")
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("x-scope-orgid", "streamer"))
	calls := 0
	handler := func(any, grpc.ServerStream) error { calls++; return nil }
	stream := servergate.GRPC(ext.checkGRPC).Stream
	require.NoError(t, stream(nil, fakeStream{ctx: ctx}, &grpc.StreamServerInfo{}, handler))
	err = stream(nil, fakeStream{ctx: ctx}, &grpc.StreamServerInfo{}, handler)
	assert.Equal(t, codes.ResourceExhausted, status.Code(err))
	assert.Equal(t, 1, calls)
}
