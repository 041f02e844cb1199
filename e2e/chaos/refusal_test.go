package chaos

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/grafana/loki/pkg/push"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"golang.org/x/sys/unix"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/obsd-dev/obsd/e2e/chaos/load"
	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
	"github.com/obsd-dev/obsd/internal/retryhint"
)

// refusal is what one request was answered, on any protocol.
type refusal struct {
	// Code is the gRPC code, or the HTTP status as text.
	Code string
	// Delay is the RetryInfo delay (gRPC, or the OTLP/HTTP status body);
	// HasDelay says whether there was one.
	Delay    time.Duration
	HasDelay bool
	// RetryAfter is the HTTP Retry-After header.
	RetryAfter string
}

func (r refusal) String() string {
	return fmt.Sprintf("%s retry_info=%s(%v) retry_after=%q", r.Code, r.Delay, r.HasDelay, r.RetryAfter)
}

// oneSpanRequest is an OTLP export request of one span.
func oneSpanRequest() ptraceotlp.ExportRequest {
	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName("refused?")
	return ptraceotlp.NewExportRequestFromTraces(td)
}

// grpcExport sends one span over OTLP/gRPC (as tenant when not empty).
func grpcExport(ctx context.Context, t *testing.T, port int, tenant string) refusal {
	t.Helper()
	if tenant != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "X-Scope-OrgID", tenant)
	}
	_, err := ptraceotlp.NewGRPCClient(dial(t, port)).Export(ctx, oneSpanRequest())
	st := status.Convert(err)
	d, ok := load.RetryDelay(st)
	return refusal{Code: st.Code().String(), Delay: d, HasDelay: ok}
}

// httpExport posts one span over OTLP/HTTP protobuf (as tenant when not
// empty) and reads the RetryInfo of the google.rpc.Status body.
func httpExport(t *testing.T, port int, tenant string) refusal {
	t.Helper()
	body, err := oneSpanRequest().MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/v1/traces", port), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	if tenant != "" {
		req.Header.Set("X-Scope-OrgID", tenant)
	}
	return doHTTP(t, req, true)
}

// lokiPush pushes one line, protobuf+snappy, to lokipush.
func lokiPush(t *testing.T, port int) refusal {
	t.Helper()
	data, err := (&push.PushRequest{Streams: []push.Stream{{Labels: `{job="refusal"}`,
		Entries: []push.Entry{{Timestamp: time.Now(), Line: "refused?"}}}}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/loki/api/v1/push", port), bytes.NewReader(snappy.Encode(nil, data)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	return doHTTP(t, req, false)
}

func doHTTP(t *testing.T, req *http.Request, otlpBody bool) refusal {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", req.URL, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	r := refusal{Code: strconv.Itoa(resp.StatusCode), RetryAfter: resp.Header.Get("Retry-After")}
	if otlpBody && resp.StatusCode != http.StatusOK {
		var sp spb.Status
		if err := proto.Unmarshal(data, &sp); err == nil {
			r.Delay, r.HasDelay = load.RetryDelay(status.FromProto(&sp))
		}
	}
	return r
}

// pipelineRefusal is how every pipeline refusal must be answered: gRPC
// UNAVAILABLE with RetryInfo, HTTP 503 with Retry-After (and the status
// body's RetryInfo on OTLP/HTTP), all of retryhint.PipelineDelay.
var (
	wantGRPCRefusal = refusal{Code: codes.Unavailable.String(), Delay: retryhint.PipelineDelay, HasDelay: true}
	wantHTTPRefusal = refusal{Code: "503", Delay: retryhint.PipelineDelay, HasDelay: true,
		RetryAfter: strconv.Itoa(int(retryhint.PipelineDelay / time.Second))}
	wantLokiRefusal = refusal{Code: "503", RetryAfter: "1"}
)

// TestMemoryLimitRefusalsCarryARetryDelay runs obsd with a memory_limiter
// whose limit (5 MiB, soft limit 4 MiB) is under obsd's own heap, so that
// it refuses everything once it has looked at memory; each protocol must
// say so in a way clients retry later: OTLP/gRPC UNAVAILABLE with a 1s
// RetryInfo, OTLP/HTTP 503 with Retry-After: 1 and the RetryInfo in its
// status body, lokipush 503 with Retry-After: 1. Nothing refused reaches
// the backend.
func TestMemoryLimitRefusalsCarryARetryDelay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s := sink.NewOTLP(t)
	p := newPorts(t)
	o := harness.StartInDir(t, t.TempDir(), config(p, s, options{LimitMiB: 5}))
	dumpOnFailure(t, o)

	// The limiter looks at memory every check_interval (1s): what it took
	// before its first look is accepted and delivered.
	accepted := 0
	gr := firstRefusal(t, 20*time.Second, func() refusal {
		r := grpcExport(ctx, t, p.GRPC, "")
		if r.Code == codes.OK.String() {
			accepted++
		}
		return r
	})
	hr := firstRefusal(t, 10*time.Second, func() refusal { return httpExport(t, p.HTTP, "") })
	lr := firstRefusal(t, 10*time.Second, func() refusal { return lokiPush(t, p.Loki) })
	refused := harness.Sum(scrape(o), "otelcol_receiver_refused_spans", nil)
	harness.Eventually(t, 10*time.Second, func() bool { return s.SpanCount() >= accepted },
		"%d spans accepted before the limiter's first look, %d delivered", accepted, s.SpanCount())
	summary(t, "memorylimit", "limit_mib=5: otlp_grpc{%s} otlp_http{%s} lokipush{%s} accepted_before_first_check=%d receiver_refused_spans=%.0f sink_spans=%d sink_logs=%d",
		gr, hr, lr, accepted, refused, s.SpanCount(), s.LogRecordCount())
	if gr != wantGRPCRefusal {
		t.Errorf("OTLP/gRPC refusal: %s, want %s", gr, wantGRPCRefusal)
	}
	if hr != wantHTTPRefusal {
		t.Errorf("OTLP/HTTP refusal: %s, want %s", hr, wantHTTPRefusal)
	}
	if lr != wantLokiRefusal {
		t.Errorf("lokipush refusal: %s, want %s", lr, wantLokiRefusal)
	}
	if refused < 2 {
		t.Errorf("otelcol_receiver_refused_spans = %v, want the gRPC and HTTP refusals counted", refused)
	}
	if s.SpanCount() != accepted || s.LogRecordCount() != 0 {
		t.Errorf("the backend got %d spans and %d logs, want only the %d spans accepted before the first refusal",
			s.SpanCount(), s.LogRecordCount(), accepted)
	}
}

// firstRefusal calls send until it is answered with something else than
// OK (or 200/204), and returns that answer.
func firstRefusal(t *testing.T, timeout time.Duration, send func() refusal) refusal {
	t.Helper()
	var r refusal
	harness.Eventually(t, timeout, func() bool {
		r = send()
		return r.Code != codes.OK.String() && r.Code != "200" && r.Code != "204"
	}, "never refused")
	return r
}

// TestFullDiskRefusalsCarryARetryDelay fills the queue's "disk": with the
// backend down, obsd queues on disk; then the queue files may no longer
// grow (RLIMIT_FSIZE set on the running obsd at their current size, so a
// write past it fails with EFBIG as a full file system fails with ENOSPC).
// What no longer fits is refused with UNAVAILABLE + RetryInfo (gRPC) and
// 503 + Retry-After (HTTP); once the disk has room and the backend is back,
// every acknowledged item arrives.
func TestFullDiskRefusalsCarryARetryDelay(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := sink.NewOTLP(t)
	p := newPorts(t)
	o := harness.StartInDir(t, t.TempDir(), config(p, s, options{}))
	dumpOnFailure(t, o)
	queueDir := filepath.Join(o.Dir, "queue")
	s.Fail(codes.Unavailable)

	conn := dial(t, p.GRPC)
	traces := load.New(conn, load.Config{Signal: load.Traces, BatchSize: 100, Streams: 2, Rate: 40})
	stop := runLoad(ctx, traces)
	defer stop()
	harness.Eventually(t, 30*time.Second, func() bool { return traces.Stats().Acked >= 2000 }, "obsd did not queue spans while the backend was down")

	limit := largestFile(t, queueDir)
	setFileSizeLimit(t, o.PID(), uint64(limit))
	full := time.Now()
	harness.Eventually(t, 60*time.Second, func() bool { return traces.Stats().Failed() >= 5 },
		"the queue files could not grow past %d bytes, yet obsd refused nothing (stats %+v)", limit, traces.Stats())
	refusedAfter := time.Since(full)
	// A small request may still fit in the pages the file has free: send
	// until one does not.
	hr := firstRefusal(t, 10*time.Second, func() refusal { return httpExport(t, p.HTTP, "") })
	gr := firstRefusal(t, 10*time.Second, func() refusal { return grpcExport(ctx, t, p.GRPC, "") })
	stop()
	stFull := traces.Stats()
	enqueueFailed := harness.Sum(scrape(o), "otelcol_exporter_enqueue_failed_spans", nil)

	setFileSizeLimit(t, o.PID(), unix.RLIM_INFINITY)
	s.Fail(codes.OK)
	rt, _ := waitDelivered(t, s, 60*time.Second, traces, nil)
	summary(t, "fulldisk", "queue files held at %dB: refused after %s; traces{%s} client_errors=%v with_retry_info=%d delay=%s..%s otlp_http{%s} otlp_grpc{%s} enqueue_failed_spans=%.0f",
		limit, refusedAfter.Round(100*time.Millisecond), rt, stFull.Errors, stFull.Delayed, stFull.MinDelay, stFull.MaxDelay, hr, gr, enqueueFailed)

	if rt.Lost != 0 {
		t.Errorf("acknowledged spans lost when the disk was full: %d (first %v)", rt.Lost, rt.FirstLost)
	}
	if stFull.Delayed != stFull.Failed() || stFull.MinDelay != retryhint.PipelineDelay || stFull.MaxDelay != retryhint.PipelineDelay {
		t.Errorf("of %d refused requests %d carried a RetryInfo, delays %s..%s; want all, of %s (errors %v)",
			stFull.Failed(), stFull.Delayed, stFull.MinDelay, stFull.MaxDelay, retryhint.PipelineDelay, stFull.Errors)
	}
	if stFull.Errors[codes.Unavailable.String()] != stFull.Failed() {
		t.Errorf("refusals with a full disk: %v, want only Unavailable", stFull.Errors)
	}
	if hr != wantHTTPRefusal {
		t.Errorf("OTLP/HTTP refusal with a full disk: %s, want %s", hr, wantHTTPRefusal)
	}
	if gr != wantGRPCRefusal {
		t.Errorf("OTLP/gRPC refusal with a full disk: %s, want %s", gr, wantGRPCRefusal)
	}
	if enqueueFailed == 0 {
		t.Errorf("the failed queue writes were not counted in otelcol_exporter_enqueue_failed_spans")
	}
}

// largestFile is the size of the largest regular file under dir.
func largestFile(t *testing.T, dir string) int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() {
			n = max(n, fi.Size())
		}
	}
	if n == 0 {
		t.Fatalf("no queue file in %s", dir)
	}
	return n
}

// setFileSizeLimit sets the soft RLIMIT_FSIZE of process pid (its hard
// limit stays, so it can be lifted again without privileges). Go programs
// ignore SIGXFSZ, so a write past it fails with EFBIG.
func setFileSizeLimit(t *testing.T, pid int, bytes uint64) {
	t.Helper()
	var cur unix.Rlimit
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, nil, &cur); err != nil {
		t.Fatalf("prlimit RLIMIT_FSIZE of obsd: %v", err)
	}
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: min(bytes, cur.Max), Max: cur.Max}, nil); err != nil {
		t.Fatalf("prlimit RLIMIT_FSIZE on obsd: %v", err)
	}
}
