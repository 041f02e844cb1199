package correlation

import (
	"context"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/obsd-dev/obsd/internal/instruments"
	"github.com/obsd-dev/obsd/processors/correlation/internal/ids"
)

// Outcomes of a log record; their names are the `outcome` label values.
const (
	outcomePresent = iota
	outcomeLifted
	outcomeMissing
	outcomeInvalid
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"present", "lifted", "missing", "invalid"}

const (
	otherService   = "other"
	unknownService = "unknown"
	noSource       = "none"
)

// telemetry owns the processor's instruments and the pre-built attribute
// sets per service, so that recording never allocates on the hot path.
// The number of services is capped; the rest share service="other".
type telemetry struct {
	records  metric.Int64Counter
	invalid  metric.Int64Counter
	dropped  metric.Int64Counter
	routed   metric.Int64Counter
	orphans  metric.Int64Counter
	upper    metric.Int64Counter
	padded   metric.Int64Counter
	spans    metric.Int64Counter
	coverage metric.Float64ObservableGauge
	reg      metric.Registration

	sources  []string // lifted source labels, one per key entry
	policies []string // policy labels, default last

	mu          sync.RWMutex
	services    map[string]*serviceState
	order       []*serviceState
	maxServices int
}

// serviceState holds one service's attribute sets and coverage counts.
type serviceState struct {
	name    string
	total   atomic.Int64
	covered atomic.Int64

	// Options are kept as ready-made slices: passing a slice to a
	// variadic Add does not allocate, building one per call would.
	svcObs  []metric.ObserveOption
	svc     addOpts
	outcome [numOutcomes]addOpts // source="none"
	lifted  []addOpts            // per key entry
	reasons [ids.NumReasons]addOpts
	policy  []addOpts
	spanOut [3]addOpts
}

type addOpts []metric.AddOption

func withSet(kvs ...attribute.KeyValue) addOpts { return instruments.AddOptions(kvs...) }

var spanOutcomeNames = [3]string{"present", "normalized", "missing"}

func newTelemetry(set component.TelemetrySettings, sources, policies []string, maxServices int, withCoverage bool) (*telemetry, error) {
	b := instruments.NewBuilder(set.MeterProvider, scopeName)
	t := &telemetry{sources: sources, policies: policies, services: map[string]*serviceState{}, maxServices: maxServices}
	t.records = b.Int64Counter("obsd_correlation_log_records_total", metric.WithDescription("Log records seen, by correlation outcome (present, lifted, missing, invalid) and the field ids were lifted from."))
	t.invalid = b.Int64Counter("obsd_correlation_invalid_total", metric.WithDescription("Log records whose only ids were invalid, by reason."))
	t.dropped = b.Int64Counter("obsd_correlation_dropped_total", metric.WithDescription("Log records dropped by a drop policy."))
	t.routed = b.Int64Counter("obsd_correlation_routed_total", metric.WithDescription("Log records marked for the quarantine route by a route policy."))
	t.orphans = b.Int64Counter("obsd_correlation_orphan_log_records_total", metric.WithDescription("Log records with a valid trace id that no span seen within the orphan window carried."))
	t.upper = b.Int64Counter("obsd_correlation_uppercase_ids_total", metric.WithDescription("Lifted ids written in uppercase hex (accepted)."))
	t.padded = b.Int64Counter("obsd_correlation_padded_ids_total", metric.WithDescription("Lifted 64-bit trace ids left-padded to 128 bits."))
	t.spans = b.Int64Counter("obsd_correlation_spans_total", metric.WithDescription("Spans seen, by whether the correlation attribute was present, normalized from a correlation key, or missing."))
	if withCoverage {
		t.coverage = b.Float64ObservableGauge("obsd_correlation_coverage_ratio", metric.WithDescription("Fraction of log records, since start, whose ids were present or lifted."))
		t.reg = b.RegisterCallback(t.observeCoverage, t.coverage)
	}
	if err := b.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *telemetry) observeCoverage(_ context.Context, o metric.Observer) error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, s := range t.order {
		if total := s.total.Load(); total > 0 {
			o.ObserveFloat64(t.coverage, float64(s.covered.Load())/float64(total), s.svcObs...)
		}
	}
	return nil
}

func (t *telemetry) shutdown() {
	if t.reg != nil {
		_ = t.reg.Unregister()
	}
}

// service returns the state of the named service, creating it (or falling
// back to "other" past the cap). Lookups of known services do not allocate.
func (t *telemetry) service(name string) *serviceState {
	if name == "" {
		name = unknownService
	}
	t.mu.RLock()
	s, ok := t.services[name]
	t.mu.RUnlock()
	if ok {
		return s
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if s, ok = t.services[name]; ok {
		return s
	}
	if len(t.services) >= t.maxServices {
		if s, ok = t.services[otherService]; ok {
			return s
		}
		name = otherService
	}
	s = t.newServiceState(name)
	t.services[name] = s
	t.order = append(t.order, s)
	return s
}

func (t *telemetry) newServiceState(name string) *serviceState {
	svc := attribute.String("service", name)
	s := &serviceState{name: name, svc: withSet(svc), svcObs: instruments.ObserveOptions(svc)}
	for o := range numOutcomes {
		s.outcome[o] = withSet(svc, attribute.String("outcome", outcomeNames[o]), attribute.String("source", noSource))
	}
	s.lifted = make([]addOpts, len(t.sources))
	for i, src := range t.sources {
		s.lifted[i] = withSet(svc, attribute.String("outcome", outcomeNames[outcomeLifted]), attribute.String("source", src))
	}
	for r := range ids.NumReasons {
		s.reasons[r] = withSet(svc, attribute.String("reason", ids.Reason(r).String()))
	}
	s.policy = make([]addOpts, len(t.policies))
	for i, p := range t.policies {
		s.policy[i] = withSet(svc, attribute.String("policy", p))
	}
	for i, o := range spanOutcomeNames {
		s.spanOut[i] = withSet(svc, attribute.String("outcome", o))
	}
	return s
}

// counts accumulates one resource's outcomes so that instruments are
// touched once per resource, not once per record.
type counts struct {
	outcome [numOutcomes]int64
	lifted  [ids.MaxKeys]int64
	reasons [ids.NumReasons]int64
	dropped int64
	routed  int64
	orphans int64
	upper   int64
	padded  int64
	spans   [3]int64
}

func (t *telemetry) flush(ctx context.Context, s *serviceState, policy int, c *counts) {
	var total int64
	for o := range numOutcomes {
		total += c.outcome[o]
		if o != outcomeLifted && c.outcome[o] > 0 {
			t.records.Add(ctx, c.outcome[o], s.outcome[o]...)
		}
	}
	if c.outcome[outcomeLifted] > 0 {
		for i := range s.lifted {
			if c.lifted[i] > 0 {
				t.records.Add(ctx, c.lifted[i], s.lifted[i]...)
			}
		}
	}
	for r := 1; r < ids.NumReasons; r++ {
		if c.reasons[r] > 0 {
			t.invalid.Add(ctx, c.reasons[r], s.reasons[r]...)
		}
	}
	addIf(ctx, t.dropped, c.dropped, s.policy[policy])
	addIf(ctx, t.routed, c.routed, s.policy[policy])
	addIf(ctx, t.orphans, c.orphans, s.svc)
	addIf(ctx, t.upper, c.upper, s.svc)
	addIf(ctx, t.padded, c.padded, s.svc)
	for i := range c.spans {
		addIf(ctx, t.spans, c.spans[i], s.spanOut[i])
	}
	if total > 0 {
		s.total.Add(total)
		s.covered.Add(c.outcome[outcomePresent] + c.outcome[outcomeLifted])
	}
}

func addIf(ctx context.Context, c metric.Int64Counter, n int64, opts addOpts) {
	if n > 0 {
		c.Add(ctx, n, opts...)
	}
}
