package chaos

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/obsd-dev/obsd/e2e/chaos/load"
	"github.com/obsd-dev/obsd/e2e/harness"
	"github.com/obsd-dev/obsd/e2e/sink"
	"github.com/obsd-dev/obsd/internal/retryhint"
)

// TestQueueFull: with the backend down and a small queue (20 requests per
// exporter), obsd refuses what does not fit, so the client is told and
// keeps the data: nothing acknowledged is lost, the overflow is refused,
// not dropped silently, and counted in otelcol_exporter_enqueue_failed_*.
// Every refusal says when to retry: UNAVAILABLE with a RetryInfo of
// retryhint.PipelineDelay on gRPC, 503 with Retry-After on OTLP/HTTP.
func TestQueueFull(t *testing.T) {
	const queueSize = 20
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := sink.NewOTLP(t)
	p := newPorts(t)
	o := harness.StartInDir(t, t.TempDir(), config(p, s, options{QueueSize: queueSize}))
	dumpOnFailure(t, o)
	s.Fail(codes.Unavailable)

	conn := dial(t, p.GRPC)
	traces := load.New(conn, load.Config{Signal: load.Traces, BatchSize: 100, Streams: 2, Rate: 20})
	stop := runLoad(ctx, traces)
	defer stop()
	var enqueueFailed float64
	harness.Eventually(t, 30*time.Second, func() bool {
		enqueueFailed = harness.Sum(scrape(o), "otelcol_exporter_enqueue_failed_spans", nil)
		st := traces.Stats()
		return enqueueFailed > 0 && st.Acked < st.Sent-1000
	}, "the full queue never refused data (enqueue failures %v)", enqueueFailed)
	hr := firstRefusal(t, 10*time.Second, func() refusal { return httpExport(t, p.HTTP, "") })
	s.Fail(codes.OK)
	stop()

	rt, _ := waitDelivered(t, s, 60*time.Second, traces, nil)
	st := traces.Stats()
	summary(t, "queuefull", "queue_size=%d requests, backend down: traces{%s} enqueue_failed_spans=%.0f client_errors=%v with_retry_info=%d delay=%s..%s otlp_http{%s}",
		queueSize, rt, enqueueFailed, st.Errors, st.Delayed, st.MinDelay, st.MaxDelay, hr)
	if rt.Lost != 0 {
		t.Errorf("acknowledged spans lost with a full queue: %d (first %v)", rt.Lost, rt.FirstLost)
	}
	if st.Failed() == 0 || st.Errors[codes.Unavailable.String()] != st.Failed() {
		t.Errorf("the client was not told UNAVAILABLE that the queue was full: %v", st.Errors)
	}
	if st.Delayed != st.Failed() || st.MinDelay != retryhint.PipelineDelay || st.MaxDelay != retryhint.PipelineDelay {
		t.Errorf("of %d refusals %d carried a RetryInfo, delays %s..%s; want all, of %s",
			st.Failed(), st.Delayed, st.MinDelay, st.MaxDelay, retryhint.PipelineDelay)
	}
	if hr != wantHTTPRefusal {
		t.Errorf("OTLP/HTTP refusal with a full queue: %s, want %s", hr, wantHTTPRefusal)
	}
	// What the client was refused and did not resend never arrives: the
	// receiver answered with an error before anything was queued.
	if rt.Unacked > 0 {
		t.Errorf("%d spans arrived although obsd refused them to the client", rt.Unacked)
	}
}
