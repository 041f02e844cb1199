package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	grpcgzip "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
	"github.com/obsd-dev/obsd/internal/testcerts"
)

// bearerConfig is obsd whose OTLP receivers require the bearer token in
// tokenFile (bearertokenauth/in, re-read when the file changes) and whose
// exporter sends the token in outFile to a TLS sink (bearertokenauth/out).
func bearerConfig(p ports, s *sink.OTLP, sinkCA *testcerts.CA, tokenFile, outFile string) harness.Config {
	yaml := fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
        auth: {authenticator: bearertokenauth/in}
      http:
        endpoint: 127.0.0.1:%d
        auth: {authenticator: bearertokenauth/in}
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 512
exporters:
  otlp_grpc:
    endpoint: %s
    tls:
      ca_file: %s
    auth: {authenticator: bearertokenauth/out}
    sending_queue:
      batch:
        flush_timeout: 50ms
extensions:
  bearertokenauth/in:
    filename: %s
  bearertokenauth/out:
    filename: %s
  health_check:
    endpoint: 127.0.0.1:%d
service:
  extensions: [health_check, bearertokenauth/in, bearertokenauth/out]
  telemetry:
    logs:
      level: debug
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
      processors: [memory_limiter]
      exporters: [otlp_grpc]
`, p.OTLPGRPC, p.OTLPHTTP, s.GRPCAddr, sinkCA.CertFile, tokenFile, outFile, p.Health, p.Metrics)
	return harness.Config{YAML: yaml, HealthPort: p.Health, MetricsPort: p.Metrics}
}

// traceRequest is one span named name, as an OTLP export request.
func traceRequest(name string) ptraceotlp.ExportRequest {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", "security-e2e")
	sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetName(name)
	sp.SetTraceID([16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	sp.SetSpanID([8]byte{1, 2, 3, 4, 5, 6, 7, 8})
	sp.SetStartTimestamp(1)
	sp.SetEndTimestamp(2)
	return ptraceotlp.NewExportRequestFromTraces(td)
}

// postTracesAuth posts one span over OTLP/HTTP protobuf with the given
// Authorization header ("" for none) and returns the status code.
func postTracesAuth(t *testing.T, url, authz, span string) int {
	t.Helper()
	body, err := traceRequest(span).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// exportTracesGRPC sends one span over OTLP/gRPC with the given
// authorization metadata ("" for none) and returns the status code.
func exportTracesGRPC(t *testing.T, addr, authz, span string) codes.Code {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if authz != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", authz)
	}
	_, err = ptraceotlp.NewGRPCClient(conn).Export(ctx, traceRequest(span))
	return status.Code(err)
}

// spanNames is the set of span names the sink holds.
func spanNames(s *sink.OTLP) map[string]bool {
	out := map[string]bool{}
	for name := range spanTenants(s) {
		out[name] = true
	}
	return out
}

// TestBearerToken checks token authentication on both OTLP receivers, a
// token rotation through the file without a restart, the exporter's own
// token, and that no token is ever printed.
func TestBearerToken(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	const token1, token2, outToken = "in-token-one-5f1c9e", "in-token-two-8d2a71", "out-token-sink-3b7e44"
	if err := os.WriteFile(tokenFile, []byte(token1), 0o600); err != nil {
		t.Fatal(err)
	}
	outFile := filepath.Join(dir, "out-token")
	if err := os.WriteFile(outFile, []byte(outToken), 0o600); err != nil {
		t.Fatal(err)
	}
	sinkCA := testcerts.NewCA(t, "backend")
	s := sink.NewOTLPWith(t, sink.Options{
		TLS:         &tls.Config{Certificates: []tls.Certificate{sinkCA.Server(t, testcerts.Options{}).TLS}, MinVersion: tls.VersionTLS12},
		BearerToken: outToken,
	})
	p := newPorts(t)
	o := harness.Start(t, bearerConfig(p, s, sinkCA, tokenFile, outFile))
	httpURL := fmt.Sprintf("http://127.0.0.1:%d/v1/traces", p.OTLPHTTP)
	grpcAddr := fmt.Sprintf("127.0.0.1:%d", p.OTLPGRPC)

	t.Run("without a token HTTP gets 401 and gRPC UNAUTHENTICATED", func(t *testing.T) {
		if code := postTracesAuth(t, httpURL, "", "http-no-token"); code != http.StatusUnauthorized {
			t.Errorf("HTTP without a token: %d, want 401", code)
		}
		if code := postTracesAuth(t, httpURL, "Bearer wrong", "http-wrong-token"); code != http.StatusUnauthorized {
			t.Errorf("HTTP with a wrong token: %d, want 401", code)
		}
		if code := exportTracesGRPC(t, grpcAddr, "", "grpc-no-token"); code != codes.Unauthenticated {
			t.Errorf("gRPC without a token: %v, want Unauthenticated", code)
		}
	})
	t.Run("with the token both deliver, and the exporter's token reaches the sink", func(t *testing.T) {
		if code := postTracesAuth(t, httpURL, "Bearer "+token1, "http-token"); code != http.StatusOK {
			t.Errorf("HTTP with the token: %d, want 200", code)
		}
		if code := exportTracesGRPC(t, grpcAddr, "Bearer "+token1, "grpc-token"); code != codes.OK {
			t.Errorf("gRPC with the token: %v, want OK", code)
		}
		harness.Eventually(t, 20*time.Second, func() bool {
			n := spanNames(s)
			return n["http-token"] && n["grpc-token"]
		}, "authenticated spans did not reach the sink: %v", spanNames(s))
		if n := s.Unauthorized(); n != 0 {
			t.Errorf("the sink refused %d exports from obsd: the exporter's token is wrong", n)
		}
	})
	t.Run("a rotated token file takes effect without a restart", func(t *testing.T) {
		if err := os.WriteFile(tokenFile, []byte(token2), 0o600); err != nil {
			t.Fatal(err)
		}
		harness.Eventually(t, 20*time.Second, func() bool {
			return postTracesAuth(t, httpURL, "Bearer "+token2, "http-rotated") == http.StatusOK
		}, "the new token was never accepted")
		if code := postTracesAuth(t, httpURL, "Bearer "+token1, "http-old-token"); code != http.StatusUnauthorized {
			t.Errorf("the old token after rotation: %d, want 401", code)
		}
		if code := exportTracesGRPC(t, grpcAddr, "Bearer "+token2, "grpc-rotated"); code != codes.OK {
			t.Errorf("gRPC with the rotated token: %v", code)
		}
	})

	harness.Eventually(t, 20*time.Second, func() bool { return spanNames(s)["grpc-rotated"] }, "rotated spans missing: %v", spanNames(s))
	names := spanNames(s)
	for _, refused := range []string{"http-no-token", "http-wrong-token", "grpc-no-token", "http-old-token"} {
		if names[refused] {
			t.Errorf("span %q was refused but reached the sink", refused)
		}
	}
	out := o.Output()
	for _, tok := range []string{token1, token2, outToken} {
		if strings.Contains(out, tok) {
			t.Errorf("obsd's output (debug level) contains a bearer token")
		}
	}
}

// limitsConfig is obsd with small body limits and a short header timeout
// on OTLP/HTTP and lokipush.
func limitsConfig(p ports, s *sink.OTLP, lokiPort int) harness.Config {
	limits := `
        max_request_body_size: 4194304
        read_header_timeout: 2s
        read_timeout: 10s
        write_timeout: 10s
        keepalive:
          idle_timeout: 30s`
	yaml := fmt.Sprintf(`
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
        max_recv_msg_size_mib: 4
      http:
        endpoint: 127.0.0.1:%d%s
        middlewares: [{id: oversize}]
  lokipush:
    endpoint: 127.0.0.1:%d%s
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 512
exporters:
  otlp_grpc:
    endpoint: %s
    tls:
      insecure: true
    sending_queue:
      batch:
        flush_timeout: 50ms
extensions:
  oversize:
  health_check:
    endpoint: 127.0.0.1:%d
service:
  extensions: [health_check, oversize]
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
      processors: [memory_limiter]
      exporters: [otlp_grpc]
    logs:
      receivers: [lokipush]
      processors: [memory_limiter]
      exporters: [otlp_grpc]
`, p.OTLPGRPC, p.OTLPHTTP, limits, lokiPort, indent(limits, -4), s.GRPCAddr, p.Health, p.Metrics)
	return harness.Config{YAML: yaml, HealthPort: p.Health, MetricsPort: p.Metrics}
}

// gzipZeros is size bytes of zeros, gzip-compressed (200 MiB → ~200 KiB).
func gzipZeros(t *testing.T, size int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for written := 0; written < size; written += len(chunk) {
		if _, err := zw.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// vmHWMKiB is the peak resident set size of pid, from /proc.
func vmHWMKiB(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read /proc status: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "VmHWM:" {
			n, err := strconv.Atoi(f[1])
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// postBomb posts body with Content-Encoding: gzip and returns the status
// and the start of the answer.
func postBomb(t *testing.T, url, contentType string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Content-Encoding", "gzip")
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("post bomb: %v", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return resp.StatusCode, string(msg)
}

// TestZipBombIsRefusedWithFlatMemory sends a gzip of 200 MiB of zeros
// (~200 KiB on the wire) to OTLP/HTTP and lokipush, and a gzip-compressed
// 32 MiB gRPC message to OTLP/gRPC: each is refused once the decompressed
// body passes the 4 MiB limit (413, 413, RESOURCE_EXHAUSTED), obsd's peak
// RSS does not grow by anything near the bombs' size, and a good client
// still gets through.
func TestZipBombIsRefusedWithFlatMemory(t *testing.T) {
	s := sink.NewOTLP(t)
	p := newPorts(t)
	lokiPort := harness.FreePort(t)
	o := harness.Start(t, limitsConfig(p, s, lokiPort))
	bomb := gzipZeros(t, 200<<20)
	t.Logf("bomb: %d bytes compressed, 200 MiB decompressed", len(bomb))
	before := vmHWMKiB(t, o.PID())

	httpURL := fmt.Sprintf("http://127.0.0.1:%d/v1/traces", p.OTLPHTTP)
	code, msg := postBomb(t, httpURL, "application/x-protobuf", bomb)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(msg, "too large") {
		t.Errorf("OTLP/HTTP zip bomb: %d %q, want 413 naming the size limit", code, msg)
	}
	t.Logf("OTLP/HTTP answered %d %q", code, msg)
	lokiURL := fmt.Sprintf("http://127.0.0.1:%d/loki/api/v1/push", lokiPort)
	if code, msg := postBomb(t, lokiURL, "application/json", bomb); code != http.StatusRequestEntityTooLarge {
		t.Errorf("lokipush zip bomb: %d %q, want 413", code, msg)
	}

	// gRPC: a gzip-compressed message of 32 MiB (a few KiB on the wire)
	// against max_recv_msg_size_mib: 4, which grpc-go checks on the
	// decompressed size.
	if code := exportGzipGRPC(t, fmt.Sprintf("127.0.0.1:%d", p.OTLPGRPC), 32<<20); code != codes.ResourceExhausted {
		t.Errorf("OTLP/gRPC gzip bomb: %v, want ResourceExhausted", code)
	}

	after := vmHWMKiB(t, o.PID())
	t.Logf("VmHWM before %d KiB, after %d KiB", before, after)
	if grown := after - before; grown > 64<<10 {
		t.Errorf("peak RSS grew by %d KiB for a 200 MiB bomb: decompression is not bounded", grown)
	}
	if code := postTracesAuth(t, httpURL, "", "after-the-bomb"); code != http.StatusOK {
		t.Fatalf("a good client after the bombs: %d", code)
	}
	harness.Eventually(t, 20*time.Second, func() bool { return spanNames(s)["after-the-bomb"] }, "the good span did not arrive")
}

// exportGzipGRPC sends one span with a size-byte attribute of zeros,
// gzip-compressed, and returns the status code.
func exportGzipGRPC(t *testing.T, addr string, size int) codes.Code {
	t.Helper()
	req := traceRequest("grpc-bomb")
	req.Traces().ResourceSpans().At(0).Resource().Attributes().PutStr("padding", string(make([]byte, size)))
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = ptraceotlp.NewGRPCClient(conn).Export(ctx, req, grpc.UseCompressor(grpcgzip.Name))
	return status.Code(err)
}

// TestSlowlorisIsCutOff opens a connection that sends its request header
// one byte per second; read_header_timeout (2s) closes it while a normal
// client is served meanwhile.
func TestSlowlorisIsCutOff(t *testing.T) {
	s := sink.NewOTLP(t)
	p := newPorts(t)
	lokiPort := harness.FreePort(t)
	harness.Start(t, limitsConfig(p, s, lokiPort))

	for _, target := range []struct{ name, addr, path string }{
		{"otlp http", fmt.Sprintf("127.0.0.1:%d", p.OTLPHTTP), "/v1/traces"},
		{"lokipush", fmt.Sprintf("127.0.0.1:%d", lokiPort), "/loki/api/v1/push"},
	} {
		t.Run(target.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", target.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			header := "POST " + target.path + " HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 30) + "\r\n\r\n"
			closed := make(chan int, 1)
			go func() {
				// The server closing the connection shows as a read returning.
				_, _ = io.Copy(io.Discard, conn)
				closed <- 1
			}()
			sent := 0
			cut := false
			for sent < len(header) && !cut {
				if _, err := conn.Write([]byte{header[sent]}); err != nil {
					cut = true
					break
				}
				sent++
				if sent == 2 {
					// Others proceed while the slow client holds its connection.
					if code := postTracesAuth(t, fmt.Sprintf("http://127.0.0.1:%d/v1/traces", p.OTLPHTTP), "", "during-"+target.name); code != http.StatusOK {
						t.Errorf("a normal client during the slowloris: %d", code)
					}
				}
				select {
				case <-closed:
					cut = true
				case <-time.After(time.Second):
				}
			}
			if !cut {
				t.Fatalf("the server read the whole %d-byte header sent over %d s: read_header_timeout did not cut the client off", len(header), sent)
			}
			t.Logf("cut off after %d of %d header bytes", sent, len(header))
		})
	}
	harness.Eventually(t, 20*time.Second, func() bool {
		n := spanNames(s)
		return n["during-otlp http"] && n["during-lokipush"]
	}, "spans sent during the slowloris did not arrive: %v", spanNames(s))
}
