package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	jaeger "github.com/uber/jaeger-client-go"
	jaegercfg "github.com/uber/jaeger-client-go/config"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// TestJaegerClients sends spans from jaeger-client-go, the client of legacy
// apps, over UDP compact thrift (to the agent port) and over HTTP to
// /api/traces, with 64-bit and 128-bit trace ids, and checks service name,
// trace ids and parent links at the sink.
func TestJaegerClients(t *testing.T) {
	cases := []struct {
		name      string
		transport string // "udp" or "http"
		gen128Bit bool
	}{
		{"udp compact thrift with 64-bit trace ids", "udp", false},
		{"udp compact thrift with 128-bit trace ids", "udp", true},
		{"http thrift to /api/traces with 64-bit trace ids", "http", false},
		{"http thrift to /api/traces with 128-bit trace ids", "http", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := sink.NewOTLP(t)
			p := newPorts(t)
			udpPort, httpPort := harness.FreeUDPPort(t), harness.FreePort(t)
			receivers := fmt.Sprintf(`
  jaeger:
    protocols:
      thrift_compact:
        endpoint: 127.0.0.1:%d
      thrift_http:
        endpoint: 127.0.0.1:%d`, udpPort, httpPort)
			pipelines := `
    traces:
      receivers: [jaeger]
      processors: [memory_limiter]
      exporters: [otlp_grpc]`
			harness.Start(t, baseConfig(p, s, receivers, pipelines))

			service := "legacy-" + tc.transport
			reporter := &jaegercfg.ReporterConfig{BufferFlushInterval: 50 * time.Millisecond}
			if tc.transport == "udp" {
				reporter.LocalAgentHostPort = fmt.Sprintf("127.0.0.1:%d", udpPort)
			} else {
				reporter.CollectorEndpoint = fmt.Sprintf("http://127.0.0.1:%d/api/traces", httpPort)
			}
			cfg := jaegercfg.Configuration{
				ServiceName: service,
				Sampler:     &jaegercfg.SamplerConfig{Type: jaeger.SamplerTypeConst, Param: 1},
				Reporter:    reporter,
				Gen128Bit:   tc.gen128Bit,
			}
			tracer, closer, err := cfg.NewTracer()
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

			harness.Eventually(t, 20*time.Second, func() bool { return s.SpanCount() >= 2 },
				"sink has %d spans from jaeger-client-go, want 2", s.SpanCount())

			spans := spansByName(s)
			gotParent, okParent := spans["checkout"]
			gotChild, okChild := spans["charge-card"]
			if !okParent || !okChild {
				t.Fatalf("missing spans; got %v", keys(spans))
			}
			wantTraceID := jaegerTraceID(parentCtx.TraceID())
			if got := hexID(gotParent.TraceID()); got != wantTraceID {
				t.Errorf("trace id = %s, want %s", got, wantTraceID)
			}
			if !tc.gen128Bit && wantTraceID[:16] != "0000000000000000" {
				t.Errorf("64-bit trace id %s should have a zero high half", wantTraceID)
			}
			if gotChild.TraceID() != gotParent.TraceID() {
				t.Errorf("child trace id %s differs from parent %s", gotChild.TraceID(), gotParent.TraceID())
			}
			if got, want := hexID(gotChild.ParentSpanID()), fmt.Sprintf("%016x", uint64(parentCtx.SpanID())); got != want {
				t.Errorf("child parent span id = %s, want %s", got, want)
			}
			if got, want := hexID(gotChild.SpanID()), fmt.Sprintf("%016x", uint64(childCtx.SpanID())); got != want {
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
		})
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
