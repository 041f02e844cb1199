package circuitbreaker

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configgrpc"
	"go.opentelemetry.io/collector/config/configmiddleware"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/obsd-dev/obsd/internal/breakerstate"
)

// flakyOTLP is a loopback OTLP trace backend failing with `code` while
// failing is set, counting the calls that reach it.
type flakyOTLP struct {
	ptraceotlp.UnimplementedGRPCServer
	failing atomic.Bool
	code    codes.Code
	calls   atomic.Int64
}

func (f *flakyOTLP) Export(context.Context, ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	f.calls.Add(1)
	if f.failing.Load() {
		return ptraceotlp.NewExportResponse(), status.Error(f.code, "backend trouble")
	}
	return ptraceotlp.NewExportResponse(), nil
}

// startOTLP serves backend on loopback and returns a client dialled through
// configgrpc with the breaker in its middlewares, as otlp exporters dial.
func startOTLP(t *testing.T, backend *flakyOTLP, b *breaker) ptraceotlp.GRPCClient {
	t.Helper()
	srv := grpc.NewServer()
	ptraceotlp.RegisterGRPCServer(srv, backend)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	cfg := configgrpc.NewDefaultClientConfig()
	cfg.Endpoint = ln.Addr().String()
	cfg.TLS = configtls.ClientConfig{Insecure: true}
	cfg.Middlewares = []configmiddleware.Config{{ID: mustID(b.id)}}
	conn, err := cfg.ToClientConn(context.Background(), extensionsOf(b), componenttest.NewNopTelemetrySettings())
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = conn.Close()
		srv.Stop()
		<-done
	})
	return ptraceotlp.NewGRPCClient(conn)
}

func export(c ptraceotlp.GRPCClient) error {
	_, err := c.Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(ptrace.NewTraces()))
	return err
}

func TestGRPCBreakerStateMachine(t *testing.T) {
	for _, tc := range []struct {
		name  string
		code  codes.Code
		opens bool
	}{
		{"Unavailable opens the circuit", codes.Unavailable, true},
		{"DeadlineExceeded opens the circuit", codes.DeadlineExceeded, true},
		{"ResourceExhausted opens the circuit", codes.ResourceExhausted, true},
		{"Internal opens the circuit", codes.Internal, true},
		{"InvalidArgument is the data's fault and keeps it closed", codes.InvalidArgument, false},
		{"PermissionDenied keeps it closed", codes.PermissionDenied, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			backend := &flakyOTLP{code: tc.code}
			backend.failing.Store(true)
			cfg := testConfig()
			cfg.Delay = time.Hour
			b, reader := newTestBreaker(t, "grpc", cfg, newStatusHost())
			c := startOTLP(t, backend, b)
			for range 3 {
				assert.Equal(t, tc.code, status.Code(export(c)))
			}
			if !tc.opens {
				assert.Equal(t, breakerstate.Closed, b.State())
				assert.Equal(t, tc.code, status.Code(export(c)), "calls still reach the backend")
				assert.Equal(t, int64(4), backend.calls.Load())
				return
			}
			require.Equal(t, breakerstate.Open, b.State())
			before := backend.calls.Load()
			for range 20 {
				err := export(c)
				st := status.Convert(err)
				require.Equal(t, codes.Unavailable, st.Code(), "an open circuit fails with a retryable code")
				require.Len(t, st.Details(), 1)
				info, ok := st.Details()[0].(*errdetails.RetryInfo)
				require.True(t, ok, "the refusal carries RetryInfo")
				assert.InDelta(t, time.Hour, info.GetRetryDelay().AsDuration(), float64(10*time.Second), "RetryInfo carries the rest of the hour-long open delay")
			}
			assert.Equal(t, before, backend.calls.Load(), "no call reaches the backend while the circuit is open")
			assert.Equal(t, map[string]int64{"breaker=circuit_breaker/grpc,": 20}, metricValues(t, reader, metricRejected, labelBreaker))
		})
	}
}

func TestGRPCBreakerRecovers(t *testing.T) {
	backend := &flakyOTLP{code: codes.Unavailable}
	backend.failing.Store(true)
	b, _ := newTestBreaker(t, "grpc", testConfig(), newStatusHost())
	c := startOTLP(t, backend, b)
	for range 3 {
		require.Error(t, export(c))
	}
	require.Equal(t, breakerstate.Open, b.State())
	backend.failing.Store(false)
	deadline := time.Now().Add(10 * time.Second)
	for b.State() != breakerstate.Closed && time.Now().Before(deadline) {
		_ = export(c)
		time.Sleep(5 * time.Millisecond)
	}
	require.Equal(t, breakerstate.Closed, b.State(), "good probes close the circuit")
	require.NoError(t, export(c))
}
