package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/grafana/loki/pkg/push"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc/credentials"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
	"github.com/obsd-dev/obsd/internal/testcerts"
)

// mtlsConfig is obsd with mutual TLS on OTLP gRPC, OTLP/HTTP and lokipush
// (all requiring a client certificate from ca), the client certificate's
// CN made the tenant (tls_identity + tenant processor), spans exported over
// TLS to the sink and logs to the Loki sink with X-Scope-OrgID.
func mtlsConfig(p ports, lokiPort int, server *testcerts.Pair, ca *testcerts.CA, sinkCA *testcerts.CA, s *sink.OTLP, loki *sink.Loki) harness.Config {
	tlsBlock := fmt.Sprintf(`
          cert_file: %s
          key_file: %s
          client_ca_file: %s`, server.CertFile, server.KeyFile, ca.CertFile)
	yaml := fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
        tls:%s
        middlewares: [{id: tls_identity}]
      http:
        endpoint: 127.0.0.1:%d
        tls:%s
        middlewares: [{id: tls_identity}]
  lokipush:
    endpoint: 127.0.0.1:%d
    tls:%s
    middlewares: [{id: tls_identity}]
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 512
  tenant:
    from_auth: tenant
exporters:
  otlp_grpc:
    endpoint: %s
    tls:
      ca_file: %s
    sending_queue:
      batch:
        flush_timeout: 50ms
  loki:
    endpoint: %s
    sending_queue:
      batch:
        flush_timeout: 50ms
extensions:
  tls_identity:
    required: true
  health_check:
    endpoint: 127.0.0.1:%d
service:
  extensions: [health_check, tls_identity]
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: %d
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, tenant]
      exporters: [otlp_grpc]
    logs:
      receivers: [otlp, lokipush]
      processors: [memory_limiter, tenant]
      exporters: [loki]
`, p.OTLPGRPC, indent(tlsBlock, 0), p.OTLPHTTP, indent(tlsBlock, 0), lokiPort, indent(tlsBlock, -4),
		s.GRPCAddr, sinkCA.CertFile, loki.URL, p.Health, p.Metrics)
	return harness.Config{YAML: yaml, HealthPort: p.Health, MetricsPort: p.Metrics}
}

// indent shifts every line of block by n spaces (negative removes).
func indent(block string, n int) string {
	if n >= 0 {
		return strings.ReplaceAll(block, "\n", "\n"+strings.Repeat(" ", n))
	}
	return strings.ReplaceAll(block, "\n"+strings.Repeat(" ", -n), "\n")
}

// tlsSpan is a finished span from service svc named name.
func tlsSpan(svc, name string) []sdktrace.ReadOnlySpan {
	stub := tracetest.SpanStub{
		Name:      name,
		StartTime: time.Now().Add(-time.Second),
		EndTime:   time.Now(),
		Resource:  resource.NewSchemaless(attribute.String("service.name", svc)),
	}
	return tracetest.SpanStubs{stub}.Snapshots()
}

// spanTenants maps span names in the sink to their resource's obsd.tenant.
func spanTenants(s *sink.OTLP) map[string]string {
	out := map[string]string{}
	for _, td := range s.Traces() {
		for i := 0; i < td.ResourceSpans().Len(); i++ {
			rs := td.ResourceSpans().At(i)
			tenant := "<none>"
			if v, ok := rs.Resource().Attributes().Get("obsd.tenant"); ok {
				tenant = v.Str()
			}
			for j := 0; j < rs.ScopeSpans().Len(); j++ {
				spans := rs.ScopeSpans().At(j).Spans()
				for k := 0; k < spans.Len(); k++ {
					out[spans.At(k).Name()] = tenant
				}
			}
		}
	}
	return out
}

func exportGRPC(t *testing.T, addr string, cfg *tls.Config, span string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(addr),
		otlptracegrpc.WithTLSCredentials(credentials.NewTLS(cfg)),
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}))
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Shutdown(context.Background())
	return exp.ExportSpans(ctx, tlsSpan("tls-e2e", span))
}

func exportHTTP(t *testing.T, addr string, cfg *tls.Config, span string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpoint(addr),
		otlptracehttp.WithTLSClientConfig(cfg),
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Shutdown(context.Background())
	return exp.ExportSpans(ctx, tlsSpan("tls-e2e", span))
}

// lokiPushTLS pushes one line as protobuf+snappy over hc, claiming
// X-Scope-OrgID claimed.
func lokiPushTLS(hc *http.Client, url, claimed, line string) (int, error) {
	req := push.PushRequest{Streams: []push.Stream{{
		Labels:  `{service_name="tls-e2e"}`,
		Entries: []push.Entry{{Timestamp: time.Now(), Line: line}},
	}}}
	raw, err := req.Marshal()
	if err != nil {
		return 0, err
	}
	httpReq, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(snappy.Encode(nil, raw)))
	if err != nil {
		return 0, err
	}
	httpReq.Header.Set("Content-Type", "application/x-protobuf")
	httpReq.Header.Set("X-Scope-OrgID", claimed)
	resp, err := hc.Do(httpReq)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// TestMutualTLS runs obsd with mTLS on every receiver and TLS to its
// backends, and checks who gets in and under which tenant.
func TestMutualTLS(t *testing.T) {
	ca := testcerts.NewCA(t, "agents")
	wrongCA := testcerts.NewCA(t, "wrong")
	sinkCA := testcerts.NewCA(t, "backend")
	server := ca.Server(t, testcerts.Options{})
	teamA := ca.Client(t, testcerts.Options{CommonName: "team-a"})
	teamB := ca.Client(t, testcerts.Options{CommonName: "team-b"})
	strangerCA := testcerts.NewCA(t, "stranger")
	stranger := strangerCA.Client(t, testcerts.Options{CommonName: "team-a"})

	s := sink.NewOTLPWith(t, sink.Options{TLS: &tls.Config{
		Certificates: []tls.Certificate{sinkCA.Server(t, testcerts.Options{}).TLS}, MinVersion: tls.VersionTLS12}})
	loki := sink.NewLoki(t)
	p := newPorts(t)
	lokiPort := harness.FreePort(t)
	o := harness.Start(t, mtlsConfig(p, lokiPort, server, ca, sinkCA, s, loki))
	grpcAddr := fmt.Sprintf("127.0.0.1:%d", p.OTLPGRPC)
	httpAddr := fmt.Sprintf("127.0.0.1:%d", p.OTLPHTTP)

	type export func(t *testing.T, addr string, cfg *tls.Config, span string) error
	protocols := []struct {
		name   string
		addr   string
		export export
	}{{"grpc", grpcAddr, exportGRPC}, {"http", httpAddr, exportHTTP}}

	for _, proto := range protocols {
		t.Run(proto.name, func(t *testing.T) {
			ok := proto.name + "-team-a"
			if err := proto.export(t, proto.addr, testcerts.ClientTLS(ca, teamA), ok); err != nil {
				t.Fatalf("the OTel SDK with the right CA and a client certificate must deliver: %v", err)
			}
			okB := proto.name + "-team-b"
			if err := proto.export(t, proto.addr, testcerts.ClientTLS(ca, teamB), okB); err != nil {
				t.Fatalf("team-b's certificate must deliver: %v", err)
			}

			err := proto.export(t, proto.addr, testcerts.ClientTLS(wrongCA, teamA), proto.name+"-wrong-ca")
			if err == nil || !strings.Contains(err.Error(), "certificate") {
				t.Errorf("a client trusting another CA must fail the handshake on the certificate, got %v", err)
			}
			err = proto.export(t, proto.addr, testcerts.ClientTLS(ca, nil), proto.name+"-no-cert")
			if err == nil {
				t.Error("without a client certificate the mTLS handshake must fail")
			}
			err = proto.export(t, proto.addr, testcerts.ClientTLS(ca, stranger), proto.name+"-stranger")
			if err == nil {
				t.Error("a client certificate from another CA must be refused")
			}

			harness.Eventually(t, 20*time.Second, func() bool {
				got := spanTenants(s)
				return got[ok] != "" && got[okB] != ""
			}, "spans did not reach the TLS sink: %v", spanTenants(s))
			got := spanTenants(s)
			if got[ok] != "team-a" || got[okB] != "team-b" {
				t.Errorf("the client certificate's CN must be the tenant: %v", got)
			}
			for _, refused := range []string{"-wrong-ca", "-no-cert", "-stranger"} {
				if _, ok := got[proto.name+refused]; ok {
					t.Errorf("span %s%s was refused at the handshake but reached the sink", proto.name, refused)
				}
			}
		})
	}

	t.Run("lokipush", func(t *testing.T) {
		url := fmt.Sprintf("https://127.0.0.1:%d/loki/api/v1/push", lokiPort)
		client := func(cfg *tls.Config) *http.Client {
			return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
		}
		code, err := lokiPushTLS(client(testcerts.ClientTLS(ca, teamA)), url, "team-b", "line from team-a claiming team-b")
		if err != nil || code != http.StatusNoContent {
			t.Fatalf("a push with team-a's certificate: %d %v", code, err)
		}
		if _, err := lokiPushTLS(client(testcerts.ClientTLS(wrongCA, teamA)), url, "team-a", "wrong ca"); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("a client trusting another CA must fail on the certificate, got %v", err)
		}
		if code, err := lokiPushTLS(client(testcerts.ClientTLS(ca, nil)), url, "team-a", "no cert"); err == nil {
			t.Errorf("a push without a client certificate must fail the handshake, got %d", code)
		}
		harness.Eventually(t, 20*time.Second, func() bool { return len(loki.LinesByTenant()["team-a"]) > 0 },
			"the line did not reach Loki under team-a: %v", loki.LinesByTenant())
		byTenant := loki.LinesByTenant()
		if len(byTenant) != 1 || len(byTenant["team-a"]) != 1 {
			t.Errorf("Loki must see exactly one line, under the certificate's tenant (not the claimed header): %v", byTenant)
		}
	})

	if strings.Contains(o.Output(), string(teamA.KeyPEM)) {
		t.Error("obsd printed a private key")
	}
}

// floodConfig is mtlsConfig with the ratelimit extension keyed by the
// certificate's tenant on lokipush (1 push/s, burst 2 per tenant).
func floodConfig(t *testing.T, p ports, lokiPort int, server *testcerts.Pair, ca, sinkCA *testcerts.CA, s *sink.OTLP, loki *sink.Loki) harness.Config {
	t.Helper()
	cfg := mtlsConfig(p, lokiPort, server, ca, sinkCA, s, loki)
	replace := func(old, new string) {
		t.Helper()
		if strings.Count(cfg.YAML, old) != 1 {
			t.Fatalf("mtlsConfig changed shape: %q", old)
		}
		cfg.YAML = strings.Replace(cfg.YAML, old, new, 1)
	}
	replace("    middlewares: [{id: tls_identity}]\nprocessors:", "    middlewares: [{id: tls_identity}, {id: ratelimit}]\nprocessors:")
	replace("extensions:\n  tls_identity:", "extensions:\n  ratelimit:\n    key: auth:tenant\n    default: {rate: 1, burst: 2}\n  tls_identity:")
	replace("  extensions: [health_check, tls_identity]", "  extensions: [health_check, tls_identity, ratelimit]")
	return cfg
}

// TestTenantFloodCannotRefuseAnotherTenant: team-a floods lokipush and is
// refused with 429 by its own bucket, keyed by its certificate; team-b's
// pushes meanwhile all pass, and Loki receives each tenant's lines under
// its own X-Scope-OrgID.
func TestTenantFloodCannotRefuseAnotherTenant(t *testing.T) {
	ca := testcerts.NewCA(t, "agents")
	sinkCA := testcerts.NewCA(t, "backend")
	server := ca.Server(t, testcerts.Options{})
	teamA := ca.Client(t, testcerts.Options{CommonName: "team-a"})
	teamB := ca.Client(t, testcerts.Options{CommonName: "team-b"})
	s := sink.NewOTLPWith(t, sink.Options{TLS: &tls.Config{
		Certificates: []tls.Certificate{sinkCA.Server(t, testcerts.Options{}).TLS}, MinVersion: tls.VersionTLS12}})
	loki := sink.NewLoki(t)
	p := newPorts(t)
	lokiPort := harness.FreePort(t)
	harness.Start(t, floodConfig(t, p, lokiPort, server, ca, sinkCA, s, loki))
	url := fmt.Sprintf("https://127.0.0.1:%d/loki/api/v1/push", lokiPort)
	clientA := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: testcerts.ClientTLS(ca, teamA)}}
	clientB := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: testcerts.ClientTLS(ca, teamB)}}

	codesA := map[int]int{}
	var acceptedA []string
	var codesB []int
	for i := range 30 {
		line := fmt.Sprintf("team-a flood %d", i)
		// team-a claims team-b in the header: the certificate decides.
		code, err := lokiPushTLS(clientA, url, "team-b", line)
		if err != nil {
			t.Fatal(err)
		}
		codesA[code]++
		if code == http.StatusNoContent {
			acceptedA = append(acceptedA, line)
		}
		if i%15 == 0 {
			code, err := lokiPushTLS(clientB, url, "team-b", fmt.Sprintf("team-b line %d", i))
			if err != nil {
				t.Fatal(err)
			}
			codesB = append(codesB, code)
		}
	}
	t.Logf("team-a: %v; team-b: %v", codesA, codesB)
	if codesA[http.StatusTooManyRequests] == 0 {
		t.Fatalf("team-a's flood was never refused: %v", codesA)
	}
	for _, c := range codesB {
		if c != http.StatusNoContent {
			t.Errorf("team-b was refused during team-a's flood: %v", codesB)
		}
	}
	harness.Eventually(t, 20*time.Second, func() bool {
		got := loki.LinesByTenant()
		return len(got["team-b"]) == len(codesB) && len(got["team-a"]) == len(acceptedA)
	}, "Loki lines by X-Scope-OrgID: %v; want %d for team-b, %d for team-a", loki.LinesByTenant(), len(codesB), len(acceptedA))
	for _, st := range loki.Streams() {
		for _, line := range st.Lines {
			if !strings.HasPrefix(line, st.Tenant+" ") {
				t.Errorf("line %q reached Loki under X-Scope-OrgID %q", line, st.Tenant)
			}
		}
	}
}
