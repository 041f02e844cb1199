package backends

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	jaeger "github.com/uber/jaeger-client-go"
	jaegercfg "github.com/uber/jaeger-client-go/config"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/internal/jaegertest"
)

// wantSpan is what the test expects Jaeger to show for one span.
type wantSpan struct {
	name, service, spanID, parent string
	tags                          map[string]string
}

// TestTracesReachJaeger: spans from an OTel SDK-shaped OTLP client, from
// legacy jaeger-client-go (64-bit ids over HTTP, 128-bit over UDP) and from
// Zipkin v2 senders (64- and 128-bit ids) go through obsd's receivers and
// its otlp_grpc exporter into a real Jaeger. Each trace is fetched through
// Jaeger's query API by the id its sender knows, as an operator pastes it
// from a log line, and shows every span with its parent link, service name
// and tags.
func TestTracesReachJaeger(t *testing.T) {
	t.Parallel()
	j := jaegertest.Start(t, jaegertest.Memory)
	udpPort, thriftPort, zipkinPort := harness.FreeUDPPort(t), harness.FreePort(t), harness.FreePort(t)
	_, p := startObsd(t, obsdConfig{
		Receivers: fmt.Sprintf(`  jaeger:
    protocols:
      thrift_compact:
        endpoint: 127.0.0.1:%d
      thrift_http:
        endpoint: 127.0.0.1:%d
  zipkin:
    endpoint: 127.0.0.1:%d
`, udpPort, thriftPort, zipkinPort),
		Exporters: []exporter{otlpGRPCExporter("otlp_grpc/jaeger", j.OTLPGRPC)},
		Pipelines: `    traces:
      receivers: [otlp, jaeger, zipkin]
      processors: [memory_limiter]
      exporters: [otlp_grpc/jaeger]`,
	})

	traces := map[string][]wantSpan{} // by the trace id as its sender knows it

	// OTLP: a frontend span calling checkout, in two resources.
	otlpTrace, spans := otlpCheckoutTrace()
	if err := exportTraces(dial(t, p.GRPC), otlpTrace); err != nil {
		t.Fatalf("OTLP export: %v", err)
	}
	traces[spans[0].TraceID().String()] = []wantSpan{
		{name: "GET /checkout", service: "frontend", spanID: spans[0].SpanID().String(),
			tags: map[string]string{"span.kind": "server", "http.route": "/checkout"}},
		{name: "charge", service: "checkout", spanID: spans[1].SpanID().String(), parent: spans[0].SpanID().String(),
			tags: map[string]string{"span.kind": "client", "error": "true", "otel.status_code": "ERROR"}},
	}

	// jaeger-client-go, as legacy apps send.
	for _, c := range []struct {
		service string
		gen128  bool
		udp     bool
	}{{"legacy-http-64", false, false}, {"legacy-udp-128", true, true}} {
		id, want := jaegerClientTrace(t, c.service, c.gen128, c.udp, udpPort, thriftPort)
		traces[id] = want
	}

	// Zipkin v2 JSON, 64- and 128-bit trace ids.
	for _, id := range []string{"5af7183fb1d4cf5f", "463ac35c9f6413ad48485a3953bb6124"} {
		traces[id] = zipkinTrace(t, zipkinPort, id)
	}

	for id, want := range traces {
		var tr jaegertest.Trace
		var found bool
		var err error
		harness.Eventually(t, 60*time.Second, func() bool {
			tr, found, err = j.TryTrace(id)
			return err == nil && found && len(tr.Spans) >= len(want)
		}, "Jaeger has no trace %s with %d spans (found %v, %d spans, error %v)", id, len(want), found, len(tr.Spans), err)
		checkTrace(t, id, tr, want)
	}
	services := strings.Join(j.Services(t), ",")
	for _, s := range []string{"frontend", "checkout", "legacy-http-64", "legacy-udp-128", "legacy-zipkin"} {
		if !strings.Contains(","+services+",", ","+s+",") {
			t.Errorf("Jaeger's service list %q lacks %s", services, s)
		}
	}
}

func checkTrace(t *testing.T, id string, tr jaegertest.Trace, want []wantSpan) {
	t.Helper()
	// Jaeger prints a trace id as 16 hex digits when its high half is zero,
	// else 32, whatever width the sender printed.
	wantID := fmt.Sprintf("%032s", id)
	if strings.HasPrefix(wantID, strings.Repeat("0", 16)) {
		wantID = wantID[16:]
	}
	if tr.TraceID != wantID {
		t.Errorf("trace %s: Jaeger shows trace id %s, want %s", id, tr.TraceID, wantID)
	}
	if len(tr.Spans) != len(want) {
		t.Errorf("trace %s: %d spans, want %d", id, len(tr.Spans), len(want))
	}
	byID := map[string]jaegertest.Span{}
	for _, s := range tr.Spans {
		byID[s.SpanID] = s
		if s.TraceID != tr.TraceID {
			t.Errorf("trace %s: span %s carries trace id %s", id, s.SpanID, s.TraceID)
		}
	}
	for _, w := range want {
		s, ok := byID[w.spanID]
		if !ok {
			t.Errorf("trace %s: span %s (%s) missing; spans %v", id, w.spanID, w.name, tr.Spans)
			continue
		}
		if s.OperationName != w.name || tr.Service(s) != w.service || s.Parent() != w.parent {
			t.Errorf("trace %s: span %s is %q of %q with parent %q, want %q of %q with parent %q",
				id, w.spanID, s.OperationName, tr.Service(s), s.Parent(), w.name, w.service, w.parent)
		}
		for k, v := range w.tags {
			if got, ok := s.Tag(k); !ok || got != v {
				t.Errorf("trace %s: span %s tag %s = %q (set %v), want %q; tags %v", id, w.name, k, got, ok, v, s.Tags)
			}
		}
	}
}

// otlpCheckoutTrace is a trace of two services: frontend's server span and
// checkout's failed client span under it.
func otlpCheckoutTrace() (ptrace.Traces, []ptrace.Span) {
	td := ptrace.NewTraces()
	traceID := pcommon.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	start := time.Now().Add(-time.Minute)
	add := func(service, name string, id pcommon.SpanID, parent pcommon.SpanID, kind ptrace.SpanKind) ptrace.Span {
		rs := td.ResourceSpans().AppendEmpty()
		rs.Resource().Attributes().PutStr("service.name", service)
		rs.Resource().Attributes().PutStr("k8s.pod.name", service+"-0")
		s := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
		s.SetTraceID(traceID)
		s.SetSpanID(id)
		s.SetParentSpanID(parent)
		s.SetName(name)
		s.SetKind(kind)
		s.SetStartTimestamp(pcommon.NewTimestampFromTime(start))
		s.SetEndTimestamp(pcommon.NewTimestampFromTime(start.Add(250 * time.Millisecond)))
		return s
	}
	root := add("frontend", "GET /checkout", pcommon.SpanID{0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}, pcommon.SpanID{}, ptrace.SpanKindServer)
	root.Attributes().PutStr("http.route", "/checkout")
	child := add("checkout", "charge", pcommon.SpanID{0x53, 0x99, 0x5c, 0x3f, 0x42, 0xcd, 0x8a, 0xd8}, root.SpanID(), ptrace.SpanKindClient)
	child.Status().SetCode(ptrace.StatusCodeError)
	child.Status().SetMessage("card declined")
	return td, []ptrace.Span{root, child}
}

// jaegerClientTrace sends a parent and a child span with jaeger-client-go
// and returns the trace id as the client prints it and what Jaeger must show.
func jaegerClientTrace(t *testing.T, service string, gen128, udp bool, udpPort, httpPort int) (string, []wantSpan) {
	t.Helper()
	reporter := &jaegercfg.ReporterConfig{BufferFlushInterval: 50 * time.Millisecond}
	if udp {
		reporter.LocalAgentHostPort = fmt.Sprintf("127.0.0.1:%d", udpPort)
	} else {
		reporter.CollectorEndpoint = fmt.Sprintf("http://127.0.0.1:%d/api/traces", httpPort)
	}
	cfg := jaegercfg.Configuration{ServiceName: service, Gen128Bit: gen128, Reporter: reporter,
		Sampler: &jaegercfg.SamplerConfig{Type: jaeger.SamplerTypeConst, Param: 1}}
	tracer, closer, err := cfg.NewTracer()
	if err != nil {
		t.Fatalf("jaeger tracer: %v", err)
	}
	parent := tracer.StartSpan("checkout")
	child := tracer.StartSpan("charge-card", opentracing.ChildOf(parent.Context()))
	child.SetTag("card.kind", "visa")
	child.Finish()
	parent.Finish()
	if err := closer.Close(); err != nil {
		t.Fatalf("close tracer: %v", err)
	}
	pc, cc := parent.Context().(jaeger.SpanContext), child.Context().(jaeger.SpanContext)
	if gen128 && pc.TraceID().High == 0 {
		t.Fatalf("jaeger-client-go made a 64-bit id with Gen128Bit")
	}
	sid := func(id jaeger.SpanID) string { return fmt.Sprintf("%016x", uint64(id)) }
	return pc.TraceID().String(), []wantSpan{
		{name: "checkout", service: service, spanID: sid(pc.SpanID())},
		{name: "charge-card", service: service, spanID: sid(cc.SpanID()), parent: sid(pc.SpanID()), tags: map[string]string{"card.kind": "visa"}},
	}
}

// zipkinTrace posts a server span and its client child with trace id id in
// Zipkin v2 JSON, as Zipkin reporters do.
func zipkinTrace(t *testing.T, port int, id string) []wantSpan {
	t.Helper()
	ts := time.Now().Add(-time.Minute).UnixMicro()
	body := fmt.Sprintf(`[
{"traceId":%q,"id":"352bff9a74ca9ad2","kind":"SERVER","name":"get /api","timestamp":%d,"duration":207000,
 "localEndpoint":{"serviceName":"legacy-zipkin"},"tags":{"http.path":"/api"}},
{"traceId":%q,"parentId":"352bff9a74ca9ad2","id":"6b221d5bc9e6496c","kind":"CLIENT","name":"select","timestamp":%d,"duration":1000,
 "localEndpoint":{"serviceName":"legacy-zipkin"},"tags":{"db.system":"postgresql"}}]`, id, ts, id, ts+1000)
	resp, err := http.Post(fmt.Sprintf("http://127.0.0.1:%d/api/v2/spans", port), "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST /api/v2/spans = %s", resp.Status)
	}
	return []wantSpan{
		{name: "get /api", service: "legacy-zipkin", spanID: "352bff9a74ca9ad2", tags: map[string]string{"span.kind": "server", "http.path": "/api"}},
		{name: "select", service: "legacy-zipkin", spanID: "6b221d5bc9e6496c", parent: "352bff9a74ca9ad2", tags: map[string]string{"span.kind": "client", "db.system": "postgresql"}},
	}
}
