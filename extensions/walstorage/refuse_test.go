package walstorage

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configoptional"
	"go.opentelemetry.io/collector/config/configretry"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/exporter/exporterhelper"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/obsd-dev/obsd/extensions/walstorage/internal/wal"
)

// extensionHost hands the queue its storage extension, as the service does.
type extensionHost struct {
	component.Host
	exts map[component.ID]component.Component
}

func (h extensionHost) GetExtensions() map[component.ID]component.Component { return h.exts }

func loopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// spans is an OTLP request of n spans with 200-byte names.
func spans(n int) ptrace.Traces {
	td := ptrace.NewTraces()
	ss := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for range n {
		ss.AppendEmpty().SetName(strings.Repeat("s", 200))
	}
	return td
}

// TestFullLogRefusalIsRetryable runs the real pipeline of a durable
// exporter: the upstream OTLP receiver, exporterhelper's persistent queue
// on wal_storage (max_size_mib 2), and a backend that hangs, so the queue
// only grows. Once the log is full, the queue's put fails with the
// extension's refusal, which the receiver answers as UNAVAILABLE with a
// RetryInfo over gRPC and 503 with Retry-After over HTTP: both retryable
// by the OTLP spec, so the client keeps its data.
func TestFullLogRefusalIsRetryable(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t.TempDir())
	cfg.MaxSizeMiB = 2
	s, _ := start(t, "queue", cfg)

	// The persistent queue of an exporter whose backend never answers.
	release := make(chan struct{})
	qcfg := exporterhelper.NewDefaultQueueConfig()
	qcfg.StorageID = &s.id
	qcfg.NumConsumers = 1
	qcfg.QueueSize = 1 << 20
	qcfg.Batch = configoptional.None[exporterhelper.BatchConfig]()
	exp, err := exporterhelper.NewTraces(ctx, exportertest.NewNopSettings(component.MustNewType("otlp_grpc")), &struct{}{},
		func(ctx context.Context, _ ptrace.Traces) error {
			select {
			case <-release:
			case <-ctx.Done():
			}
			return errors.New("backend down")
		},
		exporterhelper.WithQueue(configoptional.Some(qcfg)),
		exporterhelper.WithRetry(configretry.BackOffConfig{Enabled: false}),
		exporterhelper.WithTimeout(exporterhelper.TimeoutConfig{Timeout: time.Minute}))
	require.NoError(t, err)
	host := extensionHost{Host: componenttest.NewNopHost(), exts: map[component.ID]component.Component{s.id: s.ext}}
	require.NoError(t, exp.Start(ctx, host))
	defer func() {
		close(release)
		require.NoError(t, exp.Shutdown(ctx))
	}()

	// Fill the log through the exporter until the queue's put is refused.
	var putErr error
	for i := 0; i < 10000 && putErr == nil; i++ {
		putErr = exp.ConsumeTraces(ctx, spans(50))
	}
	require.Error(t, putErr, "the 2 MiB log never filled")
	assert.ErrorIs(t, putErr, storage.ErrStorageFull, "the collector's storage-full error")
	assert.ErrorIs(t, putErr, wal.ErrFull)
	st, ok := status.FromError(putErr)
	require.True(t, ok, "the refusal carries a gRPC status: %v", putErr)
	assert.Equal(t, codes.Unavailable, st.Code())

	// The real OTLP receiver in front of it.
	grpcAddr, httpAddr := loopbackAddr(t), loopbackAddr(t)
	rf := otlpreceiver.NewFactory()
	rcfg := rf.CreateDefaultConfig()
	require.NoError(t, confmap.NewFromStringMap(map[string]any{"protocols": map[string]any{
		"grpc": map[string]any{"endpoint": grpcAddr},
		"http": map[string]any{"endpoint": httpAddr},
	}}).Unmarshal(&rcfg))
	recv, err := rf.CreateTraces(ctx, receivertest.NewNopSettings(rf.Type()), rcfg, exp)
	require.NoError(t, err)
	require.NoError(t, recv.Start(ctx, componenttest.NewNopHost()))
	defer func() { require.NoError(t, recv.Shutdown(ctx)) }()

	t.Run("OTLP gRPC: UNAVAILABLE with a RetryInfo", func(t *testing.T) {
		conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(t, err)
		defer conn.Close()
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err = ptraceotlp.NewGRPCClient(conn).Export(rctx, ptraceotlp.NewExportRequestFromTraces(spans(50)))
		require.Error(t, err)
		st := status.Convert(err)
		assert.Equal(t, codes.Unavailable, st.Code(), "retryable by the OTLP spec: %v", err)
		assert.Contains(t, st.Message(), "wal storage")
		var info *errdetails.RetryInfo
		for _, d := range st.Details() {
			if ri, ok := d.(*errdetails.RetryInfo); ok {
				info = ri
			}
		}
		require.NotNil(t, info, "a RetryInfo detail tells the client when to retry")
		assert.GreaterOrEqual(t, info.GetRetryDelay().AsDuration(), time.Second)
	})

	t.Run("OTLP HTTP: 503 with Retry-After", func(t *testing.T) {
		body, err := ptraceotlp.NewExportRequestFromTraces(spans(50)).MarshalProto()
		require.NoError(t, err)
		resp, err := http.Post("http://"+httpAddr+"/v1/traces", "application/x-protobuf", bytes.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		after, err := strconv.Atoi(resp.Header.Get("Retry-After"))
		require.NoError(t, err, "Retry-After %q", resp.Header.Get("Retry-After"))
		assert.GreaterOrEqual(t, after, 1)
	})

	assert.Positive(t, metricValues(t, s.reader, metricRefused, labelReason)["reason=max_size,"])
}
