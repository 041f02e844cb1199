package alerting

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/obsd-dev/obsd/internal/breakerstate"
	"github.com/obsd-dev/obsd/slo/contract"
)

// Settings are the runtime dependencies of a Manager.
type Settings struct {
	// Dir holds one outbox directory per destination. Required.
	Dir string
	// MeterProvider receives the obsd_alerts_* metrics; nil means none.
	MeterProvider metric.MeterProvider
	// Logger; nil means no logging.
	Logger *zap.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Manager owns the alert lifecycle, routing and delivery. Notify is safe for
// concurrent use; Start and Shutdown are called once each.
type Manager struct {
	cfg     Config
	set     Settings
	builder builder
	route   *Route
	life    *lifecycle
	dests   []*destination // sorted by name
	byName  map[string]*destination
	metrics *metrics
	// order serialises lifecycle decisions with their enqueueing, so that a
	// resend computed by Tick cannot overtake a resolve made by Notify.
	order sync.Mutex

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewManager validates cfg and opens the outboxes under set.Dir; batches
// left there by a previous process are delivered once Start is called.
func NewManager(cfg Config, set Settings) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid alerting config: %w", err)
	}
	if set.Dir == "" {
		return nil, errors.New("alerting: settings need an outbox directory")
	}
	if set.Logger == nil {
		set.Logger = zap.NewNop()
	}
	if set.Now == nil {
		set.Now = time.Now
	}
	tmpl, err := compileTemplates(cfg.Templates)
	if err != nil {
		return nil, err
	}
	route, err := NewRoute(cfg.Route, cfg.Destinations)
	if err != nil {
		return nil, err
	}
	m := &Manager{
		cfg: cfg, set: set, route: route,
		builder: builder{alertName: cfg.AlertName, tmpl: tmpl},
		life:    newLifecycle(cfg.ResendInterval, cfg.endsAtLead(), cfg.ResolvedRetention),
		byName:  map[string]*destination{},
	}
	corrupt := map[string]int{}
	for name, dc := range cfg.Destinations {
		ob, n, err := openOutbox(filepath.Join(set.Dir, name), cfg.Delivery.MaxQueued)
		if err != nil {
			return nil, err
		}
		corrupt[name] = n
		d, err := newDestination(name, dc, cfg.Delivery, ob, set.Now, set.Logger)
		if err != nil {
			return nil, err
		}
		m.dests = append(m.dests, d)
		m.byName[name] = d
	}
	sort.Slice(m.dests, func(i, j int) bool { return m.dests[i].name < m.dests[j].name })
	if m.metrics, err = newMetrics(set.MeterProvider, m); err != nil {
		return nil, err
	}
	for _, d := range m.dests {
		d.metrics = m.metrics
		if f := cfg.Destinations[d.name].Fallback; f != nil {
			d.fallback, d.after = m.byName[f.Destination], f.After
		}
		if n := corrupt[d.name]; n > 0 {
			set.Logger.Warn("corrupt outbox files moved aside", zap.String("destination", d.name), zap.Int("files", n))
			m.metrics.count(d.name, OutcomeCorrupt, n)
		}
	}
	return m, nil
}

// Start launches one sender per destination and the resend loop.
func (m *Manager) Start(_ context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	for _, d := range m.dests {
		m.wg.Add(1)
		go d.run(ctx, &m.wg)
	}
	m.wg.Add(1)
	go m.resendLoop(ctx)
	return nil
}

// Shutdown stops the senders; what is still queued stays in the outboxes.
func (m *Manager) Shutdown(_ context.Context) error {
	if m.cancel != nil {
		m.cancel()
	}
	m.wg.Wait()
	return m.metrics.reg.Unregister()
}

func (m *Manager) resendLoop(ctx context.Context) {
	defer m.wg.Done()
	tick := m.cfg.ResendInterval / 4
	tick = min(max(tick, 10*time.Millisecond), 15*time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.Tick(m.set.Now())
		}
	}
}

// Tick re-sends the firing and recently resolved alerts that are due at now.
// The resend loop started by Start calls it; tests may call it directly.
func (m *Manager) Tick(now time.Time) {
	m.order.Lock()
	defer m.order.Unlock()
	m.dispatch(m.life.due(now))
}

// Notify applies SLO alert transitions: pending ones are remembered, firing
// ones are sent (and later re-sent), resolved ones are sent as resolved. A
// template that fails at runtime drops only its annotation, and is logged.
func (m *Manager) Notify(ts ...contract.Transition) {
	m.order.Lock()
	defer m.order.Unlock()
	var out []Alert
	for i := range ts {
		t := &ts[i]
		a, err := m.builder.build(t)
		if err != nil {
			m.set.Logger.Warn("alert template failed", zap.String("slo", t.SLO), zap.Error(err))
		}
		// Alertmanager keeps the later endsAt of an alert it still sees as
		// active, so a transition time in the future (clock skew) would make
		// it ignore a resolve: clamp it to now.
		at := t.At
		if now := m.set.Now(); at.IsZero() || at.After(now) {
			at = now
		}
		if send, ok := m.life.apply(a, t.State, t.Severity, at); ok {
			out = append(out, send)
		}
	}
	m.dispatch(out)
}

// dispatch routes alerts and appends one batch per destination to its outbox.
func (m *Manager) dispatch(alerts []Alert) {
	if len(alerts) == 0 {
		return
	}
	per := map[string][]Alert{}
	for _, a := range alerts {
		for _, r := range m.route.Receivers(labelSet(a.Labels)) {
			per[r] = append(per[r], a)
		}
	}
	for _, d := range m.dests {
		batch := per[d.name]
		if len(batch) == 0 {
			continue
		}
		dropped, err := d.outbox.push(batch)
		if err != nil {
			m.set.Logger.Error("could not queue alerts", zap.String("destination", d.name), zap.Error(err))
			dropped = len(batch)
		}
		m.metrics.count(d.name, OutcomeDropped, dropped)
	}
}

// ExportState returns the active-alert set, for the SLO snapshot.
func (m *Manager) ExportState() State { return m.life.export() }

// ImportState replaces the active-alert set with one exported before a
// restart; alerts are re-sent when their resend interval is due, not at once.
func (m *Manager) ImportState(st State) { m.life.load(st) }

// QueueDepth returns the number of alerts held in a destination's outbox.
func (m *Manager) QueueDepth(destination string) int {
	if d, ok := m.byName[destination]; ok {
		return d.outbox.depth()
	}
	return 0
}

// CircuitState returns the breaker state of a destination's endpoints, keyed
// by their metric label.
func (m *Manager) CircuitState(destination string) map[string]breakerstate.State {
	out := map[string]breakerstate.State{}
	if d, ok := m.byName[destination]; ok {
		for _, ep := range d.endpoints {
			out[ep.label] = ep.breaker.State()
		}
	}
	return out
}
