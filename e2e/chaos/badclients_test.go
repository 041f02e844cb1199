package chaos

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/obsd-dev/obsd/e2e/chaos/load"
	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// badRepeats is how many times each bad request is sent.
const badRepeats = 20

// rawCodec sends and receives gRPC messages as the bytes given, so that a
// test can put anything on the wire.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return v.([]byte), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// badCase is one kind of bad request and the answers that are clean for it.
type badCase struct {
	name string
	// send sends one bad request and returns its outcome: an HTTP status
	// code or a gRPC code name.
	send func() string
	want []string
}

// TestBadClients: malformed protobuf and JSON, truncated bodies, wrong
// content types and oversize requests, on OTLP/HTTP, OTLP/gRPC and
// lokipush, each get a clean 4xx or gRPC error, obsd never crashes, and
// good clients sending at the same time get all their data through.
func TestBadClients(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := sink.NewOTLP(t)
	p := newPorts(t)
	o := harness.StartInDir(t, t.TempDir(), config(p, s, options{}))
	dumpOnFailure(t, o)

	conn := dial(t, p.GRPC)
	// A generous timeout: on a loaded CI box a slow answer is not a refusal.
	traces := load.New(conn, load.Config{Signal: load.Traces, BatchSize: 100, Streams: 2, Rate: 20, Timeout: 20 * time.Second})
	logs := load.New(conn, load.Config{Signal: load.Logs, BatchSize: 100, Streams: 2, Rate: 20, Timeout: 20 * time.Second})
	stop := runLoad(ctx, traces, logs)
	defer stop()

	cases := badCases(t, p, conn)
	outcomes := make([]map[string]int, len(cases))
	var wg sync.WaitGroup
	for i, c := range cases {
		outcomes[i] = map[string]int{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range badRepeats {
				outcomes[i][c.send()]++
			}
		}()
	}
	wg.Wait()
	// Keep the good clients going a little after the bad ones, then stop.
	acked := traces.Stats().Acked
	harness.Eventually(t, 20*time.Second, func() bool { return traces.Stats().Acked > acked+1000 }, "the good client stalled after the bad requests")
	stop()

	rt, rl := waitDelivered(t, s, 60*time.Second, traces, logs)
	var figures []string
	for i, c := range cases {
		figures = append(figures, fmt.Sprintf("%s=%s", strings.ReplaceAll(c.name, " ", "_"), histogram(outcomes[i])))
		for got := range outcomes[i] {
			if !contains(c.want, got) {
				t.Errorf("%s: answered %q (%v), want one of %v", c.name, got, outcomes[i], c.want)
			}
		}
	}
	st, sl := traces.Stats(), logs.Stats()
	summary(t, "badclients", "%d of each: %s good{traces %s; logs %s; errors %v}", badRepeats, strings.Join(figures, " "), rt, rl, st.Errors)
	if !o.Running() {
		t.Fatal("obsd died on bad clients")
	}
	if rt.Lost != 0 || rl.Lost != 0 || st.Acked != st.Sent || sl.Acked != sl.Sent {
		t.Errorf("the good clients did not get all their data through: traces %s errors %v; logs %s errors %v", rt, st.Errors, rl, sl.Errors)
	}
}

func badCases(t *testing.T, p ports, conn *grpc.ClientConn) []badCase {
	otlpURL := fmt.Sprintf("http://127.0.0.1:%d/v1/traces", p.HTTP)
	lokiURL := fmt.Sprintf("http://127.0.0.1:%d/loki/api/v1/push", p.Loki)
	valid := validTraces(t, 200)
	garbage := bytes.Repeat([]byte{0xff}, 64)
	oversize := bytes.Repeat([]byte("x"), 2<<20) // 2 MiB over the 1 MiB limits
	truncated := valid[:len(valid)/2]
	return []badCase{
		{"otlp http malformed protobuf", post(otlpURL, "application/x-protobuf", garbage), []string{"400"}},
		{"otlp http truncated protobuf", post(otlpURL, "application/x-protobuf", truncated), []string{"400"}},
		{"otlp http malformed json", post(otlpURL, "application/json", []byte(`{"resourceSpans":[{"scopeSpans":`)), []string{"400"}},
		{"otlp http wrong content type", post(otlpURL, "text/plain", valid), []string{"415"}},
		{"otlp http oversize", post(otlpURL, "application/x-protobuf", oversize), []string{"413"}},
		{"otlp http body shorter than its content length", shortBody(p.HTTP, "/v1/traces", valid), []string{"400"}},
		{"otlp grpc malformed protobuf", invoke(conn, garbage), []string{codes.InvalidArgument.String(), codes.Internal.String()}},
		{"otlp grpc truncated protobuf", invoke(conn, truncated), []string{codes.InvalidArgument.String(), codes.Internal.String()}},
		{"otlp grpc oversize", invoke(conn, oversize), []string{codes.ResourceExhausted.String()}},
		{"lokipush malformed protobuf", post(lokiURL, "application/x-protobuf", garbage), []string{"400"}},
		{"lokipush malformed json", post(lokiURL, "application/json", []byte(`{"streams":[{"stream":`)), []string{"400"}},
		{"lokipush wrong content type", post(lokiURL, "text/plain", []byte("hello")), []string{"415"}},
		{"lokipush oversize", post(lokiURL, "application/json", oversize), []string{"413"}},
	}
}

// validTraces is an OTLP export request of n spans, as protobuf.
func validTraces(t *testing.T, n int) []byte {
	td := ptrace.NewTraces()
	spans := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans()
	for i := range n {
		sp := spans.AppendEmpty()
		sp.SetName(fmt.Sprintf("bad-client-span-%d", i))
		sp.SetTraceID([16]byte{1, byte(i)})
		sp.SetSpanID([8]byte{1, byte(i)})
	}
	b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func post(url, contentType string, body []byte) func() string {
	return func() string {
		resp, err := http.Post(url, contentType, bytes.NewReader(body))
		if err != nil {
			return "error: " + err.Error()
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return strconv.Itoa(resp.StatusCode)
	}
}

// shortBody sends a request whose Content-Length promises more than the
// body it sends, half-closes the connection and reads the answer.
func shortBody(port int, path string, body []byte) func() string {
	return func() string {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
		if err != nil {
			return "error: " + err.Error()
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\nContent-Length: %d\r\n\r\n", path, len(body)*2)
		_, _ = c.Write(body)
		_ = c.(*net.TCPConn).CloseWrite()
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return "error: " + err.Error()
		}
		resp.Body.Close()
		return strconv.Itoa(resp.StatusCode)
	}
}

func invoke(conn *grpc.ClientConn, body []byte) func() string {
	return func() string {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var out []byte
		err := conn.Invoke(ctx, "/opentelemetry.proto.collector.trace.v1.TraceService/Export", body, &out, grpc.ForceCodec(rawCodec{}))
		return status.Code(err).String()
	}
}

func histogram(m map[string]int) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%s:%d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
