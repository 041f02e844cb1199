package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

const itemsPerSignal = 50

// TestOTLPInOTLPOut sends traces, logs and metrics with the official OTel Go
// SDK exporters over gRPC and HTTP, and checks that every span, record and
// point reaches the OTLP sink with its attributes.
func TestOTLPInOTLPOut(t *testing.T) {
	for _, transport := range []string{"grpc", "http"} {
		t.Run(transport, func(t *testing.T) {
			s := sink.NewOTLP(t)
			p := newPorts(t)
			obsd := harness.Start(t, baseConfig(p, s, "", otlpPipelines))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res := resource.NewSchemaless(attribute.String("service.name", "e2e-"+transport))

			sendSpans(ctx, t, transport, p, res)
			sendLogs(ctx, t, transport, p, res)
			sendMetrics(ctx, t, transport, p, res)

			harness.Eventually(t, 20*time.Second, func() bool {
				return s.SpanCount() >= itemsPerSignal && s.LogRecordCount() >= itemsPerSignal && s.DataPointCount() >= 1
			}, "sink has %d spans, %d logs, %d points", s.SpanCount(), s.LogRecordCount(), s.DataPointCount())

			checkSpans(t, s, transport)
			checkLogs(t, s, transport)
			checkMetrics(t, s, transport)

			// obsd counts what it received and sent.
			harness.Eventually(t, 10*time.Second, func() bool {
				m := obsd.Metrics(t)
				return harness.Sum(m, "otelcol_receiver_accepted_spans", nil) == itemsPerSignal &&
					harness.Sum(m, "otelcol_exporter_sent_spans", nil) == itemsPerSignal &&
					harness.Sum(m, "otelcol_receiver_accepted_log_records", nil) == itemsPerSignal &&
					harness.Sum(m, "otelcol_exporter_sent_log_records", nil) == itemsPerSignal
			}, "obsd's self-metrics do not count %d spans and logs received and sent", itemsPerSignal)
		})
	}
}

func sendSpans(ctx context.Context, t *testing.T, transport string, p ports, res *resource.Resource) {
	t.Helper()
	var exp sdktrace.SpanExporter
	var err error
	if transport == "grpc" {
		exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(fmt.Sprintf("127.0.0.1:%d", p.OTLPGRPC)), otlptracegrpc.WithInsecure())
	} else {
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(fmt.Sprintf("127.0.0.1:%d", p.OTLPHTTP)), otlptracehttp.WithInsecure())
	}
	if err != nil {
		t.Fatalf("trace exporter: %v", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	tracer := tp.Tracer("e2e")
	for i := range itemsPerSignal {
		_, span := tracer.Start(ctx, fmt.Sprintf("span-%d", i))
		span.SetAttributes(attribute.Int("seq", i), attribute.String("http.route", "/orders/{id}"))
		span.End()
	}
	if err := tp.Shutdown(ctx); err != nil {
		t.Fatalf("flush spans: %v", err)
	}
}

func sendLogs(ctx context.Context, t *testing.T, transport string, p ports, res *resource.Resource) {
	t.Helper()
	var exp sdklog.Exporter
	var err error
	if transport == "grpc" {
		exp, err = otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(fmt.Sprintf("127.0.0.1:%d", p.OTLPGRPC)), otlploggrpc.WithInsecure())
	} else {
		exp, err = otlploghttp.New(ctx, otlploghttp.WithEndpoint(fmt.Sprintf("127.0.0.1:%d", p.OTLPHTTP)), otlploghttp.WithInsecure())
	}
	if err != nil {
		t.Fatalf("log exporter: %v", err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)), sdklog.WithResource(res))
	logger := lp.Logger("e2e")
	for i := range itemsPerSignal {
		var rec otellog.Record
		rec.SetTimestamp(time.Now())
		rec.SetSeverity(otellog.SeverityInfo)
		rec.SetBody(attribute.StringValue(fmt.Sprintf("log line %d", i)))
		rec.AddAttributes(attribute.Int("seq", i), attribute.String("user", "alice"))
		logger.Emit(ctx, rec)
	}
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatalf("flush logs: %v", err)
	}
}

func sendMetrics(ctx context.Context, t *testing.T, transport string, p ports, res *resource.Resource) {
	t.Helper()
	var exp sdkmetric.Exporter
	var err error
	if transport == "grpc" {
		exp, err = otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(fmt.Sprintf("127.0.0.1:%d", p.OTLPGRPC)), otlpmetricgrpc.WithInsecure())
	} else {
		exp, err = otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpoint(fmt.Sprintf("127.0.0.1:%d", p.OTLPHTTP)), otlpmetrichttp.WithInsecure())
	}
	if err != nil {
		t.Fatalf("metric exporter: %v", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp)), sdkmetric.WithResource(res))
	counter, err := mp.Meter("e2e").Int64Counter("e2e.requests")
	if err != nil {
		t.Fatalf("counter: %v", err)
	}
	for i := range itemsPerSignal {
		counter.Add(ctx, 1, otelmetricAttr("route", fmt.Sprintf("/r%d", i%5)))
	}
	if err := mp.Shutdown(ctx); err != nil {
		t.Fatalf("flush metrics: %v", err)
	}
}

func checkSpans(t *testing.T, s *sink.OTLP, transport string) {
	t.Helper()
	seen := map[string]int{}
	for _, td := range s.Traces() {
		for _, rs := range td.ResourceSpans().All() {
			if got := attrString(rs.Resource().Attributes(), "service.name"); got != "e2e-"+transport {
				t.Errorf("span resource service.name = %q", got)
			}
			for _, ss := range rs.ScopeSpans().All() {
				for _, span := range ss.Spans().All() {
					seen[span.Name()]++
					if attrString(span.Attributes(), "http.route") != "/orders/{id}" {
						t.Errorf("span %s lost its http.route attribute", span.Name())
					}
				}
			}
		}
	}
	for i := range itemsPerSignal {
		if n := seen[fmt.Sprintf("span-%d", i)]; n != 1 {
			t.Errorf("span-%d arrived %d times, want 1", i, n)
		}
	}
}

func checkLogs(t *testing.T, s *sink.OTLP, transport string) {
	t.Helper()
	seen := map[string]int{}
	for _, ld := range s.Logs() {
		for _, rl := range ld.ResourceLogs().All() {
			if got := attrString(rl.Resource().Attributes(), "service.name"); got != "e2e-"+transport {
				t.Errorf("log resource service.name = %q", got)
			}
			for _, sl := range rl.ScopeLogs().All() {
				for _, lr := range sl.LogRecords().All() {
					seen[lr.Body().AsString()]++
					if attrString(lr.Attributes(), "user") != "alice" {
						t.Errorf("log %q lost its user attribute", lr.Body().AsString())
					}
				}
			}
		}
	}
	for i := range itemsPerSignal {
		if n := seen[fmt.Sprintf("log line %d", i)]; n != 1 {
			t.Errorf("log line %d arrived %d times, want 1", i, n)
		}
	}
}

func checkMetrics(t *testing.T, s *sink.OTLP, transport string) {
	t.Helper()
	var total int64
	routes := map[string]bool{}
	for _, md := range s.Metrics() {
		for _, rm := range md.ResourceMetrics().All() {
			for _, sm := range rm.ScopeMetrics().All() {
				for _, m := range sm.Metrics().All() {
					if m.Name() != "e2e.requests" || m.Type() != pmetric.MetricTypeSum {
						continue
					}
					for _, dp := range m.Sum().DataPoints().All() {
						total += dp.IntValue()
						routes[attrString(dp.Attributes(), "route")] = true
					}
				}
			}
		}
	}
	if total != itemsPerSignal || len(routes) != 5 {
		t.Errorf("e2e.requests: sum %d over %d routes, want %d over 5", total, len(routes), itemsPerSignal)
	}
}

func attrString(m pcommon.Map, key string) string {
	v, ok := m.Get(key)
	if !ok {
		return ""
	}
	return v.AsString()
}
