package e2e

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	jaegermodel "github.com/jaegertracing/jaeger-idl/model/v1"
	jaegerproto "github.com/jaegertracing/jaeger-idl/proto-gen/api_v2"
	"github.com/opentracing/opentracing-go"
	jaeger "github.com/uber/jaeger-client-go"
	jaegercfg "github.com/uber/jaeger-client-go/config"
	"github.com/uber/jaeger-client-go/thrift"
	"github.com/uber/jaeger-client-go/thrift-gen/agent"
	jaegerthrift "github.com/uber/jaeger-client-go/thrift-gen/jaeger"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// TestJaegerClients sends spans to every protocol of the jaeger receiver
// (grpc, thrift_http, thrift_compact, thrift_binary) with 64-bit and
// 128-bit trace ids, and checks service name, trace ids, parent links and
// tags at the sink. jaeger-client-go, the client of legacy apps, sends over
// UDP compact thrift (to the agent port) and over HTTP to /api/traces; its
// spans also go out as binary thrift over UDP (what jaeger-client-node and
// other clients send to port 6832: the same agent client, binary protocol)
// through a transport of its own; gRPC is Jaeger's collector API
// (api_v2.CollectorService/PostSpans, the generated client, as
// jaeger-agent forwards to port 14250).
func TestJaegerClients(t *testing.T) {
	cases := []struct {
		name      string
		transport string // "udp", "udp-binary", "http" or "grpc"
		gen128Bit bool
	}{
		{"udp compact thrift with 64-bit trace ids", "udp", false},
		{"udp compact thrift with 128-bit trace ids", "udp", true},
		{"udp binary thrift with 64-bit trace ids", "udp-binary", false},
		{"udp binary thrift with 128-bit trace ids", "udp-binary", true},
		{"http thrift to /api/traces with 64-bit trace ids", "http", false},
		{"http thrift to /api/traces with 128-bit trace ids", "http", true},
		{"grpc PostSpans with 64-bit trace ids", "grpc", false},
		{"grpc PostSpans with 128-bit trace ids", "grpc", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := sink.NewOTLP(t)
			p := newPorts(t)
			compactPort, binaryPort, httpPort, grpcPort := harness.FreeUDPPort(t), harness.FreeUDPPort(t), harness.FreePort(t), harness.FreePort(t)
			receivers := fmt.Sprintf(`
  jaeger:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
      thrift_compact:
        endpoint: 127.0.0.1:%d
      thrift_binary:
        endpoint: 127.0.0.1:%d
      thrift_http:
        endpoint: 127.0.0.1:%d`, grpcPort, compactPort, binaryPort, httpPort)
			pipelines := `
    traces:
      receivers: [jaeger]
      processors: [memory_limiter]
      exporters: [otlp_grpc]`
			harness.Start(t, baseConfig(p, s, receivers, pipelines))

			service := "legacy-" + tc.transport
			var sent jaegerSent
			switch tc.transport {
			case "grpc":
				sent = postSpansGRPC(t, grpcPort, service, tc.gen128Bit)
			default:
				sent = sendWithJaegerClient(t, tc.transport, service, tc.gen128Bit, compactPort, binaryPort, httpPort)
			}
			checkJaegerSpans(t, s, service, sent, tc.gen128Bit)
		})
	}
}

// jaegerSent are the ids of the parent span "checkout" and its child
// "charge-card" (tag card.kind=visa) as sent.
type jaegerSent struct {
	traceID       string // 32 hex digits
	parent, child uint64
}

// sendWithJaegerClient sends the two spans with jaeger-client-go: over its
// own UDP (compact) or HTTP transports, or "udp-binary" through
// binaryUDPTransport.
func sendWithJaegerClient(t *testing.T, transport, service string, gen128Bit bool, compactPort, binaryPort, httpPort int) jaegerSent {
	t.Helper()
	reporter := &jaegercfg.ReporterConfig{BufferFlushInterval: 50 * time.Millisecond}
	var opts []jaegercfg.Option
	switch transport {
	case "udp":
		reporter.LocalAgentHostPort = fmt.Sprintf("127.0.0.1:%d", compactPort)
	case "http":
		reporter.CollectorEndpoint = fmt.Sprintf("http://127.0.0.1:%d/api/traces", httpPort)
	case "udp-binary":
		conn, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", binaryPort))
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, jaegercfg.Reporter(jaeger.NewRemoteReporter(&binaryUDPTransport{conn: conn},
			jaeger.ReporterOptions.BufferFlushInterval(50*time.Millisecond))))
	}
	cfg := jaegercfg.Configuration{
		ServiceName: service,
		Sampler:     &jaegercfg.SamplerConfig{Type: jaeger.SamplerTypeConst, Param: 1},
		Reporter:    reporter,
		Gen128Bit:   gen128Bit,
	}
	tracer, closer, err := cfg.NewTracer(opts...)
	if err != nil {
		t.Fatalf("jaeger tracer: %v", err)
	}
	parent := tracer.StartSpan("checkout")
	child := tracer.StartSpan("charge-card", opentracing.ChildOf(parent.Context()))
	child.SetTag("card.kind", "visa")
	child.Finish()
	parent.Finish()
	parentCtx := parent.Context().(jaeger.SpanContext)
	childCtx := child.Context().(jaeger.SpanContext)
	if err := closer.Close(); err != nil {
		t.Fatalf("close tracer: %v", err)
	}
	return jaegerSent{traceID: jaegerTraceID(parentCtx.TraceID()), parent: uint64(parentCtx.SpanID()), child: uint64(childCtx.SpanID())}
}

// binaryUDPTransport is a jaeger-client-go transport that emits each flush
// as one emitBatch datagram in thrift's binary protocol: the agent client
// jaeger-client-go uses for compact thrift, with the binary protocol
// factory.
type binaryUDPTransport struct {
	conn    net.Conn
	process *jaegerthrift.Process
	spans   []*jaegerthrift.Span
}

var _ jaeger.Transport = (*binaryUDPTransport)(nil)

func (b *binaryUDPTransport) Append(span *jaeger.Span) (int, error) {
	if b.process == nil {
		b.process = jaeger.BuildJaegerProcessThrift(span)
	}
	b.spans = append(b.spans, jaeger.BuildJaegerThrift(span))
	return 0, nil
}

func (b *binaryUDPTransport) Flush() (int, error) {
	if len(b.spans) == 0 {
		return 0, nil
	}
	buf := thrift.NewTMemoryBufferLen(65000)
	client := agent.NewAgentClientFactory(buf, thrift.NewTBinaryProtocolFactoryDefault())
	n := len(b.spans)
	err := client.EmitBatch(context.Background(), &jaegerthrift.Batch{Process: b.process, Spans: b.spans})
	b.spans = nil
	if err != nil {
		return n, err
	}
	_, err = b.conn.Write(buf.Bytes())
	return n, err
}

func (b *binaryUDPTransport) Close() error { return b.conn.Close() }

// postSpansGRPC sends the two spans with Jaeger's gRPC collector client.
func postSpansGRPC(t *testing.T, port int, service string, gen128Bit bool) jaegerSent {
	t.Helper()
	conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", port), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	traceID := jaegermodel.NewTraceID(0, 0x1c0ffee0ddba11)
	if gen128Bit {
		traceID = jaegermodel.NewTraceID(0x4bf92f3577b34da6, 0xa3ce929d0e0e4736)
	}
	parent, child := jaegermodel.NewSpanID(0x00f067aa0ba902b7), jaegermodel.NewSpanID(0x53995c3f42cd8ad8)
	now := time.Now()
	req := &jaegerproto.PostSpansRequest{Batch: jaegermodel.Batch{
		Process: &jaegermodel.Process{ServiceName: service},
		Spans: []*jaegermodel.Span{
			{TraceID: traceID, SpanID: parent, OperationName: "checkout", StartTime: now, Duration: 20 * time.Millisecond},
			{TraceID: traceID, SpanID: child, OperationName: "charge-card", StartTime: now.Add(time.Millisecond), Duration: 10 * time.Millisecond,
				References: []jaegermodel.SpanRef{jaegermodel.NewChildOfRef(traceID, parent)},
				Tags:       []jaegermodel.KeyValue{jaegermodel.String("card.kind", "visa")}},
		},
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := jaegerproto.NewCollectorServiceClient(conn).PostSpans(ctx, req); err != nil {
		t.Fatalf("PostSpans: %v", err)
	}
	return jaegerSent{traceID: fmt.Sprintf("%016x%016x", traceID.High, traceID.Low), parent: uint64(parent), child: uint64(child)}
}

// checkJaegerSpans waits for the two spans at the sink and checks them
// against what was sent.
func checkJaegerSpans(t *testing.T, s *sink.OTLP, service string, sent jaegerSent, gen128Bit bool) {
	t.Helper()
	harness.Eventually(t, 20*time.Second, func() bool { return s.SpanCount() >= 2 },
		"sink has %d spans from %s, want 2", s.SpanCount(), service)
	spans := spansByName(s)
	gotParent, okParent := spans["checkout"]
	gotChild, okChild := spans["charge-card"]
	if !okParent || !okChild {
		t.Fatalf("missing spans; got %v", keys(spans))
	}
	if got := hexID(gotParent.TraceID()); got != sent.traceID {
		t.Errorf("trace id = %s, want %s", got, sent.traceID)
	}
	if !gen128Bit && sent.traceID[:16] != "0000000000000000" {
		t.Errorf("64-bit trace id %s should have a zero high half", sent.traceID)
	}
	if gotChild.TraceID() != gotParent.TraceID() {
		t.Errorf("child trace id %s differs from parent %s", gotChild.TraceID(), gotParent.TraceID())
	}
	if got, want := hexID(gotParent.SpanID()), fmt.Sprintf("%016x", sent.parent); got != want {
		t.Errorf("parent span id = %s, want %s", got, want)
	}
	if got, want := hexID(gotChild.ParentSpanID()), fmt.Sprintf("%016x", sent.parent); got != want {
		t.Errorf("child parent span id = %s, want %s", got, want)
	}
	if got, want := hexID(gotChild.SpanID()), fmt.Sprintf("%016x", sent.child); got != want {
		t.Errorf("child span id = %s, want %s", got, want)
	}
	if v, _ := gotChild.Attributes().Get("card.kind"); v.AsString() != "visa" {
		t.Errorf("child lost tag card.kind: %v", gotChild.Attributes().AsRaw())
	}
	for _, td := range s.Traces() {
		for _, rs := range td.ResourceSpans().All() {
			if got := attrString(rs.Resource().Attributes(), "service.name"); got != service {
				t.Errorf("service.name = %q, want %q", got, service)
			}
		}
	}
}

// hexID renders a pdata trace or span id as lowercase hex.
func hexID[T interface{ String() string }](id T) string { return id.String() }

func jaegerTraceID(id jaeger.TraceID) string {
	return fmt.Sprintf("%016x%016x", id.High, id.Low)
}

func spansByName(s *sink.OTLP) map[string]ptrace.Span {
	out := map[string]ptrace.Span{}
	for _, td := range s.Traces() {
		for _, rs := range td.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, span := range ss.Spans().All() {
					out[span.Name()] = span
				}
			}
		}
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
