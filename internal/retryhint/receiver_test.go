package retryhint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/consumer"
	"go.opentelemetry.io/collector/consumer/consumererror"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"go.opentelemetry.io/collector/receiver/xreceiver"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// errMemory is what the collector's memory_limiter returns (an unexported
// package there): a plain, non-permanent error.
var errMemory = errors.New("data refused due to high memory usage")

// failing is a pipeline that answers every batch with err.
type failing struct{ err error }

func (f *failing) ConsumeTraces(context.Context, ptrace.Traces) error { return f.err }
func (f *failing) ConsumeLogs(context.Context, plog.Logs) error       { return f.err }
func (*failing) Capabilities() consumer.Capabilities                  { return consumer.Capabilities{} }

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// startOTLP starts the collector's real OTLP receiver, wrapped, for traces
// and logs into next; it returns the gRPC and HTTP addresses.
func startOTLP(t *testing.T, next *failing) (grpcAddr, httpAddr string) {
	t.Helper()
	f := Receiver(otlpreceiver.NewFactory(), 1500*time.Millisecond)
	grpcAddr, httpAddr = freeAddr(t), freeAddr(t)
	cfg := f.CreateDefaultConfig()
	require.NoError(t, confmap.NewFromStringMap(map[string]any{"protocols": map[string]any{
		"grpc": map[string]any{"endpoint": grpcAddr}, "http": map[string]any{"endpoint": httpAddr},
	}}).Unmarshal(cfg))
	set := receivertest.NewNopSettings(f.Type())
	tr, err := f.CreateTraces(context.Background(), set, cfg, next)
	require.NoError(t, err)
	lr, err := f.CreateLogs(context.Background(), set, cfg, next)
	require.NoError(t, err)
	require.NoError(t, tr.Start(context.Background(), componenttest.NewNopHost()))
	require.NoError(t, lr.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() {
		require.NoError(t, tr.Shutdown(context.Background()))
		require.NoError(t, lr.Shutdown(context.Background()))
	})
	return grpcAddr, httpAddr
}

func oneSpan() ptrace.Traces {
	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName("x")
	return td
}

func oneLog() plog.Logs {
	ld := plog.NewLogs()
	ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("x")
	return ld
}

func retryDelay(st *status.Status) time.Duration {
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.GetRetryDelay().AsDuration()
		}
	}
	return 0
}

// TestOTLPReceiverRefusalsCarryARetryDelay sends through the collector's
// real OTLP receiver (gRPC and HTTP, traces and logs) into a pipeline that
// fails, and checks what the client is told.
func TestOTLPReceiverRefusalsCarryARetryDelay(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantCode   codes.Code
		wantDelay  time.Duration // RetryInfo on gRPC and in the HTTP body
		wantHTTP   int
		wantHeader string // Retry-After
	}{
		{"the memory_limiter's refusal is UNAVAILABLE with RetryInfo, 503 with Retry-After",
			errMemory, codes.Unavailable, 1500 * time.Millisecond, http.StatusServiceUnavailable, "1"},
		{"a full queue, marked as a downstream error, gets the same",
			consumererror.NewDownstream(errors.New("sending queue is full")), codes.Unavailable, 1500 * time.Millisecond, http.StatusServiceUnavailable, "1"},
		{"a permanent error stays non-retryable and gets no delay",
			consumererror.NewPermanent(errors.New("bad data")), codes.Internal, 0, http.StatusInternalServerError, ""},
		{"an error with a status of its own is answered as it is",
			status.Error(codes.ResourceExhausted, "too big"), codes.ResourceExhausted, 0, http.StatusTooManyRequests, ""},
		{"accepted data is accepted", nil, codes.OK, 0, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			grpcAddr, httpAddr := startOTLP(t, &failing{err: tt.err})
			conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			require.NoError(t, err)
			defer conn.Close()

			_, err = ptraceotlp.NewGRPCClient(conn).Export(context.Background(), ptraceotlp.NewExportRequestFromTraces(oneSpan()))
			st := status.Convert(err)
			assert.Equal(t, tt.wantCode, st.Code(), "gRPC traces: %v", err)
			assert.Equal(t, tt.wantDelay, retryDelay(st), "gRPC traces RetryInfo")
			_, err = plogotlp.NewGRPCClient(conn).Export(context.Background(), plogotlp.NewExportRequestFromLogs(oneLog()))
			st = status.Convert(err)
			assert.Equal(t, tt.wantCode, st.Code(), "gRPC logs: %v", err)
			assert.Equal(t, tt.wantDelay, retryDelay(st), "gRPC logs RetryInfo")

			body, err := ptraceotlp.NewExportRequestFromTraces(oneSpan()).MarshalProto()
			require.NoError(t, err)
			resp, err := http.Post(fmt.Sprintf("http://%s/v1/traces", httpAddr), "application/x-protobuf", bytes.NewReader(body))
			require.NoError(t, err)
			msg, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.wantHTTP, resp.StatusCode)
			assert.Equal(t, tt.wantHeader, resp.Header.Get("Retry-After"))
			if tt.wantHTTP != http.StatusOK {
				var sp spb.Status
				require.NoError(t, proto.Unmarshal(msg, &sp), "the HTTP body is a google.rpc.Status")
				assert.Equal(t, tt.wantDelay, retryDelay(status.FromProto(&sp)), "RetryInfo in the HTTP body")
			}
			http.DefaultClient.CloseIdleConnections()
		})
	}
}

func TestRefusalKeepsTheErrorChain(t *testing.T) {
	base := errors.New("sending queue is full")
	err := Refusal(consumererror.NewDownstream(base), time.Second)
	assert.ErrorIs(t, err, base, "errors.Is still finds the pipeline's error")
	assert.True(t, consumererror.IsDownstream(err), "the receiver's refused/failed accounting sees the downstream mark")
	assert.False(t, consumererror.IsPermanent(err))
	assert.Equal(t, "sending queue is full", err.Error())
	st, ok := status.FromError(err)
	require.True(t, ok)
	assert.Equal(t, codes.Unavailable, st.Code())
	assert.Equal(t, time.Second, retryDelay(st))
}

func TestReceiverKeepsTheFactorysIdentity(t *testing.T) {
	orig := otlpreceiver.NewFactory()
	f := Receiver(orig, time.Second)
	assert.Equal(t, orig.Type(), f.Type())
	assert.Equal(t, orig.CreateDefaultConfig(), f.CreateDefaultConfig())
	assert.Equal(t, orig.TracesStability(), f.TracesStability())
	assert.Equal(t, orig.MetricsStability(), f.MetricsStability())
	assert.Equal(t, orig.LogsStability(), f.LogsStability())
	xf, ok := f.(xreceiver.Factory)
	require.True(t, ok, "profiles support is kept")
	assert.Equal(t, orig.(xreceiver.Factory).ProfilesStability(), xf.ProfilesStability())
}
