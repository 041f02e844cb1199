package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// rateLimitExtension keys clients by X-Scope-OrgID: one request per second
// and a burst of 2 for everyone, except the gold tier's "gold-tenant".
const rateLimitExtension = `
  ratelimit:
    key: header:X-Scope-OrgID
    default: {rate: 1, burst: 2}
    tiers:
      gold:
        rate: 1000
        burst: 1000
        keys: [gold-tenant]
    max_label_clients: 20
`

// rateLimitedPipelines are otlpPipelines with lokipush in the logs pipeline.
const rateLimitedPipelines = `
    traces:
      receivers: [otlp]
      processors: [memory_limiter]
      exporters: [otlp_grpc]
    logs:
      receivers: [otlp, lokipush]
      processors: [memory_limiter]
      exporters: [otlp_grpc]`

// rateLimitedConfig is baseConfig with the ratelimit extension as middleware
// of both OTLP servers and of obsd's own lokipush receiver on lokiPort.
func rateLimitedConfig(t *testing.T, p ports, s *sink.OTLP, lokiPort int) harness.Config {
	t.Helper()
	lokipush := fmt.Sprintf(`
  lokipush:
    endpoint: 127.0.0.1:%d
    middlewares: [{id: ratelimit}]`, lokiPort)
	cfg := baseConfig(p, s, lokipush, rateLimitedPipelines)
	replaceOnce := func(old, new string) {
		t.Helper()
		if strings.Count(cfg.YAML, old) != 1 {
			t.Fatalf("baseConfig changed shape: %q not found exactly once", old)
		}
		cfg.YAML = strings.Replace(cfg.YAML, old, new, 1)
	}
	for _, port := range []int{p.OTLPGRPC, p.OTLPHTTP} {
		ep := fmt.Sprintf("        endpoint: 127.0.0.1:%d\n", port)
		replaceOnce(ep, ep+"        middlewares: [{id: ratelimit}]\n")
	}
	replaceOnce("extensions:\n  health_check:\n", "extensions:"+rateLimitExtension+"  health_check:\n")
	replaceOnce("  extensions: [health_check]", "  extensions: [health_check, ratelimit]")
	return cfg
}

// TestRateLimit starts obsd with the ratelimit extension on its OTLP
// receivers and shows: a raw HTTP client over its limit gets 429 with
// Retry-After and a RetryInfo status, the OTel SDK's HTTP and gRPC exporters
// back off on the refusals and deliver everything, a raw gRPC client gets
// RESOURCE_EXHAUSTED with RetryInfo, and a tenant under its own limit gets
// through while another is refused.
func TestRateLimit(t *testing.T) {
	s := sink.NewOTLP(t)
	p := newPorts(t)
	lokiPort := harness.FreePort(t)
	obsd := harness.Start(t, rateLimitedConfig(t, p, s, lokiPort))
	httpURL := fmt.Sprintf("http://127.0.0.1:%d/v1/traces", p.OTLPHTTP)
	refused := func(client string) float64 {
		return harness.Sum(obsd.Metrics(t), "obsd_ratelimit_requests_total", map[string]string{"client": client, "outcome": "refused"})
	}

	t.Run("an HTTP client over its limit gets 429 with Retry-After and RetryInfo", func(t *testing.T) {
		var statuses []int
		var last *http.Response
		var body []byte
		for range 3 {
			resp := postTraces(t, httpURL, "raw-http")
			statuses = append(statuses, resp.StatusCode)
			body = readAll(t, resp)
			last = resp
		}
		if statuses[0] != 200 || statuses[2] != http.StatusTooManyRequests {
			t.Fatalf("statuses %v, want 200 first (burst) and 429 last", statuses)
		}
		if got := last.Header.Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After = %q, want \"1\" (1 request/s refills a token within 1s)", got)
		}
		var st spb.Status
		if err := proto.Unmarshal(body, &st); err != nil {
			t.Fatalf("429 body is not a protobuf google.rpc.Status: %v", err)
		}
		if st.GetCode() != int32(codes.ResourceExhausted) || len(st.GetDetails()) != 1 {
			t.Fatalf("status %v, want RESOURCE_EXHAUSTED with one detail", &st)
		}
		var info errdetails.RetryInfo
		if err := st.GetDetails()[0].UnmarshalTo(&info); err != nil {
			t.Fatalf("detail is not RetryInfo: %v", err)
		}
		t.Logf("statuses %v, Retry-After %s, RetryInfo %s", statuses, last.Header.Get("Retry-After"), info.GetRetryDelay().AsDuration())
	})

	t.Run("a gRPC client over its limit gets RESOURCE_EXHAUSTED with RetryInfo", func(t *testing.T) {
		conn, err := grpc.NewClient(fmt.Sprintf("127.0.0.1:%d", p.OTLPGRPC), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		client := ptraceotlp.NewGRPCClient(conn)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		ctx = metadata.AppendToOutgoingContext(ctx, "X-Scope-OrgID", "raw-grpc")
		var err3 error
		for i := range 3 {
			_, err := client.Export(ctx, ptraceotlp.NewExportRequestFromTraces(oneSpan(fmt.Sprintf("raw-grpc-%d", i))))
			if i == 0 && err != nil {
				t.Fatalf("first call (within the burst): %v", err)
			}
			err3 = err
		}
		st := status.Convert(err3)
		if st.Code() != codes.ResourceExhausted {
			t.Fatalf("third call: %v, want RESOURCE_EXHAUSTED", err3)
		}
		var delay time.Duration
		for _, d := range st.Details() {
			if ri, ok := d.(*errdetails.RetryInfo); ok {
				delay = ri.GetRetryDelay().AsDuration()
			}
		}
		if delay <= 0 || delay > time.Second {
			t.Fatalf("RetryInfo delay %s, want in (0, 1s]: %v", delay, st.Details())
		}
		t.Logf("RESOURCE_EXHAUSTED %q, RetryInfo %s", st.Message(), delay)
	})

	t.Run("obsd's own lokipush receiver refuses with 429 and Retry-After too", func(t *testing.T) {
		url := fmt.Sprintf("http://127.0.0.1:%d/loki/api/v1/push", lokiPort)
		var statuses []int
		var retryAfter string
		for i := range 3 {
			body := fmt.Sprintf(`{"streams":[{"stream":{"job":"e2e"},"values":[["%d","loki line %d"]]}]}`, time.Now().UnixNano(), i)
			req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Scope-OrgID", "loki-tenant")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			readAll(t, resp)
			statuses = append(statuses, resp.StatusCode)
			retryAfter = resp.Header.Get("Retry-After")
		}
		if statuses[0]/100 != 2 || statuses[2] != http.StatusTooManyRequests || retryAfter != "1" {
			t.Fatalf("statuses %v, last Retry-After %q; want 2xx first and 429 with Retry-After 1 last", statuses, retryAfter)
		}
		t.Logf("lokipush statuses %v, Retry-After %s", statuses, retryAfter)
	})

	const sdkSpans = 5
	for _, transport := range []string{"http", "grpc"} {
		tenant := "sdk-" + transport
		t.Run("the OTel SDK "+transport+" exporter backs off on refusals and delivers everything", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			exp := newRetryingExporter(ctx, t, transport, p, tenant)
			start := time.Now()
			for i := range sdkSpans {
				if err := exp.ExportSpans(ctx, spanStubs(fmt.Sprintf("%s-%d", tenant, i))); err != nil {
					t.Fatalf("export %d: %v", i, err)
				}
			}
			if err := exp.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			harness.Eventually(t, 20*time.Second, func() bool { return spansNamed(s, tenant) == sdkSpans },
				"sink has %d of %d %s spans", spansNamed(s, tenant), sdkSpans, tenant)
			n := refused(tenant)
			if n < 1 {
				t.Fatalf("obsd refused %s %v times; %d exports in a burst of 2 at 1/s must be refused", tenant, n, sdkSpans)
			}
			t.Logf("%d exports delivered in %s after %v refusals", sdkSpans, time.Since(start).Round(time.Millisecond), n)
		})
	}

	t.Run("a tenant under its own limit is not starved by one over it", func(t *testing.T) {
		const rounds = 30
		var goldOK, noisyRefused int
		for range rounds {
			resp := postTraces(t, httpURL, "noisy")
			readAll(t, resp)
			if resp.StatusCode == http.StatusTooManyRequests {
				noisyRefused++
			}
			resp = postTraces(t, httpURL, "gold-tenant")
			readAll(t, resp)
			if resp.StatusCode == http.StatusOK {
				goldOK++
			}
		}
		t.Logf("noisy: %d of %d refused; gold-tenant: %d of %d accepted", noisyRefused, rounds, goldOK, rounds)
		if goldOK != rounds {
			t.Errorf("gold-tenant got %d of %d requests through", goldOK, rounds)
		}
		if noisyRefused == 0 {
			t.Errorf("noisy was never refused")
		}
		m := obsd.Metrics(t)
		if got := harness.Sum(m, "obsd_ratelimit_requests_total", map[string]string{"client": "gold-tenant", "tier": "gold", "outcome": "allowed"}); got != rounds {
			t.Errorf("obsd counted %v allowed gold-tenant requests, want %d", got, rounds)
		}
		if got := refused("noisy"); got != float64(noisyRefused) {
			t.Errorf("obsd counted %v refused noisy requests, client saw %d", got, noisyRefused)
		}
	})
}

// postTraces posts one span as OTLP protobuf with the tenant header.
func postTraces(t *testing.T, url, tenant string) *http.Response {
	t.Helper()
	body, err := ptraceotlp.NewExportRequestFromTraces(oneSpan(tenant)).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("X-Scope-OrgID", tenant)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	return resp
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func oneSpan(name string) ptrace.Traces {
	td := ptrace.NewTraces()
	span := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	span.SetName(name)
	span.SetTraceID([16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	span.SetSpanID([8]byte{1, 2, 3, 4, 5, 6, 7, 8})
	return td
}

// newRetryingExporter is an SDK span exporter sending the tenant header,
// with retries on (short backoff, so Retry-After / RetryInfo set the pace).
func newRetryingExporter(ctx context.Context, t *testing.T, transport string, p ports, tenant string) sdktrace.SpanExporter {
	t.Helper()
	headers := map[string]string{"X-Scope-OrgID": tenant}
	var exp sdktrace.SpanExporter
	var err error
	if transport == "grpc" {
		exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(fmt.Sprintf("127.0.0.1:%d", p.OTLPGRPC)), otlptracegrpc.WithInsecure(),
			otlptracegrpc.WithHeaders(headers),
			otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: true, InitialInterval: 50 * time.Millisecond, MaxInterval: time.Second, MaxElapsedTime: 30 * time.Second}))
	} else {
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(fmt.Sprintf("127.0.0.1:%d", p.OTLPHTTP)), otlptracehttp.WithInsecure(),
			otlptracehttp.WithHeaders(headers),
			otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: true, InitialInterval: 50 * time.Millisecond, MaxInterval: time.Second, MaxElapsedTime: 30 * time.Second}))
	}
	if err != nil {
		t.Fatalf("%s exporter: %v", transport, err)
	}
	return exp
}

func spanStubs(name string) []sdktrace.ReadOnlySpan {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},
		SpanID:  trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8},
	})
	now := time.Now()
	return tracetest.SpanStubs{{Name: name, SpanContext: sc, StartTime: now, EndTime: now}}.Snapshots()
}

// spansNamed counts the sink's spans whose name starts with prefix.
func spansNamed(s *sink.OTLP, prefix string) int {
	n := 0
	for _, td := range s.Traces() {
		for _, rs := range td.ResourceSpans().All() {
			for _, ss := range rs.ScopeSpans().All() {
				for _, span := range ss.Spans().All() {
					if strings.HasPrefix(span.Name(), prefix) {
						n++
					}
				}
			}
		}
	}
	return n
}
