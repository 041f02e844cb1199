// Package load is the chaos suite's load generator: raw OTLP gRPC clients
// that send batches of uniquely numbered spans or log records over a few
// concurrent streams and record which batches the server acknowledged, and
// the accounting that compares what was acknowledged with what a sink
// received (lost = acknowledged but never received; duplicates = received
// more than once).
//
// Item number n of a run is batch n/BatchSize, position n%BatchSize. Spans
// and log records carry it in the int attribute SeqKey.
package load

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"golang.org/x/time/rate"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// SeqKey is the attribute holding an item's number.
const SeqKey = "chaos.seq"

// Signal is what a generator sends.
type Signal int

// The signals a generator can send.
const (
	Traces Signal = iota
	Logs
)

func (s Signal) String() string {
	if s == Logs {
		return "logs"
	}
	return "traces"
}

// Config says what to send, how fast and how long.
type Config struct {
	Signal Signal
	// Service is the resource's service.name ("chaos" when empty).
	Service string
	// BatchSize is the number of items per request (100 when zero).
	BatchSize int
	// Streams is the number of concurrent senders (1 when zero).
	Streams int
	// Rate is requests per second over all streams; zero sends as fast as
	// acknowledgements come back.
	Rate float64
	// Batches stops the run after this many requests; zero runs until the
	// context is done.
	Batches int
	// Timeout bounds each request (5s when zero).
	Timeout time.Duration
	// Metadata is sent with every request (e.g. a tenant header).
	Metadata map[string]string
	// Offset is the number of the first item, so that generators sharing a
	// sink number their items apart.
	Offset int64
}

// outcome of one batch.
const (
	pending uint8 = iota
	acked
	refused
)

// Generator sends numbered batches on one gRPC connection. Run it once.
type Generator struct {
	cfg   Config
	conn  *grpc.ClientConn
	next  atomic.Int64
	mu    sync.Mutex
	state []uint8 // per batch
	codes map[codes.Code]int
	// delayed counts the failed requests whose status carried a RetryInfo
	// detail; minDelay and maxDelay bound the delays they asked for.
	delayed            int
	minDelay, maxDelay time.Duration
}

// New returns a generator for cfg on conn.
func New(conn *grpc.ClientConn, cfg Config) *Generator {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 100
	}
	if cfg.Streams <= 0 {
		cfg.Streams = 1
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Service == "" {
		cfg.Service = "chaos"
	}
	return &Generator{cfg: cfg, conn: conn, codes: map[codes.Code]int{}}
}

// Run sends until ctx is done or Config.Batches requests were sent, and
// returns once every stream has its last answer (or timeout).
func (g *Generator) Run(ctx context.Context) {
	var lim *rate.Limiter
	if g.cfg.Rate > 0 {
		lim = rate.NewLimiter(rate.Limit(g.cfg.Rate), 1)
	}
	if len(g.cfg.Metadata) > 0 {
		ctx = metadata.NewOutgoingContext(ctx, metadata.New(g.cfg.Metadata))
	}
	var wg sync.WaitGroup
	for s := range g.cfg.Streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.stream(ctx, s, lim)
		}()
	}
	wg.Wait()
}

func (g *Generator) stream(ctx context.Context, id int, lim *rate.Limiter) {
	send := g.sender(id)
	for ctx.Err() == nil {
		if lim != nil && lim.Wait(ctx) != nil {
			return
		}
		b := g.next.Add(1) - 1
		if g.cfg.Batches > 0 && b >= int64(g.cfg.Batches) {
			return
		}
		g.grow(b)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.cfg.Timeout)
		err := send(rctx, g.cfg.Offset+b*int64(g.cfg.BatchSize))
		cancel()
		g.record(b, err)
		if err != nil && lim == nil {
			// Do not spin while the server is down.
			select {
			case <-ctx.Done():
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}

// sender returns a function that sends the batch starting at first. It
// reuses one request per stream (Export marshals before it returns) and
// only rewrites the numbers, ids and timestamps in place.
func (g *Generator) sender(stream int) func(context.Context, int64) error {
	if g.cfg.Signal == Logs {
		ld := newLogs(g.cfg.Service, g.cfg.BatchSize)
		client := plogotlp.NewGRPCClient(g.conn)
		req := plogotlp.NewExportRequestFromLogs(ld)
		return func(ctx context.Context, first int64) error {
			fillLogs(ld, first, time.Now())
			_, err := client.Export(ctx, req)
			return err
		}
	}
	td := newTraces(g.cfg.Service, g.cfg.BatchSize)
	client := ptraceotlp.NewGRPCClient(g.conn)
	req := ptraceotlp.NewExportRequestFromTraces(td)
	return func(ctx context.Context, first int64) error {
		fillTraces(td, stream, first, time.Now())
		_, err := client.Export(ctx, req)
		return err
	}
}

// newLogs is a batch of n INFO log records of service.
func newLogs(service string, n int) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", service)
	recs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for range n {
		r := recs.AppendEmpty()
		r.SetSeverityNumber(plog.SeverityNumberInfo)
		r.Body().SetStr("chaos log record")
		r.Attributes().PutInt(SeqKey, -1)
	}
	return ld
}

// fillLogs numbers the records of a newLogs batch from first.
func fillLogs(ld plog.Logs, first int64, now time.Time) {
	ts := pcommon.NewTimestampFromTime(now)
	recs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	for i := range recs.Len() {
		r := recs.At(i)
		r.SetTimestamp(ts)
		setSeq(r.Attributes(), first+int64(i))
	}
}

// setSeq sets SeqKey in place (no allocation when it is already there).
func setSeq(attrs pcommon.Map, seq int64) {
	if v, ok := attrs.Get(SeqKey); ok {
		v.SetInt(seq)
		return
	}
	attrs.PutInt(SeqKey, seq)
}

// newTraces is a batch of n server spans "POST /pay" of service.
func newTraces(service string, n int) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", service)
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for range n {
		sp := spans.AppendEmpty()
		sp.SetName("POST /pay")
		sp.SetKind(ptrace.SpanKindServer)
		sp.Attributes().PutStr("http.route", "/pay")
		sp.Attributes().PutInt(SeqKey, -1)
	}
	return td
}

// fillTraces numbers the spans of a newTraces batch from first, with one
// trace id per batch and the number as span id.
func fillTraces(td ptrace.Traces, stream int, first int64, now time.Time) {
	start, end := pcommon.NewTimestampFromTime(now.Add(-time.Millisecond)), pcommon.NewTimestampFromTime(now)
	var tid [16]byte
	binary.BigEndian.PutUint64(tid[:8], uint64(stream)+1)
	binary.BigEndian.PutUint64(tid[8:], uint64(first)+1)
	spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	for i := range spans.Len() {
		seq := first + int64(i)
		var sid [8]byte
		binary.BigEndian.PutUint64(sid[:], uint64(seq)+1)
		sp := spans.At(i)
		sp.SetTraceID(tid)
		sp.SetSpanID(sid)
		sp.SetStartTimestamp(start)
		sp.SetEndTimestamp(end)
		setSeq(sp.Attributes(), seq)
	}
}

func (g *Generator) grow(b int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for int64(len(g.state)) <= b {
		g.state = append(g.state, pending)
	}
}

func (g *Generator) record(b int64, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err == nil {
		g.state[b] = acked
		return
	}
	st, _ := status.FromError(err)
	g.codes[st.Code()]++
	if d, ok := RetryDelay(st); ok {
		if g.delayed == 0 || d < g.minDelay {
			g.minDelay = d
		}
		g.maxDelay = max(g.maxDelay, d)
		g.delayed++
	}
	if errors.Is(err, context.DeadlineExceeded) || st.Code() == codes.DeadlineExceeded {
		return // unknown: the server may have taken it
	}
	if st.Code() == codes.Unavailable {
		return // unknown: the connection may have dropped after the server took it
	}
	g.state[b] = refused
}

// Stats is what a run sent, in items.
type Stats struct {
	Sent, Acked, Refused int
	// Errors counts failed requests by gRPC code name.
	Errors map[string]int
	// Delayed counts the failed requests whose status carried a RetryInfo
	// detail, and MinDelay and MaxDelay bound the delays they asked for.
	Delayed            int
	MinDelay, MaxDelay time.Duration
	// At is when the snapshot was taken.
	At time.Time
}

// Failed is the number of requests that failed, whatever the code.
func (s Stats) Failed() int {
	n := 0
	for _, c := range s.Errors {
		n += c
	}
	return n
}

// RetryDelay is the delay of st's RetryInfo detail, if it has one.
func RetryDelay(st *status.Status) (time.Duration, bool) {
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.GetRetryDelay().AsDuration(), true
		}
	}
	return 0, false
}

// Stats is a snapshot of the run so far.
func (g *Generator) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := Stats{Errors: map[string]int{}, Delayed: g.delayed, MinDelay: g.minDelay, MaxDelay: g.maxDelay, At: time.Now()}
	for _, st := range g.state {
		s.Sent += g.cfg.BatchSize
		switch st {
		case acked:
			s.Acked += g.cfg.BatchSize
		case refused:
			s.Refused += g.cfg.BatchSize
		}
	}
	for c, n := range g.codes {
		s.Errors[c.String()] += n
	}
	return s
}

// Acked reports whether item seq was in an acknowledged batch.
func (g *Generator) Acked(seq int64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if seq < g.cfg.Offset {
		return false
	}
	b := (seq - g.cfg.Offset) / int64(g.cfg.BatchSize)
	return b < int64(len(g.state)) && g.state[b] == acked
}
