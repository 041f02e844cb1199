package chaos

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/obsd-dev/obsd/e2e/chaos/load"
	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
)

// perClientRate is what obsd accepts from each client, in requests per
// second, and perClientBurst the bucket's size; the abusive client sends
// five times that rate.
const (
	perClientRate  = 20
	perClientBurst = 20
)

const overloadRateLimit = `    key: header:X-Scope-OrgID
    default: {rate: 20, burst: 20}
    max_label_clients: 20
`

// overloadSLO counts every server span of service checkout.
const overloadSLO = `version: obsd/v1
slos:
  - name: checkout-availability
    service: checkout
    objective: 99
    period: 1h
    sli:
      spans:
        bad: {status_error: true, http_5xx: true}
`

const sloConnector = `
connectors:
  slo:
    slos: ["{{DIR}}/slo.yaml"]
    evaluation_interval: 1s
    state:
      directory: "{{DIR}}/slo-state"
      snapshot_interval: 1s
`

// TestOverload: an abusive client sends 5× its rate limit while a polite
// one stays under its own. obsd stays up with its RSS under the memory
// limit, accepts from the abuser no more than its rate over the run plus
// its burst, refuses the rest with RESOURCE_EXHAUSTED + RetryInfo of the
// bucket's refill time (at most 1/rate: 50ms) on gRPC and 429 +
// Retry-After: 1 on HTTP, delivers everything of the polite client, and the
// SLO connector counts exactly the spans obsd accepted.
func TestOverload(t *testing.T) {
	const limitMiB = 256
	const loadFor = 10 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "slo.yaml"), []byte(overloadSLO), 0o600); err != nil {
		t.Fatal(err)
	}
	s := sink.NewOTLP(t)
	p := newPorts(t)
	o := harness.StartInDir(t, dir, config(p, s, options{
		LimitMiB: limitMiB, RateLimit: overloadRateLimit, Connectors: sloConnector, TraceExporters: ", slo",
		Pipelines: "    metrics/slo:\n      receivers: [slo]\n      exporters: [otlp_grpc/traces]\n",
	}))
	dumpOnFailure(t, o)
	mem := watchMemory(o.PID())
	defer mem.Stop()

	conn := dial(t, p.GRPC)
	abuser := load.New(conn, load.Config{Signal: load.Traces, Service: "checkout", BatchSize: 10, Streams: 8,
		Rate: 5 * perClientRate, Metadata: map[string]string{"X-Scope-OrgID": "abuser"}, Timeout: 20 * time.Second})
	polite := load.New(dial(t, p.GRPC), load.Config{Signal: load.Traces, Service: "checkout", BatchSize: 10, Streams: 1,
		Rate: perClientRate / 2, Metadata: map[string]string{"X-Scope-OrgID": "polite"}, Offset: 1 << 40, Timeout: 20 * time.Second})
	lctx, lcancel := context.WithTimeout(ctx, loadFor)
	defer lcancel()
	started := time.Now()
	stop := runLoad(lctx, abuser, polite)
	defer stop()

	// While the abuser is over its limit, look at what each protocol tells it.
	harness.Eventually(t, 10*time.Second, func() bool { return abuser.Stats().Refused > 0 }, "the abusive client was never refused")
	grpcDelay := grpcRefusal(ctx, t, p.GRPC, "abuser")
	httpStatus, retryAfter := httpRefusal(t, p.HTTP, "abuser")
	<-lctx.Done()
	stop()
	ran := time.Since(started)

	rp, _ := waitDelivered(t, s, 60*time.Second, polite, nil)
	ra, _ := waitDelivered(t, s, 60*time.Second, abuser, nil)
	// The SLO counts every span obsd accepted, from both clients (the 20s
	// client timeouts keep "accepted but the answer came too late" out).
	accepted := float64(abuser.Stats().Acked + polite.Stats().Acked)
	var sloEvents float64
	harness.Eventually(t, 30*time.Second, func() bool {
		sloEvents = harness.Sum(scrape(o), "obsd_slo_events_total", map[string]string{"slo": "checkout-availability"})
		return sloEvents == accepted
	}, "the SLO connector counted %v events, want exactly the %v spans obsd accepted", sloEvents, accepted)
	peak := mem.Stop()
	final, err := readMemory(o.PID())
	if err != nil {
		t.Fatalf("read obsd memory: %v", err)
	}
	sa, sp := abuser.Stats(), polite.Stats()
	// The limiter lets a client through at most rate × time + burst; the
	// window is the whole run plus 1s for requests still answered after the
	// load was told to stop.
	const batch = 10
	maxAcked := (int(perClientRate*(ran+time.Second).Seconds()) + perClientBurst) * batch
	refusedShare := float64(sa.Refused) / float64(max(sa.Sent, 1))
	summary(t, "overload", "limit=%d req/s per client, abuser at %d req/s for %s: abuser{sent=%d acked=%d (at most %d) refused=%d (%.0f%%) errors=%v with_retry_info=%d delay=%s..%s} polite{sent=%d acked=%d refused=%d lost=%d} grpc_retry_info=%s http=%d retry_after=%q slo_events=%.0f accepted=%.0f vmhwm=%.0fMiB rss_peak=%.0fMiB limit=%dMiB",
		perClientRate, 5*perClientRate, ran.Round(100*time.Millisecond), sa.Sent, sa.Acked, maxAcked, sa.Refused, 100*refusedShare, sa.Errors,
		sa.Delayed, sa.MinDelay, sa.MaxDelay, sp.Sent, sp.Acked, sp.Refused, rp.Lost,
		grpcDelay, httpStatus, retryAfter, sloEvents, accepted, final.HWM, peak.RSS, limitMiB)

	if !o.Running() {
		t.Fatal("obsd died under overload")
	}
	if sp.Refused != 0 || sp.Acked != sp.Sent || rp.Lost != 0 {
		t.Errorf("the polite client was starved: %+v, lost %d", sp, rp.Lost)
	}
	if ra.Lost != 0 {
		t.Errorf("acknowledged abuser spans lost: %d", ra.Lost)
	}
	// The abuser must really have been over its limit for the figures to
	// mean anything: at least 3x (it aims at 5x).
	if sa.Sent < 3*perClientRate*int(loadFor.Seconds())*batch {
		t.Errorf("the abuser sent only %d spans in %s: the overload was not driven", sa.Sent, ran)
	}
	if sa.Acked > maxAcked {
		t.Errorf("the abuser had %d spans accepted, more than its limit allows (%d req/s for %s + burst %d = %d spans)",
			sa.Acked, perClientRate, ran+time.Second, perClientBurst, maxAcked)
	}
	if sa.Errors[codes.ResourceExhausted.String()] != sa.Failed() || sa.Delayed != sa.Failed() {
		t.Errorf("the abuser's refusals: %v, %d with a RetryInfo; want every one RESOURCE_EXHAUSTED with RetryInfo", sa.Errors, sa.Delayed)
	}
	// RetryInfo is the bucket's exact refill time: one token, 1/rate.
	const refill = time.Second / perClientRate
	if grpcDelay <= 0 || grpcDelay > refill || sa.MinDelay <= 0 || sa.MaxDelay > refill {
		t.Errorf("gRPC RetryInfo delays %s (probe), %s..%s (load), want in (0, %s]", grpcDelay, sa.MinDelay, sa.MaxDelay, refill)
	}
	if httpStatus != http.StatusTooManyRequests || retryAfter != "1" {
		t.Errorf("the HTTP refusal was %d with Retry-After %q, want 429 with Retry-After: 1 (the refill time rounded up to whole seconds)", httpStatus, retryAfter)
	}
	if final.HWM >= limitMiB {
		t.Errorf("obsd's peak RSS %.0f MiB is not under its memory limit %d MiB", final.HWM, limitMiB)
	}
}

// grpcRefusal sends raw gRPC exports as tenant until one is refused, and
// returns the RetryInfo delay of the refusal (0 when none).
func grpcRefusal(ctx context.Context, t *testing.T, port int, tenant string) time.Duration {
	t.Helper()
	client := ptraceotlp.NewGRPCClient(dial(t, port))
	ctx = metadata.AppendToOutgoingContext(ctx, "X-Scope-OrgID", tenant)
	req := ptraceotlp.NewExportRequestFromTraces(ptrace.NewTraces())
	for range 50 {
		_, err := client.Export(ctx, req)
		st := status.Convert(err)
		if st.Code() != codes.ResourceExhausted {
			continue
		}
		if d, ok := load.RetryDelay(st); ok {
			return d
		}
		t.Errorf("RESOURCE_EXHAUSTED without RetryInfo: %v", st)
		return 0
	}
	t.Errorf("50 gRPC exports as %s: none refused", tenant)
	return 0
}

// httpRefusal posts empty OTLP/HTTP exports as tenant until one is
// refused, and returns the status and Retry-After of the last answer.
func httpRefusal(t *testing.T, port int, tenant string) (int, string) {
	t.Helper()
	body, err := ptraceotlp.NewExportRequestFromTraces(ptrace.NewTraces()).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	code, retryAfter := 0, ""
	for range 50 {
		req, err := http.NewRequest(http.MethodPost, fmt.Sprintf("http://127.0.0.1:%d/v1/traces", port), bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-protobuf")
		req.Header.Set("X-Scope-OrgID", tenant)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST /v1/traces: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		code, retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
		if code == http.StatusTooManyRequests {
			break
		}
	}
	return code, retryAfter
}
