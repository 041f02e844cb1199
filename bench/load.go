package main

import (
	"context"
	"errors"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// rawCodec sends pre-encoded protobuf bytes as they are and does not
// decode the response, so the generator costs a gRPC write per request
// and nothing per item.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	b, ok := v.(*[]byte)
	if !ok {
		return nil, errors.New("rawCodec: want *[]byte")
	}
	return *b, nil
}

func (rawCodec) Unmarshal(_ []byte, v any) error {
	if _, ok := v.(*[]byte); !ok {
		return errors.New("rawCodec: want *[]byte")
	}
	return nil
}

func (rawCodec) Name() string { return "proto" }

// loadSpec is one load phase.
type loadSpec struct {
	signal   signal
	target   string        // host:port of obsd's OTLP gRPC receiver
	requests [][]byte      // pre-encoded requests, perReq items each
	perReq   int           // items per request
	workers  int           // concurrent in-flight requests
	rate     float64       // items per second; 0 means as fast as acknowledged
	duration time.Duration // how long to send
	probes   *probeBook    // when set, a probe request is sent every probeEvery
}

// loadResult is what one phase sent and what obsd acknowledged.
type loadResult struct {
	sentItems, ackedItems, refusedItems int64
	refusedCodes                        map[string]int64
	elapsed                             time.Duration
	ackP50, ackP99                      time.Duration
}

// Probes are small requests sent every probeEvery alongside the load.
const (
	probeEvery = 20 * time.Millisecond
	probeSize  = 10
)

// runLoad drives obsd over conns gRPC connections until the duration ends.
func runLoad(ctx context.Context, spec loadSpec) (loadResult, error) {
	conns := make([]*grpc.ClientConn, 4)
	for i := range conns {
		c, err := grpc.NewClient(spec.target,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})))
		if err != nil {
			return loadResult{}, err
		}
		defer c.Close()
		conns[i] = c
	}
	var limiter *rate.Limiter
	if spec.rate > 0 {
		reqPerSec := spec.rate / float64(spec.perReq)
		limiter = rate.NewLimiter(rate.Limit(reqPerSec), spec.workers)
	}
	ctx, cancel := context.WithTimeout(ctx, spec.duration)
	defer cancel()

	var sent, acked, refused atomic.Int64
	var mu sync.Mutex
	codes := map[string]int64{}
	lat := make([][]time.Duration, spec.workers)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < spec.workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			conn := conns[w%len(conns)]
			var resp []byte
			for i := w; ; i += spec.workers {
				if limiter != nil && limiter.Wait(ctx) != nil {
					return
				}
				if ctx.Err() != nil {
					return
				}
				req := spec.requests[i%len(spec.requests)]
				t0 := time.Now()
				sent.Add(int64(spec.perReq))
				err := conn.Invoke(context.Background(), spec.signal.grpcMethod(), &req, &resp)
				d := time.Since(t0)
				if err != nil {
					refused.Add(int64(spec.perReq))
					mu.Lock()
					codes[status.Code(err).String()]++
					mu.Unlock()
					continue
				}
				acked.Add(int64(spec.perReq))
				if len(lat[w]) < 200_000 {
					lat[w] = append(lat[w], d)
				}
			}
		}(w)
	}
	if spec.probes != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			spec.probes.run(ctx, conns[0], spec)
		}()
	}
	wg.Wait()
	res := loadResult{
		sentItems: sent.Load(), ackedItems: acked.Load(), refusedItems: refused.Load(),
		refusedCodes: codes, elapsed: time.Since(start),
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	res.ackP50, res.ackP99 = percentile(all, 0.50), percentile(all, 0.99)
	return res, nil
}

func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[int(float64(len(d)-1)*q)]
}

// probeBook times probe requests from send to arrival at the sink: the
// end-to-end latency obsd adds (receive, process, queue, batch, export).
type probeBook struct {
	mu      sync.Mutex
	sentAt  map[int64]time.Time
	latency []time.Duration
	next    int64
}

func newProbeBook() *probeBook { return &probeBook{sentAt: map[int64]time.Time{}} }

func (p *probeBook) run(ctx context.Context, conn *grpc.ClientConn, spec loadSpec) {
	t := time.NewTicker(probeEvery)
	defer t.Stop()
	var resp []byte
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.mu.Lock()
		seq := p.next
		p.next++
		p.mu.Unlock()
		req, err := encodeRequest(spec.signal, uint64(seq), probeSize, seq)
		if err != nil {
			return
		}
		p.mu.Lock()
		p.sentAt[seq] = time.Now()
		p.mu.Unlock()
		if conn.Invoke(context.Background(), spec.signal.grpcMethod(), &req, &resp) != nil {
			p.mu.Lock()
			delete(p.sentAt, seq)
			p.mu.Unlock()
		}
	}
}

// arrived records a probe seen by the sink (each probe's resources arrive
// together or in parts; the first arrival counts).
func (p *probeBook) arrived(seq int64, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t, ok := p.sentAt[seq]; ok {
		p.latency = append(p.latency, at.Sub(t))
		delete(p.sentAt, seq)
	}
}

// sent is the number of probes sent so far.
func (p *probeBook) sent() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.next
}

func (p *probeBook) p99() (time.Duration, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := append([]time.Duration(nil), p.latency...)
	return percentile(l, 0.99), len(l)
}
