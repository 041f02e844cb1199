package k8smeta

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/collector/receiver/otlpreceiver"
	"go.opentelemetry.io/collector/receiver/receivertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// loopbackPod is a PodList whose only pod has the loopback address, so
// that a request sent from this test is the pod's own connection.
const loopbackPod = `{"kind":"PodList","items":[{"metadata":{"name":"web-0","namespace":"shop","uid":"u-1",
"ownerReferences":[{"kind":"StatefulSet","name":"web","controller":true}]},
"spec":{"containers":[{"name":"web"}]},"status":{"phase":"Running","podIP":"127.0.0.1"}}]}`

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// TestRealOTLPReceiverGivesThePeerAddress runs the upstream OTLP receiver
// in front of the processor: its client.Info must carry the sender's
// address for gRPC and HTTP without include_metadata, or association by
// connection would never work in obsd.
func TestRealOTLPReceiverGivesThePeerAddress(t *testing.T) {
	k := newFakeKube(t)
	k.serve(http.StatusOK, []byte(loopbackPod))
	h := newHarness(t, testConfig(t, k))
	h.waitForPods()

	grpcAddr, httpAddr := freePort(t), freePort(t)
	rf := otlpreceiver.NewFactory()
	rcfg := rf.CreateDefaultConfig()
	require.NoError(t, confmap.NewFromStringMap(map[string]any{"protocols": map[string]any{
		"grpc": map[string]any{"endpoint": grpcAddr},
		"http": map[string]any{"endpoint": httpAddr},
	}}).Unmarshal(&rcfg))
	recv, err := rf.CreateTraces(context.Background(), receivertest.NewNopSettings(rf.Type()), rcfg, h.traces)
	require.NoError(t, err)
	require.NoError(t, recv.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, recv.Shutdown(context.Background())) }()

	want := map[string]any{"k8s.node.name": "node-a", "k8s.namespace.name": "shop", "k8s.pod.name": "web-0",
		"k8s.pod.uid": "u-1", "k8s.container.name": "web", "service.name": "web"}
	traces := func() ptrace.Traces {
		td := ptrace.NewTraces()
		td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName("op")
		return td
	}
	last := func() map[string]any {
		all := h.tsink.AllTraces()
		require.NotEmpty(t, all)
		return all[len(all)-1].ResourceSpans().At(0).Resource().Attributes().AsRaw()
	}

	t.Run("OTLP gRPC", func(t *testing.T) {
		conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(t, err)
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err = ptraceotlp.NewGRPCClient(conn).Export(ctx, ptraceotlp.NewExportRequestFromTraces(traces()))
		require.NoError(t, err)
		assert.Equal(t, want, last())
	})
	t.Run("OTLP HTTP", func(t *testing.T) {
		body, err := ptraceotlp.NewExportRequestFromTraces(traces()).MarshalProto()
		require.NoError(t, err)
		client := &http.Client{Timeout: 10 * time.Second}
		resp, err := client.Post("http://"+httpAddr+"/v1/traces", "application/x-protobuf", bytes.NewReader(body))
		require.NoError(t, err)
		resp.Body.Close()
		client.CloseIdleConnections()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, want, last())
	})
}
