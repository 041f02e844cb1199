package sloconnector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/consumer"
	"go.uber.org/zap"

	"github.com/obsd-dev/obsd/alerting"
	"github.com/obsd-dev/obsd/slo"
	"github.com/obsd-dev/obsd/slo/formats"
	"github.com/obsd-dev/obsd/slo/spec"
)

// Connector-own point outcomes, next to the engine's slo.Outcome names.
const (
	outcomeFuture      = "too_far_future" // stamped beyond max_future_skew
	outcomeBadBoundary = "bad_threshold"  // latency threshold not a bucket boundary
	outcomeMalformed   = "malformed_body" // a log SLI read a field of a body that is not a JSON object
	numOwnOutcomes     = 3
)

// Indexes of shared.own.
const (
	outFuture = iota
	outBadBoundary
	outMalformed
)

// shared is the state of one connector component ID: one engine fed by
// its traces, metrics and logs instances, one evaluation loop, one
// alerting manager.
type shared struct {
	id     component.ID
	cfg    *Config
	logger *zap.Logger
	now    func() time.Time
	engine *slo.Engine
	slos   []compiledSLO
	// spanSLOs are the span SLIs by service.name, so a span is matched
	// only against the SLIs of its own service.
	spanSLOs map[string][]compiledSLO
	// logSLOs are the log SLIs by service.name.
	logSLOs map[string][]compiledSLO
	alerts  *alerting.Manager
	tel     *telemetry
	// board is what the status page shows (status.go).
	board *board
	// next receives the emitted metrics: the latest created instance's
	// consumer (every instance of one ID feeds the same pipelines; the
	// latest wins if a partial reload rebuilds some of them).
	next    atomic.Pointer[consumer.Metrics]
	started time.Time

	own [numOwnOutcomes]atomic.Uint64
	// overflow[slo] counts the points (data points, spans, log records)
	// routed to the SLO's overflow instance; overflowLogged: logged once.
	overflow       []atomic.Uint64
	overflowLogged []atomic.Bool
	// anyLogSLI: some SLO counts log records.
	anyLogSLI bool
	// restoreFailures counts state files that could not be read at start:
	// [0] the SLO snapshot, [1] the alerting state.
	restoreFailures [2]atomic.Uint64
	// boundaryLogged: one log line per SLO for a bad latency threshold.
	boundaryLogged sync.Map

	mu      sync.Mutex
	refs    int // created instances not yet shut down
	running int // started instances
	cancel  context.CancelFunc
	// alertsStopped: the manager was shut down (once, guarded by mu).
	alertsStopped bool
	wg            sync.WaitGroup
}

// compiledSLO is a spec with its engine index.
type compiledSLO struct {
	idx  int
	spec *spec.SLO
	// spanName and spanRoute match a span SLI's name and route; a pattern
	// without regular-expression syntax is compared as a plain string.
	spanName, spanRoute anchoredMatcher
}

// anchoredMatcher matches a fully anchored spec regexp, comparing
// literal patterns as strings (most routes are literals, and a span is
// matched against every SLI of its service).
type anchoredMatcher struct {
	re      *regexp.Regexp
	literal string
	isLit   bool
}

func newAnchoredMatcher(re *regexp.Regexp) anchoredMatcher {
	if re == nil {
		return anchoredMatcher{}
	}
	inner := strings.TrimSuffix(strings.TrimPrefix(re.String(), "^(?:"), ")$")
	if inner != re.String() && regexp.QuoteMeta(inner) == inner {
		return anchoredMatcher{re: re, literal: inner, isLit: true}
	}
	return anchoredMatcher{re: re}
}

// match reports whether s matches; a nil pattern matches everything.
func (m *anchoredMatcher) match(s string) bool {
	switch {
	case m.isLit:
		return s == m.literal
	case m.re == nil:
		return true
	}
	return m.re.MatchString(s)
}

func newShared(id component.ID, cfg *Config, set component.TelemetrySettings, now func() time.Time) (*shared, error) {
	slos, err := formats.Load(cfg.SLOs...)
	if err != nil {
		return nil, fmt.Errorf("could not load slos: %w", err)
	}
	s := &shared{id: id, cfg: cfg, logger: set.Logger, now: now}
	if s.logger == nil {
		s.logger = zap.NewNop()
	}
	if cfg.hasAlerting() {
		s.alerts, err = alerting.NewManager(*cfg.Alerting, alerting.Settings{
			Dir:           s.path("alerting"),
			MeterProvider: set.MeterProvider,
			Logger:        s.logger,
			Now:           now,
		})
		if err != nil {
			return nil, err
		}
	}
	s.engine, err = slo.NewEngine(slos, slo.Options{Notifier: slo.NotifierFunc(s.notify), CountFrom: now()})
	if err != nil {
		return nil, fmt.Errorf("could not build the slo engine: %w", err)
	}
	for _, sp := range s.engine.SLOs() {
		i, _ := s.engine.SLOIndex(sp.Name)
		c := compiledSLO{idx: i, spec: sp}
		if sli := sp.SLI.Spans; sli != nil {
			c.spanName, c.spanRoute = newAnchoredMatcher(sli.Name), newAnchoredMatcher(sli.Route)
		}
		s.slos = append(s.slos, c)
		s.anyLogSLI = s.anyLogSLI || sp.SLI.Logs != nil
	}
	for _, c := range s.slos {
		if sli := c.spec.SLI.Spans; sli != nil {
			if s.spanSLOs == nil {
				s.spanSLOs = map[string][]compiledSLO{}
			}
			s.spanSLOs[sli.Service] = append(s.spanSLOs[sli.Service], c)
		}
		if sli := c.spec.SLI.Logs; sli != nil {
			if s.logSLOs == nil {
				s.logSLOs = map[string][]compiledSLO{}
			}
			s.logSLOs[sli.Service] = append(s.logSLOs[sli.Service], c)
		}
	}
	s.overflow = make([]atomic.Uint64, len(s.slos))
	s.overflowLogged = make([]atomic.Bool, len(s.slos))
	s.board = newBoard(id, s.engine.SLOs(), s.alerts)
	if s.tel, err = newTelemetry(set.MeterProvider, s); err != nil {
		return nil, err
	}
	return s, nil
}

// path names a file of this component under the state directory ("" when
// persistence is off).
func (s *shared) path(suffix string) string {
	if s.cfg.State.Directory == "" {
		return ""
	}
	name := strings.NewReplacer("/", "_", "\\", "_").Replace(s.id.String())
	return filepath.Join(s.cfg.State.Directory, "slo-"+name+"."+suffix)
}

// notify is the adapter from the engine's Notifier to alerting.Manager:
// it copies every slo.AlertTransition into an alerting.Transition.
func (s *shared) notify(_ context.Context, ts []slo.AlertTransition) {
	s.board.record(ts)
	if s.alerts == nil || len(ts) == 0 {
		return
	}
	out := make([]alerting.Transition, len(ts))
	for i, t := range ts {
		out[i] = toAlerting(t)
	}
	s.alerts.Notify(out...)
}

// toAlerting copies an slo.AlertTransition into an alerting.Transition.
func toAlerting(t slo.AlertTransition) alerting.Transition {
	return alerting.Transition{
		SLO: t.SLO, Service: t.Service, Labels: t.Labels, Annotations: t.Annotations,
		Severity: t.Severity, State: t.State,
		LongWindow: t.LongWindow, ShortWindow: t.ShortWindow,
		BurnRateLong: t.BurnRateLong, BurnRateShort: t.BurnRateShort, Threshold: t.Threshold,
		Objective: t.Objective, BudgetRemaining: t.BudgetRemaining,
		TimeToExhaustion: t.TimeToExhaustion,
		Events:           t.Events, BadEvents: t.BadEvents,
		ActiveSince: t.ActiveSince, At: t.At,
	}
}

// start restores the state (first start only) and launches the loop.
func (s *shared) start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running++
	if s.running > 1 {
		return nil
	}
	s.started = s.now()
	s.restore()
	if s.alerts != nil {
		if err := s.alerts.Start(ctx); err != nil {
			return err
		}
	}
	loopCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(1)
	go s.loop(loopCtx)
	return nil
}

// restore loads the snapshot and the alerting state; a corrupt file is
// logged (the engine moves it aside) and obsd starts fresh.
func (s *shared) restore() {
	p := s.path("snapshot.json")
	if p == "" {
		return
	}
	if err := os.MkdirAll(s.cfg.State.Directory, 0o750); err != nil {
		s.logger.Error("cannot create the slo state directory", zap.Error(err))
	}
	if err := s.engine.RestoreSnapshot(p, s.now()); err != nil {
		s.restoreFailures[0].Add(1)
		s.logger.Error("slo snapshot unreadable, starting fresh", zap.String("path", p), zap.Error(err))
	}
	if s.alerts == nil {
		return
	}
	data, err := os.ReadFile(s.path("alerting.json"))
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	var st alerting.State
	if err == nil {
		err = json.Unmarshal(data, &st)
	}
	if err != nil {
		s.restoreFailures[1].Add(1)
		s.logger.Error("alerting state unreadable, starting fresh", zap.Error(err))
		return
	}
	s.alerts.ImportState(st)
}

// loop evaluates every evaluation_interval and snapshots every
// snapshot_interval until ctx ends.
func (s *shared) loop(ctx context.Context) {
	defer s.wg.Done()
	eval := time.NewTicker(s.cfg.EvaluationInterval)
	defer eval.Stop()
	snap := time.NewTicker(s.cfg.State.SnapshotInterval)
	defer snap.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-eval.C:
			s.evaluate(ctx, s.now())
		case <-snap.C:
			s.snapshot()
		}
	}
}

// evaluate runs one evaluation: metrics to the next consumer and to the
// self-telemetry, transitions to alerting.
func (s *shared) evaluate(ctx context.Context, now time.Time) {
	// Dead series (pods gone, label churn) must not pile up. The horizon is
	// long on purpose: a forgotten series that comes back with the same
	// start time would count its whole cumulative value again.
	if n := s.engine.ForgetSeries(now.Add(-seriesIdleTimeout)); n > 0 {
		s.logger.Debug("forgot idle slo series", zap.Int("series", n))
	}
	em := newEmitter(now, s.started)
	var recs []record
	s.engine.Evaluate(ctx, now, func(st *slo.Status) {
		s.board.observe(st)
		r := newRecord(st)
		recs = append(recs, r)
		em.add(&r)
	})
	s.tel.setRecords(recs)
	next := s.next.Load()
	if next == nil || len(recs) == 0 {
		return
	}
	if err := (*next).ConsumeMetrics(ctx, em.md); err != nil {
		s.logger.Warn("slo metrics refused by the next consumer", zap.Error(err))
	}
}

// seriesIdleTimeout is how long a series may send nothing before its
// cumulative-to-delta state is dropped.
const seriesIdleTimeout = 24 * time.Hour

// snapshot writes the engine snapshot and the alerting state.
func (s *shared) snapshot() {
	p := s.path("snapshot.json")
	if p == "" {
		return
	}
	if err := s.engine.WriteSnapshot(p, s.now()); err != nil {
		s.logger.Error("cannot write the slo snapshot", zap.Error(err))
	}
	if s.alerts == nil {
		return
	}
	data, err := json.Marshal(s.alerts.ExportState())
	if err == nil {
		err = writeAtomic(s.path("alerting.json"), data)
	}
	if err != nil {
		s.logger.Error("cannot write the alerting state", zap.Error(err))
	}
}

// shutdown stops the loop with the last started instance, snapshots and
// stops alerting. It reports whether the shared state is now unused.
func (s *shared) shutdown(ctx context.Context, wasStarted bool) (last bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refs--
	if wasStarted {
		s.running--
		if s.running == 0 {
			s.cancel()
			s.wg.Wait()
			s.snapshot()
			err = s.stopAlerts(ctx)
		}
	}
	if s.refs == 0 {
		err = errors.Join(err, s.stopAlerts(ctx))
		err = errors.Join(err, s.tel.unregister())
		return true, err
	}
	return false, err
}

// stopAlerts shuts the alerting manager down once.
func (s *shared) stopAlerts(ctx context.Context) error {
	if s.alerts == nil || s.alertsStopped {
		return nil
	}
	s.alertsStopped = true
	return s.alerts.Shutdown(ctx)
}

// writeAtomic writes data to path through a synced temp file and a rename.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return err
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
