// Package load is the chaos suite's load generator: raw OTLP gRPC clients
// that send batches of uniquely numbered spans or log records over a few
// concurrent streams and record which batches the server acknowledged, and
// the accounting that compares what was acknowledged with what a sink
// received (lost = acknowledged but never received; duplicates = received
// more than once).
//
// Item number n of a run is batch n/BatchSize, position n%BatchSize. Spans
// and log records carry it in the int attribute SeqKey; log bodies also
// say "seq <n>".
package load

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"golang.org/x/time/rate"
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
// reuses one request per stream: Export marshals before it returns.
func (g *Generator) sender(stream int) func(context.Context, int64) error {
	n := g.cfg.BatchSize
	if g.cfg.Signal == Logs {
		ld := plog.NewLogs()
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("service.name", g.cfg.Service)
		recs := rl.ScopeLogs().AppendEmpty().LogRecords()
		for range n {
			recs.AppendEmpty().SetSeverityNumber(plog.SeverityNumberInfo)
		}
		client := plogotlp.NewGRPCClient(g.conn)
		req := plogotlp.NewExportRequestFromLogs(ld)
		return func(ctx context.Context, first int64) error {
			now := pcommon.NewTimestampFromTime(time.Now())
			for i := range n {
				r := recs.At(i)
				r.SetTimestamp(now)
				r.Attributes().PutInt(SeqKey, first+int64(i))
				r.Body().SetStr(fmt.Sprintf("seq %d", first+int64(i)))
			}
			_, err := client.Export(ctx, req)
			return err
		}
	}
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.name", g.cfg.Service)
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	for range n {
		sp := spans.AppendEmpty()
		sp.SetName("POST /pay")
		sp.SetKind(ptrace.SpanKindServer)
		sp.Attributes().PutStr("http.route", "/pay")
	}
	client := ptraceotlp.NewGRPCClient(g.conn)
	req := ptraceotlp.NewExportRequestFromTraces(td)
	return func(ctx context.Context, first int64) error {
		now := time.Now()
		var tid [16]byte
		binary.BigEndian.PutUint64(tid[:8], uint64(stream)+1)
		binary.BigEndian.PutUint64(tid[8:], uint64(first)+1)
		for i := range n {
			seq := first + int64(i)
			var sid [8]byte
			binary.BigEndian.PutUint64(sid[:], uint64(seq)+1)
			sp := spans.At(i)
			sp.SetTraceID(tid)
			sp.SetSpanID(sid)
			sp.SetStartTimestamp(pcommon.NewTimestampFromTime(now.Add(-time.Millisecond)))
			sp.SetEndTimestamp(pcommon.NewTimestampFromTime(now))
			sp.Attributes().PutInt(SeqKey, seq)
		}
		_, err := client.Export(ctx, req)
		return err
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
}

// Stats is a snapshot of the run so far.
func (g *Generator) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := Stats{Errors: map[string]int{}}
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
