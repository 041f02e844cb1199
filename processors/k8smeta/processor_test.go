package k8smeta

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/client"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

func peer(addr net.Addr) context.Context {
	return client.NewContext(context.Background(), client.Info{Addr: addr})
}

func tcp(ip string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: 40123} }

// through sends one resource with attrs through each signal and returns
// the resulting resource attributes, one map per signal.
func (h *harness) through(ctx context.Context, attrs map[string]any) map[string]map[string]any {
	h.t.Helper()
	out := map[string]map[string]any{}

	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	require.NoError(h.t, rs.Resource().Attributes().FromRaw(attrs))
	rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName("op")
	require.NoError(h.t, h.traces.ConsumeTraces(ctx, td))
	all := h.tsink.AllTraces()
	out["traces"] = all[len(all)-1].ResourceSpans().At(0).Resource().Attributes().AsRaw()

	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	require.NoError(h.t, rm.Resource().Attributes().FromRaw(attrs))
	rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty().SetEmptyGauge().DataPoints().AppendEmpty().SetIntValue(1)
	require.NoError(h.t, h.metrics.ConsumeMetrics(ctx, md))
	allM := h.msink.AllMetrics()
	out["metrics"] = allM[len(allM)-1].ResourceMetrics().At(0).Resource().Attributes().AsRaw()

	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	require.NoError(h.t, rl.Resource().Attributes().FromRaw(attrs))
	rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty().Body().SetStr("hello")
	require.NoError(h.t, h.logs.ConsumeLogs(ctx, ld))
	allL := h.lsink.AllLogs()
	out["logs"] = allL[len(allL)-1].ResourceLogs().At(0).Resource().Attributes().AsRaw()
	return out
}

func (h *harness) waitForPods() {
	h.t.Helper()
	require.Eventually(h.t, func() bool {
		return h.counter("obsd_k8smeta_refreshes_total", map[string]string{"outcome": "ok"}) > 0
	}, 10*time.Second, 10*time.Millisecond, "the pod list was never fetched")
}

func checkout(extra map[string]any) map[string]any {
	m := map[string]any{
		"k8s.node.name": "node-a", "k8s.namespace.name": "shop", "k8s.pod.name": "checkout-7d9f8b6c5d-x2x4q",
		"k8s.pod.uid": "0b1c2d3e-0000-4000-8000-000000000001", "k8s.container.name": "checkout", "service.name": "checkout",
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func TestEnrichment(t *testing.T) {
	k := newFakeKube(t)
	h := newHarness(t, testConfig(t, k))
	h.waitForPods()

	tests := []struct {
		name  string
		ctx   context.Context
		attrs map[string]any
		want  map[string]any
		assoc string // the association label counted, "none" for a miss
	}{
		{"a gRPC sender's peer IP finds its pod: namespace, pod, uid, its only container and a service name",
			peer(tcp("10.244.1.17")), map[string]any{}, checkout(nil), "connection"},
		{"an HTTP sender (client.Info carries a *net.IPAddr) is found the same way",
			peer(&net.IPAddr{IP: net.ParseIP("10.244.1.17")}), map[string]any{}, checkout(nil), "connection"},
		{"a sender on its IPv6 address is found",
			peer(tcp("fd00:10:244:1::11")), map[string]any{}, checkout(nil), "connection"},
		{"an existing k8s.pod.uid wins over the connection",
			peer(tcp("10.244.1.17")), map[string]any{"k8s.pod.uid": "0b1c2d3e-0000-4000-8000-000000000004"},
			map[string]any{"k8s.node.name": "node-a", "k8s.namespace.name": "db", "k8s.pod.name": "postgres-0", "k8s.pod.uid": "0b1c2d3e-0000-4000-8000-000000000004", "k8s.container.name": "postgres", "service.name": "postgres"},
			"k8s.pod.uid"},
		{"an existing k8s.pod.ip finds the pod when the connection is another hop",
			peer(tcp("10.99.0.1")), map[string]any{"k8s.pod.ip": "10.244.1.19"},
			map[string]any{"k8s.node.name": "node-a", "k8s.pod.ip": "10.244.1.19", "k8s.namespace.name": "payments", "k8s.pod.name": "payments-6f7b8c9d4-qwrtz", "k8s.pod.uid": "0b1c2d3e-0000-4000-8000-000000000003", "k8s.container.name": "api", "service.name": "payments"},
			"k8s.pod.ip"},
		{"the app's own service.name is kept",
			peer(tcp("10.244.1.17")), map[string]any{"service.name": "checkout-v2"}, checkout(map[string]any{"service.name": "checkout-v2"}), "connection"},
		{"the SDK's made-up unknown_service name is replaced by the fallback",
			peer(tcp("10.244.1.17")), map[string]any{"service.name": "unknown_service:java"}, checkout(nil), "connection"},
		{"attributes the sender set are never overwritten",
			peer(tcp("10.244.1.17")), map[string]any{"k8s.namespace.name": "mine", "k8s.node.name": "elsewhere"},
			checkout(map[string]any{"k8s.namespace.name": "mine", "k8s.node.name": "elsewhere"}), "connection"},
		{"a pod with two containers gets no container name",
			peer(tcp("10.244.1.18")), map[string]any{},
			map[string]any{"k8s.node.name": "node-a", "k8s.namespace.name": "shop", "k8s.pod.name": "cart-5b6c7d8f9-abcde", "k8s.pod.uid": "0b1c2d3e-0000-4000-8000-000000000002", "service.name": "cart"},
			"connection"},
		{"a sender that is no pod of this node gets the node name only",
			peer(tcp("10.99.0.1")), map[string]any{}, map[string]any{"k8s.node.name": "node-a"}, "none"},
		{"a request without client info gets the node name only",
			context.Background(), map[string]any{}, map[string]any{"k8s.node.name": "node-a"}, "none"},
		{"a malformed k8s.pod.ip falls through to the connection",
			peer(tcp("10.244.1.17")), map[string]any{"k8s.pod.ip": "not-an-ip"}, checkout(map[string]any{"k8s.pod.ip": "not-an-ip"}), "connection"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			labels := map[string]string{"association": tt.assoc, "signal": "logs"}
			before := h.counter("obsd_k8smeta_lookups_total", labels)
			got := h.through(tt.ctx, tt.attrs)
			for signal, attrs := range got {
				assert.Equal(t, tt.want, attrs, signal)
			}
			assert.Equal(t, before+1, h.counter("obsd_k8smeta_lookups_total", labels), "one lookup counted for association %s", tt.assoc)
		})
	}

	url, auth := k.last()
	assert.True(t, strings.HasPrefix(url, "/api/v1/pods?"), "the API server's pod list is asked: %s", url)
	assert.Contains(t, url, "fieldSelector=spec.nodeName%3Dnode-a", "only this node's pods are listed")
	assert.Contains(t, url, "resourceVersion=0", "the list is served from the API server's cache")
	assert.Equal(t, "Bearer s3cr3t", auth, "the service account token is sent")
	assert.Equal(t, int64(8), h.gauge("obsd_k8smeta_pods"))
}

func TestOnePollerPerComponent(t *testing.T) {
	k := newFakeKube(t)
	cfg := testConfig(t, k)
	cfg.Source.PollInterval = time.Hour
	h := newHarness(t, cfg)
	h.waitForPods()
	assert.Equal(t, int64(1), k.requests.Load(), "three signals share one pod source")
}

func TestKubeletSource(t *testing.T) {
	k := newFakeKube(t)
	cfg := testConfig(t, k)
	cfg.Source.Kind = SourceKubelet
	h := newHarness(t, cfg)
	h.waitForPods()
	url, _ := k.last()
	assert.Equal(t, "/pods", url)
	assert.Equal(t, checkout(nil), h.through(peer(tcp("10.244.1.17")), map[string]any{})["traces"])
}

func TestFailuresKeepTheAgentRunning(t *testing.T) {
	t.Run("a refused list is counted and data passes with the node name", func(t *testing.T) {
		k := newFakeKube(t)
		k.serve(http.StatusForbidden, []byte(`{"kind":"Status","status":"Failure","reason":"Forbidden","code":403}`))
		h := newHarness(t, testConfig(t, k))
		require.Eventually(t, func() bool {
			return h.counter("obsd_k8smeta_refreshes_total", map[string]string{"outcome": "error"}) > 0
		}, 10*time.Second, 10*time.Millisecond)
		assert.Equal(t, map[string]any{"k8s.node.name": "node-a"}, h.through(peer(tcp("10.244.1.17")), map[string]any{})["logs"])
	})
	t.Run("a failing list keeps the last good pods", func(t *testing.T) {
		k := newFakeKube(t)
		h := newHarness(t, testConfig(t, k))
		h.waitForPods()
		k.serve(http.StatusOK, []byte(`{"kind":"PodList","items":[`))
		require.Eventually(t, func() bool {
			return h.counter("obsd_k8smeta_refreshes_total", map[string]string{"outcome": "error"}) > 0
		}, 10*time.Second, 10*time.Millisecond)
		assert.Equal(t, checkout(nil), h.through(peer(tcp("10.244.1.17")), map[string]any{})["logs"])
	})
	t.Run("a list over max_response_bytes is refused", func(t *testing.T) {
		k := newFakeKube(t)
		cfg := testConfig(t, k)
		cfg.Source.MaxResponseBytes = 100
		h := newHarness(t, cfg)
		require.Eventually(t, func() bool {
			return h.counter("obsd_k8smeta_refreshes_total", map[string]string{"outcome": "error"}) > 0
		}, 10*time.Second, 10*time.Millisecond)
		assert.Equal(t, map[string]any{"k8s.node.name": "node-a"}, h.through(peer(tcp("10.244.1.17")), map[string]any{})["metrics"])
	})
	t.Run("outside a cluster the apiserver source is disabled, not fatal", func(t *testing.T) {
		t.Setenv("KUBERNETES_SERVICE_HOST", "")
		cfg := createDefaultConfig().(*Config)
		cfg.NodeName = "node-a"
		h := newHarness(t, cfg)
		assert.Equal(t, int64(1), h.counter("obsd_k8smeta_refreshes_total", map[string]string{"outcome": "error"}))
		assert.Equal(t, map[string]any{"k8s.node.name": "node-a"}, h.through(peer(tcp("10.244.1.17")), map[string]any{})["traces"])
	})
	t.Run("source none attaches the node name and counts no lookups", func(t *testing.T) {
		cfg := createDefaultConfig().(*Config)
		cfg.NodeName = "node-a"
		cfg.Source.Kind = SourceNone
		h := newHarness(t, cfg)
		assert.Equal(t, map[string]any{"k8s.node.name": "node-a"}, h.through(peer(tcp("10.244.1.17")), map[string]any{})["traces"])
		assert.Equal(t, int64(0), h.counter("obsd_k8smeta_lookups_total", nil))
	})
}

func TestAddrIP(t *testing.T) {
	tests := []struct {
		name string
		addr net.Addr
		want string
	}{
		{"a TCP peer gives its IP", tcp("10.0.0.1"), "10.0.0.1"},
		{"an IPv4-mapped IPv6 peer gives the IPv4 address", tcp("::ffff:10.0.0.1"), "10.0.0.1"},
		{"a UDP peer gives its IP", &net.UDPAddr{IP: net.ParseIP("10.0.0.2")}, "10.0.0.2"},
		{"an unknown addr type is parsed from its string", fakeAddr("10.0.0.3:80"), "10.0.0.3"},
		{"a bare IP string is parsed too", fakeAddr("10.0.0.4"), "10.0.0.4"},
		{"a unix socket gives no IP", &net.UnixAddr{Name: "/tmp/s", Net: "unix"}, "invalid IP"},
		{"no addr gives no IP", nil, "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, addrIP(tt.addr).String())
		})
	}
}

type fakeAddr string

func (a fakeAddr) Network() string { return "fake" }
func (a fakeAddr) String() string  { return string(a) }

var _ net.Addr = fakeAddr("")
