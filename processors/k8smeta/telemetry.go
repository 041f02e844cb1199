package k8smeta

import (
	"context"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/obsd-dev/obsd/internal/instruments"
	"github.com/obsd-dev/obsd/processors/k8smeta/internal/pods"
)

// How a resource found its pod; the names are the `association` label.
const (
	assocUID = iota
	assocIP
	assocConnection
	numAssoc
)

var assocNames = [numAssoc]string{AssociatePodUID, AssociatePodIP, AssociateConnection}

// telemetry owns the processor's instruments. Label sets are built once;
// recording never allocates.
//
//	obsd_k8smeta_lookups_total{signal, result="hit"|"miss", association}
//	obsd_k8smeta_refreshes_total{outcome="ok"|"error"}
//	obsd_k8smeta_pods, obsd_k8smeta_pods_unindexed{reason="max_pods"|"ambiguous_ip"}
//	obsd_k8smeta_last_refresh_timestamp_seconds
type telemetry struct {
	lookups   metric.Int64Counter
	refreshes metric.Int64Counter
	reg       metric.Registration
	lastOKNs  atomic.Int64

	okOpts, errOpts []metric.AddOption
	// observeIndex returns the current index, for the gauges.
	observeIndex func() *pods.Index
	podsGauge    metric.Int64ObservableGauge
	unindexed    metric.Int64ObservableGauge
	lastRefresh  metric.Float64ObservableGauge
	maxPodsObs   []metric.ObserveOption
	ambiguousObs []metric.ObserveOption
}

// lookupOpts are the ready-made label sets of one signal's lookups.
type lookupOpts struct {
	hit  [numAssoc][]metric.AddOption
	miss []metric.AddOption
}

// newTelemetry builds the instruments; the gauges read observeIndex.
func newTelemetry(set component.TelemetrySettings, observeIndex func() *pods.Index) (*telemetry, error) {
	b := instruments.NewBuilder(set.MeterProvider, scopeName)
	t := &telemetry{
		observeIndex: observeIndex,
		okOpts:       instruments.AddOptions(attribute.String("outcome", "ok")),
		errOpts:      instruments.AddOptions(attribute.String("outcome", "error")),
		maxPodsObs:   instruments.ObserveOptions(attribute.String("reason", "max_pods")),
		ambiguousObs: instruments.ObserveOptions(attribute.String("reason", "ambiguous_ip")),
	}
	t.lookups = b.Int64Counter("obsd_k8smeta_lookups_total", metric.WithDescription("Resources looked up in the pod cache, by signal, result (hit, miss) and how the pod was found (k8s.pod.uid, k8s.pod.ip, connection; none on a miss)."))
	t.refreshes = b.Int64Counter("obsd_k8smeta_refreshes_total", metric.WithDescription("Pod list fetches, by outcome (ok, error)."))
	t.podsGauge = b.Int64ObservableGauge("obsd_k8smeta_pods", metric.WithDescription("Pods in the cache."))
	t.unindexed = b.Int64ObservableGauge("obsd_k8smeta_pods_unindexed", metric.WithDescription("Pods (max_pods) or IPs (ambiguous_ip) of the last pod list left out of the cache."))
	t.lastRefresh = b.Float64ObservableGauge("obsd_k8smeta_last_refresh_timestamp_seconds", metric.WithDescription("Unix time of the last successful pod list fetch."), metric.WithUnit("s"))
	t.reg = b.RegisterCallback(t.observe, t.podsGauge, t.unindexed, t.lastRefresh)
	if err := b.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *telemetry) lookupOpts(signal string) *lookupOpts {
	o := &lookupOpts{}
	sig := attribute.String("signal", signal)
	for a := range numAssoc {
		o.hit[a] = instruments.AddOptions(sig, attribute.String("result", "hit"), attribute.String("association", assocNames[a]))
	}
	o.miss = instruments.AddOptions(sig, attribute.String("result", "miss"), attribute.String("association", "none"))
	return o
}

func (t *telemetry) observe(_ context.Context, o metric.Observer) error {
	x := t.observeIndex()
	if x == nil {
		return nil
	}
	o.ObserveInt64(t.podsGauge, int64(x.Len()))
	o.ObserveInt64(t.unindexed, int64(x.Truncated), t.maxPodsObs...)
	o.ObserveInt64(t.unindexed, int64(x.Ambiguous), t.ambiguousObs...)
	if ns := t.lastOKNs.Load(); ns > 0 {
		o.ObserveFloat64(t.lastRefresh, float64(ns)/1e9)
	}
	return nil
}

func (t *telemetry) refreshed(ctx context.Context, err error) {
	if err != nil {
		t.refreshes.Add(ctx, 1, t.errOpts...)
		return
	}
	t.lastOKNs.Store(time.Now().UnixNano())
	t.refreshes.Add(ctx, 1, t.okOpts...)
}

func (t *telemetry) shutdown() {
	if t.reg != nil {
		_ = t.reg.Unregister()
	}
}

// counts accumulates one request's lookups so that the counter is touched
// once per request, not once per resource.
type counts struct {
	hit  [numAssoc]int64
	miss int64
}

func (t *telemetry) flush(ctx context.Context, o *lookupOpts, c *counts) {
	for a := range numAssoc {
		if c.hit[a] > 0 {
			t.lookups.Add(ctx, c.hit[a], o.hit[a]...)
		}
	}
	if c.miss > 0 {
		t.lookups.Add(ctx, c.miss, o.miss...)
	}
}
