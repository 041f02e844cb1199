package ratelimit

import (
	"context"
	"sync"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/obsd-dev/obsd/extensions/ratelimit/internal/limiter"
	"github.com/obsd-dev/obsd/internal/instruments"
)

// Instrument names are the exact Prometheus names (obsd's telemetry exports
// without type or unit suffixes).
const (
	metricRequests        = "obsd_ratelimit_requests_total"
	metricGlobalRefusals  = "obsd_ratelimit_global_refusals_total"
	metricTrackedClients  = "obsd_ratelimit_tracked_clients"
	metricEvictedClients  = "obsd_ratelimit_evicted_clients_total"
	outcomeAllowed        = "allowed"
	outcomeRefused        = "refused"
	labelClient           = "client"
	labelTier             = "tier"
	labelOutcome          = "outcome"
	attrCacheInitCapacity = 128
)

type labelKey struct{ client, tier string }

// telemetry records decisions. Attribute sets are built once per (client
// label, tier) and cached; the cache is bounded because client labels are
// (max_label_clients + 1 values, times the tiers).
type telemetry struct {
	requests       metric.Int64Counter
	globalRefusals metric.Int64Counter
	registration   metric.Registration

	mu    sync.RWMutex
	attrs map[labelKey]*[2][]metric.AddOption // [allowed, refused], ready to spread
}

func newTelemetry(set component.TelemetrySettings, lim *limiter.Limiter) (*telemetry, error) {
	b := instruments.NewBuilder(set.MeterProvider, scopeName)
	t := &telemetry{attrs: make(map[labelKey]*[2][]metric.AddOption, attrCacheInitCapacity)}
	t.requests = b.Int64Counter(metricRequests,
		metric.WithDescription("Requests seen by the rate limiter, by client (bounded: top clients, the rest as \"other\"), tier and outcome (allowed|refused)."),
		metric.WithUnit("{request}"))
	t.globalRefusals = b.Int64Counter(metricGlobalRefusals,
		metric.WithDescription("Requests refused because the global bucket was empty (the client was under its own limit)."),
		metric.WithUnit("{request}"))
	tracked := b.Int64ObservableGauge(metricTrackedClients,
		metric.WithDescription("Clients currently holding a bucket in the bounded client table."),
		metric.WithUnit("{client}"))
	evicted := b.Int64ObservableCounter(metricEvictedClients,
		metric.WithDescription("Clients evicted from the full client table (least recently seen first)."),
		metric.WithUnit("{client}"))
	t.registration = b.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(tracked, int64(lim.Len()))
		o.ObserveInt64(evicted, int64(lim.Evictions()))
		return nil
	}, tracked, evicted)
	if err := b.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

// record counts one decision.
func (t *telemetry) record(ctx context.Context, d limiter.Decision) {
	opts := t.options(d.Label, d.Tier)
	if d.Allowed {
		t.requests.Add(ctx, 1, opts[0]...)
		return
	}
	t.requests.Add(ctx, 1, opts[1]...)
	if d.RefusedBy == limiter.ScopeGlobal {
		t.globalRefusals.Add(ctx, 1)
	}
}

func (t *telemetry) options(client, tier string) *[2][]metric.AddOption {
	k := labelKey{client, tier}
	t.mu.RLock()
	opts, ok := t.attrs[k]
	t.mu.RUnlock()
	if ok {
		return opts
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if opts, ok = t.attrs[k]; ok {
		return opts
	}
	opts = &[2][]metric.AddOption{}
	for i, outcome := range []string{outcomeAllowed, outcomeRefused} {
		opts[i] = instruments.AddOptions(
			attribute.String(labelClient, client),
			attribute.String(labelTier, tier),
			attribute.String(labelOutcome, outcome))
	}
	t.attrs[k] = opts
	return opts
}

func (t *telemetry) shutdown() error {
	if t.registration == nil {
		return nil
	}
	return t.registration.Unregister()
}
